"""Exchanging grids with other systems: every export read back, hostile uploads refused."""

from __future__ import annotations

import io
import json
import zipfile

import geopandas as gpd
import openpyxl
import pandas as pd
import pytest
import shapely
from pyproj import Geod
from shapely import box
from sqlalchemy import func, select, text

from app.models import Area
from app.services.assignment import assign_all
from tests.conftest import csrf_token, login
from tests.factories import STEP, X0, Y0, add_households, add_user, build_world

C = "511381001001"
CODES = [f"{C}{i:03d}" for i in range(1, 5)]
GEOD = Geod(ellps="WGS84")


@pytest.fixture
def world(session, client):
    world = build_world(session)
    add_households(session, [(X0 + 0.005, Y0 + 0.015)] * 3 + [(X0 + 0.015, Y0 + 0.005)])
    add_user(session, "planner", "planner")
    add_user(session, "王网格员", "worker", grids=[world.grids["NW"]])
    assign_all(session)
    session.commit()
    login(client, "planner")
    return world


def download(client, fmt: str, tmp_path):
    response = client.get(f"/api/v1/areas/export?format={fmt}&parent={C}")
    assert response.status_code == 200, response.get_data(as_text=True)[:300]
    assert response.headers["X-Feature-Count"] == "4"
    path = tmp_path / response.headers["Content-Disposition"].split('filename="')[1].rstrip('"')
    path.write_bytes(response.data)
    return path


def world_cells():
    return {
        CODES[0]: box(X0, Y0 + STEP, X0 + STEP, Y0 + 2 * STEP),
        CODES[1]: box(X0 + STEP, Y0 + STEP, X0 + 2 * STEP, Y0 + 2 * STEP),
        CODES[2]: box(X0, Y0, X0 + STEP, Y0 + STEP),
        CODES[3]: box(X0 + STEP, Y0, X0 + 2 * STEP, Y0 + STEP),
    }


def assert_same_grids(frame: gpd.GeoDataFrame, code_column: str = "code") -> None:
    cells = world_cells()
    assert sorted(frame[code_column].astype(str)) == CODES
    for code, geom in zip(frame[code_column].astype(str), frame.geometry):
        assert shapely.hausdorff_distance(geom, cells[code]) < 1e-7, code


@pytest.mark.parametrize("fmt", ["geojson", "gpkg", "shp", "kml"])
def test_vector_exports_read_back_with_gdal(client, world, tmp_path, fmt):
    path = download(client, fmt, tmp_path)
    if fmt == "shp":
        with zipfile.ZipFile(path) as archive:
            assert sorted(n.rsplit(".", 1)[1] for n in archive.namelist()) == [
                "cpg",
                "dbf",
                "prj",
                "shp",
                "shx",
            ]
            archive.extractall(tmp_path / "shp")
        frame = gpd.read_file(tmp_path / "shp" / "areas.shp")
    else:
        frame = gpd.read_file(path)
    if fmt == "kml":  # KML keeps the name and description; the rest travels as extended data
        frame = frame.rename(columns={"Name": "name"})
    assert_same_grids(frame)
    households = dict(zip(frame["code"].astype(str), frame["households"].astype(int)))
    assert households == {CODES[0]: 3, CODES[1]: 0, CODES[2]: 0, CODES[3]: 1}
    workers = dict(zip(frame["code"].astype(str), frame["workers"].fillna("")))
    assert workers[CODES[0]] == "王网格员"
    assert set(frame["name"]) == {"第1网格", "第2网格", "第3网格", "第4网格"}


def test_csv_export_has_wkt_and_excel_has_chinese_headers(client, world, tmp_path):
    table = pd.read_csv(
        download(client, "csv", tmp_path), dtype={"code": str}, encoding="utf-8-sig"
    )
    frame = gpd.GeoDataFrame(table, geometry=shapely.from_wkt(table["wkt"]), crs=4326)
    assert_same_grids(frame)
    book = openpyxl.load_workbook(download(client, "xlsx", tmp_path))
    sheet = book["网格"]
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0] == ("编码", "名称", "所属社区", "网格员", "住户数", "面积（平方公里）")
    first = rows[1]
    assert first[:5] == (CODES[0], "第1网格", "测试社区", "王网格员", 3)
    km2 = abs(GEOD.geometry_area_perimeter(world_cells()[CODES[0]])[0]) / 1e6
    assert first[5] == pytest.approx(km2, abs=1e-4)


def test_unknown_export_format_is_422(client, world):
    response = client.get("/api/v1/areas/export?format=dwg")
    assert response.status_code == 422
    assert "geojson, gpkg, shp, kml, csv, xlsx" in response.json["error"]["message"]


def upload(client, name: str, data: bytes, **form):
    return client.post(
        "/api/v1/areas/import",
        data={"file": (io.BytesIO(data), name), "level": "grid", "parent": C, **form},
        headers={"X-CSRFToken": csrf_token(client, "/")},
        content_type="multipart/form-data",
    )


def retire_all_grids(session) -> None:
    session.execute(text("UPDATE areas SET valid_to = clock_timestamp() WHERE level = 'grid'"))
    session.execute(text("DELETE FROM household_grid"))
    session.commit()


def live_grids(session) -> int:
    return session.scalar(
        select(func.count()).select_from(Area).where(Area.level == "grid", Area.valid_to.is_(None))
    )


def shapefile_zip(tmp_path, names: list[str], encoding: str) -> bytes:
    folder = tmp_path / f"shp-{encoding}"
    folder.mkdir()
    cells = list(world_cells().values())[: len(names)]
    gpd.GeoDataFrame({"NAME": names}, geometry=cells, crs=4326).to_file(
        folder / "g.shp", encoding=encoding
    )
    (folder / "g.cpg").write_text(encoding)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for part in folder.iterdir():
            archive.write(part, part.name)
    return buffer.getvalue()


@pytest.mark.parametrize("encoding", ["GBK", "UTF-8"])
def test_shapefile_upload_keeps_chinese_names(client, session, world, tmp_path, encoding):
    retire_all_grids(session)
    response = upload(
        client,
        "grids.zip",
        shapefile_zip(tmp_path, ["东风网格", "西街网格"], encoding),
        name_field="NAME",
    )
    assert response.status_code == 201, response.json
    names = session.scalars(
        select(Area.name).where(Area.code.in_(response.json["created"])).order_by(Area.code)
    ).all()
    assert names == ["东风网格", "西街网格"]
    assert response.json["households"]["moved"] == 3  # the three in the NW cell


def test_kml_and_csv_uploads(client, session, world):
    retire_all_grids(session)
    cells = list(world_cells().values())
    placemark = "".join(
        f"<Placemark><name>K{i}</name><Polygon><outerBoundaryIs><LinearRing><coordinates>"
        + " ".join(f"{x},{y}" for x, y in cell.exterior.coords)
        + "</coordinates></LinearRing></outerBoundaryIs></Polygon></Placemark>"
        for i, cell in enumerate(cells[:2])
    )
    kml = (
        '<?xml version="1.0" encoding="UTF-8"?><kml xmlns="http://www.opengis.net/kml/2.2">'
        f"<Document>{placemark}</Document></kml>"
    ).encode()
    response = upload(client, "g.kml", kml, name_field="Name")
    assert response.status_code == 201, response.json
    csv = "name,wkt\n" + "".join(f'C{i},"{cell.wkt}"\n' for i, cell in enumerate(cells[2:]))
    response = upload(client, "g.csv", csv.encode(), name_field="name")
    assert response.status_code == 201, response.json
    assert live_grids(session) == 4


BILLION_LAUGHS = b"""<?xml version="1.0"?>
<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
<!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">]>
<kml xmlns="http://www.opengis.net/kml/2.2"><Document><name>&lol3;</name></Document></kml>"""
EXTERNAL_ENTITY = b"""<?xml version="1.0"?>
<!DOCTYPE kml [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>
<kml xmlns="http://www.opengis.net/kml/2.2"><Document><name>&xxe;</name></Document></kml>"""


def zip_with(members: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return buffer.getvalue()


@pytest.mark.parametrize(
    ("name", "data", "status", "message"),
    [
        ("lol.kml", BILLION_LAUGHS, 422, "declares a DTD or entities"),
        ("xxe.kml", EXTERNAL_ENTITY, 422, "declares a DTD or entities"),
        ("slip.zip", zip_with({"../../evil.shp": b"x"}), 422, "points outside the archive"),
        ("abs.zip", zip_with({"/tmp/evil.shp": b"x"}), 422, "points outside the archive"),
        ("many.zip", zip_with({f"f{i}.txt": b"x" for i in range(80)}), 422, "at most 64"),
        ("bomb.zip", zip_with({"g.shp": b"\0" * (8 << 20)}), 413, "compressed suspiciously well"),
        ("/vsicurl/http:/127.0.0.1:9/x.zip", b"not a zip", 400, "not a valid zip archive"),
        ("g.exe", b"MZ", 400, "Upload one of"),
    ],
)
def test_hostile_uploads_are_refused_and_nothing_is_written(
    client, session, world, name, data, status, message
):
    before = live_grids(session)
    response = upload(client, name, data)
    assert response.status_code == status, response.json
    assert message in response.json["error"]["message"]
    assert live_grids(session) == before


def test_a_vertex_bomb_feature_and_an_oversize_body(app, client, session, world):
    retire_all_grids(session)
    ring = [[X0 + 0.01 * i / 20_000, Y0] for i in range(20_000)] + [[X0, Y0 + 0.01], [X0, Y0]]
    bomb = {
        "type": "FeatureCollection",
        "features": [
            {
                "type": "Feature",
                "properties": {},
                "geometry": {"type": "Polygon", "coordinates": [ring]},
            }
        ],
    }
    response = upload(client, "bomb.geojson", json.dumps(bomb).encode())
    assert response.status_code == 422
    assert response.json["error"]["details"][0]["reason"] == "too_many_vertices"
    limit = app.config["MAX_CONTENT_LENGTH"]
    app.config["MAX_CONTENT_LENGTH"] = 64 * 1024
    try:
        big = upload(client, "big.geojson", b" " * (128 * 1024))
    finally:
        app.config["MAX_CONTENT_LENGTH"] = limit
    assert big.status_code == 413
    assert live_grids(session) == 0
