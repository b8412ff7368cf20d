"""Exporting areas for other systems: GeoJSON, GeoPackage, zipped Shapefile, KML, CSV with
WKT, and an Excel sheet with Chinese headers for people."""

from __future__ import annotations

import io
import tempfile
import zipfile
from dataclasses import dataclass
from pathlib import Path

import geopandas as gpd
import pandas as pd
import shapely
from sqlalchemy.orm import Session

from app.errors import InvalidData
from app.models import LEVEL_VALUES
from app.spool import private_folder
from app.store import areas as store
from app.store.scope import Scope

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


@dataclass(frozen=True)
class Export:
    filename: str
    mimetype: str
    data: bytes
    count: int


def _frame(rows) -> gpd.GeoDataFrame:
    frame = pd.DataFrame([{c: getattr(r, c) for c in COLUMNS} for r in rows], columns=COLUMNS)
    geoms = shapely.from_wkb([bytes(r.wkb) for r in rows]) if rows else []
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


def _excel(frame: gpd.GeoDataFrame) -> bytes:
    table = pd.DataFrame(frame[list(EXCEL_HEADERS)]).rename(columns=EXCEL_HEADERS)
    buffer = io.BytesIO()
    with pd.ExcelWriter(buffer, engine="openpyxl") as writer:
        table.to_excel(writer, sheet_name="网格", index=False)
        sheet = writer.sheets["网格"]
        for column, width in zip("ABCDEF", (18, 16, 14, 14, 8, 16)):
            sheet.column_dimensions[column].width = width
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
        data = table.to_csv(index=False).encode("utf-8-sig")  # the BOM lets Excel read UTF-8
    else:
        data = _excel(frame)
    mimetype, suffix = FORMATS[fmt]
    name = f"{parent_code or 'areas'}-{level or 'all'}{suffix}"
    return Export(name, mimetype, data, len(rows))
