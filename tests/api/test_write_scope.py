"""Where each role may write: every write path, inside and outside the writer's area, and
outside the district; a refused write leaves nothing behind."""

from __future__ import annotations

import io
import json
from datetime import timedelta

import pytest
import shapely
from shapely import box
from sqlalchemy import func, select, text

from app.models import Household
from app.models.hazards import Hazard, ReconstructionSite, SiteMilestone, SiteProgress
from app.services.assignment import assign_all
from app.services.sites import today
from tests.conftest import csrf_token, login
from tests.factories import STEP, X0, Y0, add_households, add_user, build_world

# Grid NW is the area of the area-scoped leader and planner; the worker holds SW.
NW = (X0 + 0.005, Y0 + 0.015)
NE = (X0 + 0.015, Y0 + 0.015)
SW = (X0 + 0.005, Y0 + 0.005)
NEW_YORK = (-74.006, 40.7128)
NW_ZONE = box(X0 + 0.002, Y0 + STEP + 0.002, X0 + 0.008, Y0 + 2 * STEP - 0.002)
NE_ZONE = box(X0 + STEP + 0.002, Y0 + STEP + 0.002, X0 + 0.018, Y0 + 0.018)
SW_ZONE = box(X0 + 0.002, Y0 + 0.002, X0 + 0.008, Y0 + 0.008)
NY_ZONE = box(-74.01, 40.70, -74.00, 40.71)
TODAY = today()


@pytest.fixture
def world(session):
    world = build_world(session)
    add_user(session, "admin", "admin")
    add_user(session, "leader", "leader")
    add_user(session, "nw-leader", "leader", area=world.grids["NW"])
    add_user(session, "nw-planner", "planner", area=world.grids["NW"])
    add_user(session, "sw-worker", "worker", grids=[world.grids["SW"]])
    add_households(session, [NE], head_name="王五", phone="13700000000")
    session.execute(text("UPDATE households SET external_id = 'NE-SECRET'"))
    add_households(session, [NW], head_name="赵六", phone="13600000000")
    session.execute(
        text("UPDATE households SET external_id = 'NW-KNOWN' WHERE external_id IS NULL")
    )
    assign_all(session)
    session.commit()
    return world


def as_user(client, username: str) -> dict:
    login(client, username)
    return {"X-CSRFToken": csrf_token(client, "/")}


def count(session, model) -> int:
    return session.scalar(select(func.count()).select_from(model))


def point(xy) -> dict:
    return {"type": "Point", "coordinates": list(xy)}


# --- households ------------------------------------------------------------------------------


def post_household(client, headers, xy, **values):
    body = {"lon": xy[0], "lat": xy[1], "address": "保宁路1号", "members": 2, **values}
    return client.post("/api/v1/households", json=body, headers=headers)


@pytest.mark.parametrize(
    ("username", "inside", "outside"),
    [("nw-planner", NW, NE), ("sw-worker", SW, NE), ("admin", NE, None)],
)
def test_household_create_inside_and_outside_the_writers_area(
    client, session, world, username, inside, outside
):
    headers = as_user(client, username)
    before = count(session, Household)
    assert post_household(client, headers, inside).status_code == 201
    assert count(session, Household) == before + 1
    if outside is not None:
        refused = post_household(client, headers, outside)
        assert refused.status_code == 403
        assert refused.json["error"]["message"] == (
            "The household lies outside the area you may edit."
        )
        assert count(session, Household) == before + 1
    far = post_household(client, headers, NEW_YORK)
    assert far.status_code == 422
    assert count(session, Household) == before + 1


def import_csv(client, headers, rows: list[str]):
    body = "external_id,lon,lat,address,head_name,phone,members,tags\n" + "\n".join(rows)
    return client.post(
        "/api/v1/households/import",
        data={"file": (io.BytesIO(body.encode()), "h.csv")},
        headers=headers,
        content_type="multipart/form-data",
    )


def test_area_scoped_planner_imports_only_inside_their_area(client, session, world):
    headers = as_user(client, "nw-planner")
    before = count(session, Household)
    refused = import_csv(
        client,
        headers,
        [f"A1,{NW[0]},{NW[1]},a,,,1,", f"A2,{NE[0]},{NE[1]},b,,,1,"],
    )
    assert refused.status_code == 422
    assert refused.json["error"]["details"] == [
        {"row": 3, "field": "lon/lat", "message": "the point lies outside the area you may edit"}
    ]
    assert count(session, Household) == before
    ok = import_csv(client, headers, [f"A1,{NW[0]},{NW[1]},a,,,1,"])
    assert ok.status_code == 201
    assert ok.json["imported"] == 1
    assert count(session, Household) == before + 1


def test_import_outside_the_district_is_refused_for_an_admin(client, session, world):
    headers = as_user(client, "admin")
    before = count(session, Household)
    refused = import_csv(client, headers, [f"Y1,{NEW_YORK[0]},{NEW_YORK[1]},a,,,1,"])
    assert refused.status_code == 422
    assert refused.json["error"]["details"][0]["message"] == "the point lies outside the district"
    assert count(session, Household) == before


def test_a_taken_external_id_is_named_only_inside_the_importers_view(client, session, world):
    headers = as_user(client, "nw-planner")
    before = count(session, Household)
    refused = import_csv(
        client,
        headers,
        [
            f"NE-SECRET,{NW[0]},{NW[1]},a,,,1,",
            f"NW-KNOWN,{NW[0]},{NW[1]},b,,,1,",
            f"NO-SUCH-ID,{NW[0]},{NW[1]},c,,,1,",
        ],
    )
    assert refused.status_code == 422
    assert refused.json["error"]["details"] == [
        {"row": 2, "field": "row", "message": "the row conflicts with existing data"},
        {
            "row": 3,
            "field": "external_id",
            "message": "a household with this external_id already exists",
        },
    ]
    assert "NE-SECRET" not in json.dumps(refused.json)
    assert count(session, Household) == before


def test_a_row_outside_the_area_says_nothing_about_its_external_id(client, session, world):
    headers = as_user(client, "nw-planner")
    refused = import_csv(client, headers, [f"NE-SECRET,{NE[0]},{NE[1]},a,,,1,"])
    assert refused.json["error"]["details"] == [
        {"row": 2, "field": "lon/lat", "message": "the point lies outside the area you may edit"}
    ]


def test_leader_and_worker_may_not_import_households(client, session, world):
    for username in ("leader", "sw-worker"):
        headers = as_user(client, username)
        assert import_csv(client, headers, [f"Z,{SW[0]},{SW[1]},a,,,1,"]).status_code == 403
    assert session.scalar(select(func.count()).where(Household.external_id == "Z")) == 0


def test_cli_import_refuses_points_outside_the_district(runner, session, world, tmp_path):
    path = tmp_path / "h.csv"
    path.write_text(
        "external_id,lon,lat,address,head_name,phone,members,tags\n"
        f"C1,{SW[0]},{SW[1]},a,,,1,\nC2,{NEW_YORK[0]},{NEW_YORK[1]},b,,,1,\n"
    )
    before = count(session, Household)
    result = runner.invoke(args=["wangge", "import-households", str(path)])
    assert result.exit_code != 0
    assert "outside the district" in result.output
    assert count(session, Household) == before


# --- hazards ---------------------------------------------------------------------------------


def create_hazard(client, headers, geom, **values):
    body = {
        "name": "内涝区",
        "hazard_class": "flood",
        "severity": 3,
        "geometry": shapely.geometry.mapping(geom),
        **values,
    }
    return client.post("/api/v1/hazards", json=body, headers=headers)


@pytest.fixture
def ne_hazard(client, world) -> int:
    return create_hazard(client, as_user(client, "admin"), NE_ZONE).json["id"]


@pytest.mark.parametrize(("username", "inside"), [("nw-leader", NW_ZONE), ("nw-planner", NW_ZONE)])
def test_area_scoped_editors_create_hazards_in_their_area_only(
    client, session, world, username, inside
):
    headers = as_user(client, username)
    before = count(session, Hazard)
    assert create_hazard(client, headers, inside).status_code == 201
    refused = create_hazard(client, headers, NE_ZONE)
    assert refused.status_code == 403
    assert refused.json["error"]["message"] == "The hazard lies outside the area you may edit."
    straddling = create_hazard(client, headers, NW_ZONE.union(NE_ZONE).envelope)
    assert straddling.status_code == 403
    assert count(session, Hazard) == before + 1


@pytest.mark.parametrize("username", ["admin", "leader", "nw-leader"])
def test_a_hazard_in_new_york_is_refused_for_everyone(client, session, world, username):
    headers = as_user(client, username)
    before = count(session, Hazard)
    for geom in (NY_ZONE, shapely.Point(NEW_YORK)):
        refused = create_hazard(client, headers, geom)
        assert refused.status_code == 422
        assert refused.json["error"]["code"] == "outside_district"
        assert refused.json["error"]["message"] == (
            "The hazard lies outside the district: nothing is written outside it."
        )
    assert count(session, Hazard) == before


def test_worker_may_not_write_hazards(client, session, world, ne_hazard):
    headers = as_user(client, "sw-worker")
    assert create_hazard(client, headers, SW_ZONE).status_code == 403
    patch = client.patch(f"/api/v1/hazards/{ne_hazard}", json={"severity": 1}, headers=headers)
    assert patch.status_code == 403
    assert session.get(Hazard, ne_hazard).severity == 3


def test_area_scoped_leader_may_not_edit_or_retire_another_towns_hazard(
    client, session, world, ne_hazard
):
    headers = as_user(client, "nw-leader")
    patch = client.patch(
        f"/api/v1/hazards/{ne_hazard}", json={"name": "改名", "severity": 1}, headers=headers
    )
    assert patch.status_code == 403
    assert patch.json["error"]["message"] == (
        f"Hazard {ne_hazard} lies outside the area you may edit."
    )
    retire = client.delete(f"/api/v1/hazards/{ne_hazard}", headers=headers)
    assert retire.status_code == 403
    session.expire_all()
    hazard = session.get(Hazard, ne_hazard)
    assert (hazard.name, hazard.severity, hazard.valid_to) == ("内涝区", 3, None)


def test_area_scoped_leader_may_not_move_their_hazard_out_of_their_area(client, session, world):
    headers = as_user(client, "nw-leader")
    hazard_id = create_hazard(client, headers, NW_ZONE).json["id"]
    moved = client.patch(
        f"/api/v1/hazards/{hazard_id}",
        json={"geometry": shapely.geometry.mapping(NE_ZONE)},
        headers=headers,
    )
    assert moved.status_code == 403
    far = client.patch(
        f"/api/v1/hazards/{hazard_id}",
        json={"geometry": shapely.geometry.mapping(NY_ZONE)},
        headers=as_user(client, "admin"),
    )
    assert far.status_code == 422
    session.expire_all()
    stored = session.scalar(
        text("SELECT ST_AsText(geom) FROM hazards WHERE id = :id"), {"id": hazard_id}
    )
    assert shapely.from_wkt(stored).equals(NW_ZONE)
    headers = as_user(client, "nw-leader")
    assert (
        client.patch(
            f"/api/v1/hazards/{hazard_id}", json={"severity": 4}, headers=headers
        ).status_code
        == 200
    )
    assert client.delete(f"/api/v1/hazards/{hazard_id}", headers=headers).status_code == 200


def import_hazards(client, headers, geoms):
    collection = {
        "type": "FeatureCollection",
        "features": [
            {"type": "Feature", "properties": {}, "geometry": shapely.geometry.mapping(g)}
            for g in geoms
        ],
    }
    return client.post(
        "/api/v1/hazards/import",
        data={
            "file": (io.BytesIO(json.dumps(collection).encode()), "h.geojson"),
            "class": "flood",
            "severity": "2",
        },
        headers=headers,
        content_type="multipart/form-data",
    )


def test_hazard_import_checks_every_feature_against_the_writers_area(client, session, world):
    before = count(session, Hazard)
    refused = import_hazards(client, as_user(client, "nw-leader"), [NW_ZONE, NE_ZONE, NY_ZONE])
    assert refused.status_code == 422
    assert refused.json["error"]["details"] == [
        {
            "feature": 2,
            "field": "geometry",
            "message": "the feature lies outside the area you may edit",
        },
        {"feature": 3, "field": "geometry", "message": "the feature lies outside the district"},
    ]
    admin = import_hazards(client, as_user(client, "admin"), [NE_ZONE, NY_ZONE])
    assert admin.status_code == 422
    assert count(session, Hazard) == before
    ok = import_hazards(client, as_user(client, "nw-leader"), [NW_ZONE])
    assert ok.status_code == 201
    assert count(session, Hazard) == before + 1


# --- reconstruction sites --------------------------------------------------------------------


def create_site(client, headers, geometry):
    body = {
        "name": "城北安置房",
        "site_type": "housing",
        "owner": "阆中市住建局",
        "geometry": geometry,
        "planned_start": (TODAY - timedelta(days=100)).isoformat(),
        "planned_end": (TODAY + timedelta(days=100)).isoformat(),
        "milestones": [{"name": "主体完工", "planned_date": TODAY.isoformat()}],
    }
    return client.post("/api/v1/sites", json=body, headers=headers)


def test_sites_are_created_inside_the_writers_area_and_the_district(client, session, world):
    before = count(session, ReconstructionSite)
    headers = as_user(client, "nw-leader")
    assert create_site(client, headers, point(NW)).status_code == 201
    refused = create_site(client, headers, point(NE))
    assert refused.status_code == 403
    assert refused.json["error"]["message"] == "The site lies outside the area you may edit."
    far = create_site(client, as_user(client, "admin"), point(NEW_YORK))
    assert far.status_code == 422
    assert far.json["error"]["code"] == "outside_district"
    assert count(session, ReconstructionSite) == before + 1


def progress(client, headers, site_id, percent="40"):
    return client.post(
        f"/api/v1/sites/{site_id}/progress",
        data={"percent": percent},
        headers=headers,
        content_type="multipart/form-data",
    )


def milestones(client, headers, site_id, milestone_id):
    body = {"milestones": [{"id": milestone_id, "done_date": TODAY.isoformat()}]}
    return client.patch(f"/api/v1/sites/{site_id}", json=body, headers=headers)


@pytest.mark.parametrize(
    ("username", "own", "other"), [("sw-worker", SW, NE), ("nw-leader", NW, NE)]
)
def test_progress_and_milestones_only_on_sites_in_the_writers_area(
    client, session, world, username, own, other
):
    admin = as_user(client, "admin")
    own_site = create_site(client, admin, point(own)).json
    other_site = create_site(client, admin, point(other)).json
    headers = as_user(client, username)
    reports = count(session, SiteProgress)
    refused = progress(client, headers, other_site["id"])
    assert refused.status_code == 403
    assert refused.json["error"]["message"] == (
        f"Site {other_site['id']} lies outside the area you may edit."
    )
    refused = milestones(client, headers, other_site["id"], other_site["milestones"][0]["id"])
    assert refused.status_code == 403
    assert count(session, SiteProgress) == reports
    session.expire_all()
    assert session.get(SiteMilestone, other_site["milestones"][0]["id"]).done_date is None
    assert progress(client, headers, own_site["id"]).status_code == 201
    assert (
        milestones(client, headers, own_site["id"], own_site["milestones"][0]["id"]).json[
            "milestones"
        ][0]["done_date"]
        == TODAY.isoformat()
    )


# --- incidents -------------------------------------------------------------------------------


def test_incident_intake_outside_the_district_is_refused(client, session, world):
    from tests.factories import add_category

    add_category(session)
    session.commit()
    headers = as_user(client, "admin")
    response = client.post(
        "/api/v1/incidents",
        json={"category": "road", "description": "x", "lon": NEW_YORK[0], "lat": NEW_YORK[1]},
        headers=headers,
    )
    assert response.status_code == 422
    assert "outside the district" in response.json["error"]["message"]


def test_a_reporter_who_no_longer_holds_the_grid_may_not_move_the_incident(client, session, world):
    from tests.factories import add_category

    add_category(session)
    add_user(session, "nw-worker", "worker", grids=[world.grids["NW"]])
    add_user(session, "ne-worker", "worker", grids=[world.grids["NE"]])
    session.commit()
    headers = as_user(client, "nw-worker")
    near_edge = {"lon": X0 + STEP - 0.0001, "lat": Y0 + 0.015}
    case = client.post(
        "/api/v1/incidents",
        json={"category": "road", "description": "路灯不亮", **near_edge},
        headers=headers,
    ).json
    assert case["grid"]["code"] == world.grids["NW"].code and case["near_boundary"]
    url = f"/api/v1/incidents/{case['id']}/reroute"
    moved = client.post(url, json={"grid": world.grids["NE"].code}, headers=headers)
    assert moved.status_code == 200
    back = client.post(url, json={"grid": world.grids["NW"].code}, headers=headers)
    assert back.status_code == 403
    session.expire_all()
    grid_id = session.scalar(
        text("SELECT grid_id FROM incidents WHERE id = :id"), {"id": case["id"]}
    )
    assert grid_id == world.grids["NE"].id


def test_a_zone_traced_along_the_area_edge_may_stray_half_a_metre(client, session, world):
    headers = as_user(client, "nw-leader")
    west, south, east, north = X0, Y0 + STEP, X0 + STEP, Y0 + 2 * STEP
    metre = 1 / 94_800  # degrees of longitude per metre at this latitude, about
    along_the_edge = box(west, south, east + 0.3 * metre, north)
    assert create_hazard(client, headers, along_the_edge).status_code == 201
    over_the_edge = box(west, south, east + 5 * metre, north)
    assert create_hazard(client, headers, over_the_edge).status_code == 403
    over_a_point = create_hazard(client, headers, shapely.Point(east + 0.3 * metre, Y0 + 0.015))
    assert over_a_point.status_code == 403


def test_the_site_page_offers_the_progress_form_only_where_the_viewer_may_report(
    client, session, world
):
    admin = as_user(client, "admin")
    own = create_site(client, admin, point(SW)).json["id"]
    # Straddling SW and SE: the worker of SW sees it but may not report on it.
    straddling = shapely.geometry.mapping(box(X0 + 0.005, Y0 + 0.002, X0 + 0.015, Y0 + 0.008))
    shared = create_site(client, admin, straddling).json["id"]
    other = create_site(client, admin, point(NE)).json["id"]
    login(client, "sw-worker")
    assert 'id="progress-form"' in client.get(f"/sites/{own}").get_data(as_text=True)
    page = client.get(f"/sites/{shared}")
    assert page.status_code == 200
    assert 'id="progress-form"' not in page.get_data(as_text=True)
    # A site touching none of the worker's grids is not theirs to read either.
    assert client.get(f"/sites/{other}").status_code == 404


def test_a_worker_without_grids_writes_nowhere(client, session, world):
    add_user(session, "idle-worker", "worker")
    session.commit()
    headers = as_user(client, "idle-worker")
    before = count(session, Household)
    refused = post_household(client, headers, SW)
    assert refused.status_code == 403
    assert count(session, Household) == before
