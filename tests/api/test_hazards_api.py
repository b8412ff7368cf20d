"""The hazards API: zones and points, filters, edits, retirement, file imports and impact runs."""

from __future__ import annotations

import io
import json
import zipfile

import geopandas as gpd
import pytest
import shapely
from openpyxl import load_workbook
from shapely import Point, box
from sqlalchemy import func, select

from app.models.hazards import Hazard, ImpactRun
from app.services.assignment import assign_all
from geo.crs import wgs84_to_gcj02
from tests.conftest import csrf_token, login
from tests.factories import X0, Y0, add_households, add_user, build_world

ZONE = box(X0 + 0.005, Y0 + 0.012, X0 + 0.015, Y0 + 0.018)
BOW_TIE = {
    "type": "Polygon",
    "coordinates": [[[X0, Y0], [X0 + 0.01, Y0 + 0.01], [X0 + 0.01, Y0], [X0, Y0 + 0.01], [X0, Y0]]],
}


def polygon(geom=ZONE) -> dict:
    return shapely.geometry.mapping(geom)


@pytest.fixture
def world(session):
    world = build_world(session)
    add_households(
        session,
        [(X0 + 0.007, Y0 + 0.015), (X0 + 0.008, Y0 + 0.016)],
        members=2,
        tags=["elderly_alone"],
        head_name="李四",
        phone="13912345678",
    )
    add_households(session, [(X0 + 0.012, Y0 + 0.015)], members=5)
    world.users["leader"] = add_user(session, "leader", "leader")
    world.users["wang"] = add_user(session, "wang", "worker", grids=[world.grids["NW"]])
    world.users["planner"] = add_user(session, "planner", "planner")
    assign_all(session)
    return world


def as_user(client, username: str) -> dict:
    login(client, username)
    return {"X-CSRFToken": csrf_token(client, "/")}


def hazard_count(session) -> int:
    return session.scalar(select(func.count()).select_from(Hazard))


def create(client, headers, **values):
    body = {"name": "内涝区", "hazard_class": "flood", "severity": 3, "geometry": polygon()}
    return client.post("/api/v1/hazards", json={**body, **values}, headers=headers)


# --- zones and points -----------------------------------------------------------------------


def test_create_list_filter_get_patch_and_retire(client, session, world):
    headers = as_user(client, "leader")
    created = create(client, headers)
    assert created.status_code == 201, created.json
    props = created.json["properties"]
    assert props["name"] == "内涝区" and props["class_label"] == "洪涝"
    assert props["severity_label"] == "严重（II级）" and props["color"] == "#fd8d3c"
    assert shapely.geometry.shape(created.json["geometry"]).symmetric_difference(ZONE).area < 1e-12
    point = create(
        client,
        headers,
        name="滑坡点",
        hazard_class="landslide",
        severity=4,
        geometry={"type": "Point", "coordinates": [X0 + 0.03, Y0 + 0.03]},
    ).json
    assert point["geometry"] == {"type": "Point", "coordinates": [X0 + 0.03, Y0 + 0.03]}

    listed = client.get("/api/v1/hazards").json
    assert listed["type"] == "FeatureCollection"
    assert [f["id"] for f in listed["features"]] == [point["id"], created.json["id"]]
    assert [f["id"] for f in client.get("/api/v1/hazards?class=flood").json["features"]] == [
        created.json["id"]
    ]
    assert [f["id"] for f in client.get("/api/v1/hazards?severity=4,1").json["features"]] == [
        point["id"]
    ]
    bbox = f"{X0},{Y0},{X0 + 0.02},{Y0 + 0.02}"
    assert [f["id"] for f in client.get(f"/api/v1/hazards?bbox={bbox}").json["features"]] == [
        created.json["id"]
    ]

    hazard_id = created.json["id"]
    patched = client.patch(f"/api/v1/hazards/{hazard_id}", json={"severity": 4}, headers=headers)
    assert patched.status_code == 200
    assert patched.json["properties"]["severity"] == 4
    assert client.get(f"/api/v1/hazards/{hazard_id}").json["properties"]["color"] == "#d7191c"

    retired = client.delete(f"/api/v1/hazards/{hazard_id}", headers=headers)
    assert retired.status_code == 200 and retired.json["properties"]["valid_to"] is not None
    assert [f["id"] for f in client.get("/api/v1/hazards").json["features"]] == [point["id"]]
    everything = client.get("/api/v1/hazards?retired=true").json["features"]
    assert {f["id"] for f in everything} == {point["id"], hazard_id}
    again = client.patch(f"/api/v1/hazards/{hazard_id}", json={"severity": 1}, headers=headers)
    assert again.status_code == 409 and again.json["error"]["code"] == "conflict"


def test_coordinates_are_converted_from_gcj02_at_the_edge(client, session, world):
    headers = as_user(client, "planner")
    lon, lat = X0 + 0.004, Y0 + 0.004
    gx, gy = wgs84_to_gcj02(lon, lat)
    created = create(
        client,
        headers,
        geometry={"type": "Point", "coordinates": [float(gx), float(gy)]},
        crs="gcj02",
    )
    x, y = created.json["geometry"]["coordinates"]
    assert x == pytest.approx(lon, abs=1e-7) and y == pytest.approx(lat, abs=1e-7)


@pytest.mark.parametrize(
    ("values", "status", "field"),
    [
        ({"hazard_class": "alien"}, 422, "hazard_class"),
        ({"severity": 5}, 422, "severity"),
        ({"severity": 0}, 422, "severity"),
        ({"crs": "mars"}, 422, "crs"),
        ({"geometry": {"type": "LineString", "coordinates": [[0, 0], [1, 1]]}}, 422, None),
        ({"geometry": {"type": "Point", "coordinates": ["a", 1]}}, 422, "geometry"),
        ({"colour": "red"}, 422, "colour"),
    ],
)
def test_bad_hazards_are_refused_with_the_reason_and_nothing_is_stored(
    client, session, world, values, status, field
):
    headers = as_user(client, "leader")
    response = create(client, headers, **values)
    assert response.status_code == status, response.json
    assert response.json["error"]["message"]
    if field:
        assert response.json["error"]["details"]["field"] == field
    assert hazard_count(session) == 0


def test_invalid_polygon_is_refused_with_its_location(client, session, world):
    headers = as_user(client, "leader")
    response = create(client, headers, geometry=BOW_TIE)
    assert response.status_code == 422
    details = response.json["error"]["details"]
    assert details["reason"] == "self_intersection"
    assert details["location"] == pytest.approx([X0 + 0.005, Y0 + 0.005])
    assert "cross" in response.json["error"]["message"]
    assert hazard_count(session) == 0


def test_vertex_bombs_are_refused_before_anything_is_built(client, session, world, app):
    headers = as_user(client, "leader")
    ring = shapely.get_coordinates(Point(X0, Y0).buffer(0.01, quad_segs=3000).exterior).tolist()
    assert len(ring) > app.config["WANGGE_MAX_VERTICES"]
    response = create(client, headers, geometry={"type": "Polygon", "coordinates": [ring]})
    assert response.status_code == 422
    assert response.json["error"]["details"]["reason"] == "too_many_vertices"
    assert hazard_count(session) == 0


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("colour=red", "fields"),
        ("class=alien", "field"),
        ("severity=5", "field"),
        ("bbox=1,2", "field"),
    ],
)
def test_unknown_filters_and_values_get_400(client, session, world, query, field):
    as_user(client, "leader")
    response = client.get(f"/api/v1/hazards?{query}")
    assert response.status_code == 400
    assert field in response.json["error"]["details"]


def test_workers_may_not_create_hazards_and_unknown_ids_are_404(client, session, world):
    headers = as_user(client, "wang")
    assert create(client, headers).status_code == 403
    assert client.get("/api/v1/hazards/999999").status_code == 404
    assert client.get("/api/v1/hazards/abc").json["error"]["code"] == "not_found"
    assert hazard_count(session) == 0


# --- impact ---------------------------------------------------------------------------------


def test_impact_run_is_stored_listed_and_masked_for_each_viewer(client, session, world):
    headers = as_user(client, "leader")
    hazard_id = create(client, headers).json["id"]
    response = client.post(
        f"/api/v1/hazards/{hazard_id}/impact", json={"buffer_m": 100}, headers=headers
    )
    assert response.status_code == 201, response.json
    run = response.json
    assert run["totals"] == {"households": 3, "people": 9, "vulnerable_households": 2}
    assert run["buffer_m"] == 100 and run["created_by"] == "leader"
    assert run["personal_data"] == "masked"
    shown = [h for g in run["door_knock"] for h in g["households"]]
    assert {(h["head_name"], h["phone"]) for h in shown} == {
        ("李*", "139****5678"),
        ("张*", "138****1234"),
    }
    assert "13912345678" not in response.get_data(as_text=True)

    runs = client.get(f"/api/v1/hazards/{hazard_id}/impact").json["items"]
    assert [(r["id"], r["buffer_m"], r["totals"]["households"]) for r in runs] == [
        (run["id"], 100, 3)
    ]

    client.post("/logout", data={"csrf_token": headers["X-CSRFToken"]})
    as_user(client, "wang")
    again = client.get(f"/api/v1/impact-runs/{run['id']}").json
    assert again["personal_data"] == "shown"
    (group,) = again["door_knock"]
    assert group["worker"] == "wang"
    assert {h["phone"] for h in group["households"]} == {"13912345678"}
    # The worker's figures count the worker's grid only: what the door-knock list holds.
    assert again["totals"]["households"] == len(group["households"]) == 2
    assert again["totals"]["households"] < run["totals"]["households"]
    assert again["totals"]["people"] == sum(h["members"] for h in group["households"])


def test_door_knock_list_exports_to_excel_with_chinese_headers(client, session, world):
    headers = as_user(client, "leader")
    hazard_id = create(client, headers).json["id"]
    run_id = client.post(
        f"/api/v1/hazards/{hazard_id}/impact", json={"buffer_m": 0}, headers=headers
    ).json["id"]
    response = client.get(f"/api/v1/impact-runs/{run_id}/door-knock.xlsx")
    assert response.status_code == 200
    sheet = load_workbook(io.BytesIO(response.data)).active
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0] == ("网格员", "网格编码", "网格名称", "地址", "户主", "电话", "人数", "重点人群")
    assert len(rows) == 1 + 3
    assert {r[5] for r in rows[1:]} == {"139****5678", "138****1234"}


def test_impact_of_all_active_hazards_per_class(client, session, world):
    headers = as_user(client, "leader")
    create(client, headers)
    create(
        client,
        headers,
        hazard_class="fire",
        severity=1,
        geometry=polygon(box(X0, Y0, X0 + 0.001, Y0 + 0.001)),
    )
    response = client.post("/api/v1/hazards/impact", json={}, headers=headers)
    assert response.status_code == 201
    by_class = {
        r["hazard_class"]: (r["hazards"], r["households"]) for r in response.json["by_class"]
    }
    assert by_class == {"flood": (1, 3), "fire": (1, 0)}


@pytest.mark.parametrize(
    "body", [{"buffer_m": -1}, {"buffer_m": 10**6}, {"buffer_m": "far"}, {"radius": 5}]
)
def test_bad_impact_requests_are_refused_and_nothing_is_stored(client, session, world, body):
    headers = as_user(client, "leader")
    hazard_id = create(client, headers).json["id"]
    response = client.post(f"/api/v1/hazards/{hazard_id}/impact", json=body, headers=headers)
    assert response.status_code == 422
    assert response.json["error"]["details"]["field"] in ("buffer_m", "radius")
    assert session.scalar(select(func.count()).select_from(ImpactRun)) == 0


def test_impact_of_an_unknown_hazard_is_404(client, session, world):
    headers = as_user(client, "leader")
    response = client.post("/api/v1/hazards/424242/impact", json={"buffer_m": 0}, headers=headers)
    assert response.status_code == 404
    assert session.scalar(select(func.count()).select_from(ImpactRun)) == 0


# --- import ---------------------------------------------------------------------------------


def upload(client, headers, data: bytes, filename: str, **form):
    return client.post(
        "/api/v1/hazards/import",
        data={"file": (io.BytesIO(data), filename), **form},
        headers=headers,
        content_type="multipart/form-data",
    )


def collection(*features) -> bytes:
    return json.dumps({"type": "FeatureCollection", "features": list(features)}).encode()


def feature(geometry, **properties) -> dict:
    return {"type": "Feature", "geometry": geometry, "properties": properties}


def test_import_geojson_with_properties_and_form_defaults(client, session, world):
    headers = as_user(client, "planner")
    data = collection(
        feature(polygon(), name="河道沿线", **{"class": "flood"}, severity=4),
        feature({"type": "Point", "coordinates": [X0 + 0.002, Y0 + 0.002]}, name="危房"),
    )
    response = upload(
        client, headers, data, "zones.geojson", **{"class": "earthquake", "severity": "2"}
    )
    assert response.status_code == 201, response.json
    assert response.json["imported"] == 2
    rows = session.execute(
        select(Hazard.name, Hazard.hazard_class, Hazard.severity).order_by(Hazard.id)
    ).all()
    assert [tuple(r) for r in rows] == [("河道沿线", "flood", 4), ("危房", "earthquake", 2)]


def test_import_refuses_the_whole_file_and_lists_every_bad_feature(client, session, world):
    headers = as_user(client, "planner")
    data = collection(
        feature(polygon(), **{"class": "flood"}, severity=3),
        feature(BOW_TIE, **{"class": "flood"}, severity=3),
        feature(polygon(), **{"class": "volcano"}, severity=3),
        feature(polygon(), **{"class": "fire"}, severity=9),
    )
    response = upload(client, headers, data, "zones.geojson")
    assert response.status_code == 422
    faults = response.json["error"]["details"]
    assert [(f["feature"], f["field"]) for f in faults] == [
        (2, "geometry"),
        (3, "hazard_class"),
        (4, "severity"),
    ]
    assert faults[0]["reason"] == "self_intersection" and faults[0]["location"]
    assert "3 of 4 features are invalid" in response.json["error"]["message"]
    assert hazard_count(session) == 0


def test_import_geopackage_and_zipped_shapefile(client, session, world, tmp_path):
    headers = as_user(client, "planner")
    frame = gpd.GeoDataFrame(
        {"name": ["东坡", "西坡"], "class": ["landslide", "landslide"], "severity": [3, 2]},
        geometry=[ZONE, box(X0, Y0, X0 + 0.002, Y0 + 0.002)],
        crs=4326,
    )
    gpkg = tmp_path / "zones.gpkg"
    frame.to_file(gpkg, driver="GPKG")
    assert upload(client, headers, gpkg.read_bytes(), "zones.gpkg").json["imported"] == 2

    shp_dir = tmp_path / "shp"
    shp_dir.mkdir()
    frame.to_crs(32648).to_file(shp_dir / "zones.shp", engine="pyogrio", encoding="utf-8")
    packed = io.BytesIO()
    with zipfile.ZipFile(packed, "w") as archive:
        for part in shp_dir.iterdir():
            archive.write(part, part.name)
    response = upload(client, headers, packed.getvalue(), "zones.zip")
    assert response.status_code == 201, response.json
    assert response.json["imported"] == 2
    names = session.scalars(select(Hazard.name).order_by(Hazard.id)).all()
    assert names == ["东坡", "西坡", "东坡", "西坡"]
    # The projected Shapefile was brought back to WGS84.
    last = session.get(Hazard, response.json["ids"][0])
    reread = shapely.from_wkb(bytes(last.geom.data))
    assert reread.bounds == pytest.approx(ZONE.bounds, abs=1e-6)


def test_import_refuses_zip_slip_and_unknown_file_types(client, session, world):
    headers = as_user(client, "planner")
    packed = io.BytesIO()
    with zipfile.ZipFile(packed, "w") as archive:
        archive.writestr("../../evil.shp", b"x")
    response = upload(client, headers, packed.getvalue(), "zones.zip")
    assert (
        response.status_code == 422 and "outside the archive" in response.json["error"]["message"]
    )
    assert upload(client, headers, b"a,b\n", "zones.csv").status_code == 400
    assert hazard_count(session) == 0


# --- the map page ---------------------------------------------------------------------------


def test_hazard_map_page_for_leaders_without_hazards_and_refused_to_workers(client, session, world):
    as_user(client, "leader")
    page = client.get("/map/hazards")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "暂无在用的隐患" in html and "隐患等级" in html
    assert 'href="/map/hazards"' in html  # the nav link
    assert "13912345678" not in html and "李四" not in html
    client.post("/logout", data={"csrf_token": csrf_token(client, "/")})
    as_user(client, "wang")
    assert client.get("/map/hazards").status_code == 403
    assert 'href="/map/hazards"' not in client.get("/").get_data(as_text=True)
