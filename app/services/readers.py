"""Reading uploaded or local vector files safely into plain Python / GeoPandas data.

Only paths we create ourselves reach GDAL: a user's string never becomes a GDAL virtual
file system path or a URL.  Zip archives are unpacked by us, with limits, into a private
temporary folder (the request's own: see app.spool).
"""

from __future__ import annotations

import json
import re
import shutil
import tempfile
import zipfile
from contextlib import contextmanager
from pathlib import Path, PurePosixPath

import geopandas as gpd
import pandas as pd
import pyogrio

from app.errors import BadRequest, InvalidData, PayloadTooLarge
from app.spool import private_folder

MAX_ZIP_MEMBERS = 64
MAX_UNZIPPED_BYTES = 512 * 1024 * 1024
MAX_COMPRESSION_RATIO = 200
MAX_GEOJSON_BYTES = 256 * 1024 * 1024
VECTOR_SUFFIXES = {".geojson", ".json", ".gpkg", ".zip", ".shp"}


def file_kind(path: Path) -> str:
    suffix = path.suffix.lower()
    if suffix in (".geojson", ".json"):
        return "geojson"
    if suffix == ".gpkg":
        return "gpkg"
    if suffix == ".zip":
        return "zip"
    if suffix == ".csv":
        return "csv"
    if suffix == ".kml":
        return "kml"
    raise BadRequest(
        f"Unsupported file type {suffix or '(none)'!r}: use GeoJSON, GeoPackage, "
        "a zipped Shapefile, KML or CSV."
    )


def read_geojson(path: Path) -> list[dict]:
    """The features of a GeoJSON FeatureCollection (or a single Feature)."""
    if path.stat().st_size > MAX_GEOJSON_BYTES:
        raise PayloadTooLarge(f"{path.name} is larger than {MAX_GEOJSON_BYTES >> 20} MB.")
    try:
        data = json.loads(path.read_bytes())
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise BadRequest(f"{path.name} is not valid JSON: {exc}") from None
    if isinstance(data, dict) and data.get("type") == "FeatureCollection":
        features = data.get("features")
        if not isinstance(features, list):
            raise InvalidData("The FeatureCollection has no 'features' list.")
        return features
    if isinstance(data, dict) and data.get("type") == "Feature":
        return [data]
    raise InvalidData("Expected a GeoJSON FeatureCollection or Feature.")


def _safe_member(name: str) -> PurePosixPath:
    path = PurePosixPath(name.replace("\\", "/"))
    if path.is_absolute() or ".." in path.parts or (path.parts and ":" in path.parts[0]):
        raise InvalidData(f"The archive member {name!r} points outside the archive; refused.")
    return path


@contextmanager
def unpacked_zip(path: Path):
    """Unpack a zip into a private temporary folder, refusing zip-slip and zip bombs."""
    try:
        archive = zipfile.ZipFile(path)
    except zipfile.BadZipFile:
        raise BadRequest(f"{path.name} is not a valid zip archive.") from None
    with archive, tempfile.TemporaryDirectory(prefix="wangge-zip-", dir=private_folder()) as tmp:
        members = [m for m in archive.infolist() if not m.is_dir()]
        if len(members) > MAX_ZIP_MEMBERS:
            raise InvalidData(f"The archive has {len(members)} files; at most {MAX_ZIP_MEMBERS}.")
        total = sum(m.file_size for m in members)
        if total > MAX_UNZIPPED_BYTES:
            raise PayloadTooLarge(
                f"The archive unpacks to {total >> 20} MB; at most {MAX_UNZIPPED_BYTES >> 20} MB."
            )
        for member in members:
            target = Path(tmp, *_safe_member(member.filename).parts)
            if (
                member.compress_size
                and member.file_size / member.compress_size > MAX_COMPRESSION_RATIO
            ):
                raise PayloadTooLarge(
                    f"{member.filename} is compressed suspiciously well; refused."
                )
            if (member.external_attr >> 16) & 0o170000 == 0o120000:
                raise InvalidData(f"The archive member {member.filename!r} is a link; refused.")
            target.parent.mkdir(parents=True, exist_ok=True)
            with archive.open(member) as source, open(target, "wb") as out:
                # Copy with a hard cap: the sizes in the zip directory can lie.
                copied = 0
                while chunk := source.read(1 << 20):
                    copied += len(chunk)
                    if copied > member.file_size or copied > MAX_UNZIPPED_BYTES:
                        raise PayloadTooLarge(f"{member.filename} unpacks larger than declared.")
                    out.write(chunk)
        yield Path(tmp)


def read_vector(path: Path) -> gpd.GeoDataFrame:
    """A GeoPackage, zipped Shapefile or GeoJSON as a GeoDataFrame (its own CRS kept)."""
    kind = file_kind(path)
    if kind == "zip":
        with unpacked_zip(path) as folder:
            shapefiles = sorted(folder.rglob("*.shp"))
            if len(shapefiles) != 1:
                raise InvalidData(
                    f"The archive must hold exactly one .shp file; it holds {len(shapefiles)}."
                )
            return _read_with_gdal(shapefiles[0], path.name)
    if kind == "kml":
        refuse_xml_declarations(path)
        return _read_with_gdal(path, path.name)
    if kind in ("gpkg", "geojson"):
        return _read_with_gdal(path, path.name)
    raise BadRequest(f"{path.name} is not a vector file.")


XML_DECLARATIONS = re.compile(rb"<!(DOCTYPE|ENTITY)", re.IGNORECASE)


def refuse_xml_declarations(path: Path) -> None:
    """KML needs no DTD: refusing DOCTYPE and ENTITY outright rules out entity expansion
    (billion laughs) and external entities before any XML parser sees the file."""
    if path.stat().st_size > MAX_GEOJSON_BYTES:
        raise PayloadTooLarge(f"{path.name} is larger than {MAX_GEOJSON_BYTES >> 20} MB.")
    if XML_DECLARATIONS.search(path.read_bytes()):
        raise InvalidData(f"{path.name} declares a DTD or entities; KML needs neither. Refused.")


def read_wkt_csv(path: Path) -> pd.DataFrame:
    """A CSV of areas with their geometry as WKT in a column named ``wkt``."""
    try:
        frame = pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8-sig")
    except (UnicodeDecodeError, pd.errors.ParserError, pd.errors.EmptyDataError) as exc:
        raise BadRequest(f"{path.name} is not a readable UTF-8 CSV file: {exc}") from None
    if "wkt" not in frame.columns:
        raise InvalidData(f"{path.name} has no 'wkt' column with the geometries.")
    return frame


def _read_with_gdal(path: Path, shown_name: str) -> gpd.GeoDataFrame:
    try:
        layers = pyogrio.list_layers(path)
        if len(layers) != 1:
            raise InvalidData(f"{shown_name} must hold exactly one layer; it holds {len(layers)}.")
        return gpd.read_file(path, engine="pyogrio")
    except (pyogrio.errors.DataSourceError, pyogrio.errors.DataLayerError) as exc:
        raise BadRequest(f"{shown_name} could not be read as a vector file: {exc}") from None


def copy_upload(stream, suffix: str, limit: int) -> Path:
    """Save an uploaded stream to a private temporary file, at most ``limit`` bytes (in the
    request's own folder: see app.spool)."""
    with tempfile.NamedTemporaryFile(
        prefix="wangge-upload-", suffix=suffix, delete=False, dir=private_folder()
    ) as handle:
        copied = 0
        while chunk := stream.read(1 << 20):
            copied += len(chunk)
            if copied > limit:
                Path(handle.name).unlink(missing_ok=True)
                raise PayloadTooLarge(f"The upload is larger than {limit >> 20} MB.")
            handle.write(chunk)
    return Path(handle.name)


def remove(path: Path) -> None:
    if path.is_dir():
        shutil.rmtree(path, ignore_errors=True)
    else:
        path.unlink(missing_ok=True)
