"""Exporting areas for other systems: GeoJSON, GeoPackage, zipped Shapefile, KML, CSV with
WKT, and an Excel sheet with Chinese headers for people."""

from __future__ import annotations

import csv
import io
import math
import tempfile
import zipfile
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

import geopandas as gpd
import pandas as pd
import shapely
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from sqlalchemy.orm import Session

from app.errors import InvalidData
from app.models import LEVEL_VALUES
from app.spool import private_folder
from app.store import areas as store
from app.store.scope import Scope
from geo import geojson

FORMATS = {
    "geojson": ("application/geo+json", ".geojson"),
    "gpkg": ("application/geopackage+sqlite3", ".gpkg"),
    "shp": ("application/zip", ".zip"),
    "kml": ("application/vnd.google-earth.kml+xml", ".kml"),
    "csv": ("text/csv; charset=utf-8", ".csv"),
    "xlsx": ("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", ".xlsx"),
}
COLUMNS = ["code", "name", "level", "parent", "parent_name", "workers", "households", "area_km2"]
EXCEL_HEADERS = {
    "code": "编码",
    "name": "名称",
    "parent_name": "所属社区",
    "workers": "网格员",
    "households": "住户数",
    "area_km2": "面积（平方公里）",
}


# --- spreadsheet cells: user text is text, never a formula (OWASP "CSV injection") ---------

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def csv_cell(value):
    """A value for a CSV cell: text starting like a formula gets a leading ``'`` so that a
    spreadsheet shows it instead of evaluating it; numbers and everything else are unchanged.

    >>> [csv_cell(v) for v in ("=1+1", "-2", "@x", "网格", -2, None)]
    ["'=1+1", "'-2", "'@x", '网格', -2, None]
    """
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def csv_text(rows: Iterable[Sequence]) -> str:
    """Rows as CSV text with every cell passed through ``csv_cell``, None as empty, led by a
    byte order mark so that Excel reads the file as UTF-8."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerows(["" if v is None else csv_cell(v) for v in row] for row in rows)
    return "\ufeff" + buffer.getvalue()


def _excel_value(value):
    if isinstance(value, float) and math.isnan(value):
        return None
    if isinstance(value, str):
        # Control characters cannot be stored in the XML of a workbook.
        return ILLEGAL_CHARACTERS_RE.sub("", value)
    return value


def append_row(sheet, values: Sequence) -> None:
    """Append a row to an openpyxl sheet with every string written as a text cell (openpyxl
    would store ``=…`` as a formula), and text that starts like a formula marked with Excel's
    quote prefix, so that editing the cell does not turn it into one either.  Numbers stay
    numbers."""
    sheet.append([_excel_value(v) for v in values])
    for cell in sheet[sheet.max_row]:
        if isinstance(cell.value, str):
            cell.data_type = "s"
            if cell.value.startswith(FORMULA_STARTS):
                cell.quotePrefix = True


@dataclass(frozen=True)
class Export:
    filename: str
    mimetype: str
    data: bytes
    count: int


def _frame(rows) -> gpd.GeoDataFrame:
    frame = pd.DataFrame([{c: getattr(r, c) for c in COLUMNS} for r in rows], columns=COLUMNS)
    # Every format gets RFC 7946's winding (KML and Simple Features agree; the Shapefile
    # writer rewinds to its own) and no more than 7 decimals.
    geoms = geojson.for_output(shapely.from_wkb([bytes(r.wkb) for r in rows])) if rows else []
    return gpd.GeoDataFrame(frame, geometry=list(geoms), crs=4326)


def _write_with_gdal(frame: gpd.GeoDataFrame, suffix: str, driver: str, **options) -> bytes:
    with tempfile.TemporaryDirectory(prefix="wangge-export-", dir=private_folder()) as tmp:
        path = Path(tmp) / f"areas{suffix}"
        frame.to_file(path, driver=driver, engine="pyogrio", **options)
        return path.read_bytes()


def _shapefile_zip(frame: gpd.GeoDataFrame) -> bytes:
    with tempfile.TemporaryDirectory(prefix="wangge-export-", dir=private_folder()) as tmp:
        # Field names are at most 10 characters in a dBase file; ours already are.
        frame.rename(columns={"parent_name": "parentname"}).to_file(
            Path(tmp) / "areas.shp", driver="ESRI Shapefile", engine="pyogrio", encoding="UTF-8"
        )
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
            for part in sorted(Path(tmp).iterdir()):
                archive.write(part, part.name)
        return buffer.getvalue()


def _plain_rows(table: pd.DataFrame) -> list[list]:
    """The cells of a table as Python values (numpy scalars unwrapped, missing as None)."""
    return table.astype(object).where(table.notna(), None).values.tolist()


def _excel(frame: gpd.GeoDataFrame) -> bytes:
    from openpyxl import Workbook
    from openpyxl.styles import Font

    table = pd.DataFrame(frame[list(EXCEL_HEADERS)])
    book = Workbook()
    sheet = book.active
    sheet.title = "网格"
    append_row(sheet, list(EXCEL_HEADERS.values()))
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    for row in _plain_rows(table):
        append_row(sheet, row)
    for column, width in zip("ABCDEF", (18, 16, 14, 14, 8, 16)):
        sheet.column_dimensions[column].width = width
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def export_areas(
    session: Session,
    scope: Scope,
    fmt: str,
    *,
    level: str | None = "grid",
    parent_code: str | None = None,
) -> Export:
    if fmt not in FORMATS:
        raise InvalidData(
            f"Unknown format {fmt!r}; expected one of {', '.join(FORMATS)}.",
            details={"field": "format"},
        )
    if level is not None and level not in LEVEL_VALUES:
        raise InvalidData(f"Unknown level {level!r}.", details={"field": "level"})
    rows = store.areas_for_export(
        session, level=level, parent_code=parent_code, grid_ids=scope.grid_ids
    )
    frame = _frame(rows)
    if fmt == "geojson":
        data = frame.to_json(ensure_ascii=False, drop_id=True).encode()
    elif fmt == "gpkg":
        data = _write_with_gdal(frame, ".gpkg", "GPKG", layer="areas")
    elif fmt == "shp":
        data = _shapefile_zip(frame)
    elif fmt == "kml":
        data = _write_with_gdal(frame, ".kml", "KML")
    elif fmt == "csv":
        table = pd.DataFrame(frame.drop(columns="geometry"))
        table["wkt"] = shapely.to_wkt(frame.geometry.values, rounding_precision=7)
        data = csv_text([list(table.columns), *_plain_rows(table)]).encode()
    else:
        data = _excel(frame)
    mimetype, suffix = FORMATS[fmt]
    name = f"{parent_code or 'areas'}-{level or 'all'}{suffix}"
    return Export(name, mimetype, data, len(rows))
