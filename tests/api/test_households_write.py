"""Creating and importing households over the API: roles, scope, CSRF, limits, envelopes."""

from __future__ import annotations

import io

import pytest
from sqlalchemy import func, select

from app.models import Household, PersonalDataRead
from tests.conftest import csrf_token, login
from tests.factories import X0, Y0, add_user, build_world

INSIDE_SW = {"lon": X0 + 0.005, "lat": Y0 + 0.005}
INSIDE_NE = {"lon": X0 + 0.015, "lat": Y0 + 0.015}
PERSON = {"address": "保宁路8号", "head_name": "李四", "phone": "13912345678", "members": 2}


def household_count(session) -> int:
    return session.scalar(select(func.count()).select_from(Household))


@pytest.fixture
def world(session):
    world = build_world(session)
    add_user(session, "planner", "planner")
    add_user(session, "leader", "leader")
    add_user(session, "worker", "worker", grids=[world.grids["SW"]])
    session.commit()
    return world


def post_json(client, url, body, token=True):
    headers = {"X-CSRFToken": csrf_token(client, "/")} if token else {}
    return client.post(url, json=body, headers=headers)


def test_planner_creates_a_household_assigned_and_masked(client, session, world):
    login(client, "planner")
    response = post_json(
        client,
        "/api/v1/households",
        {**INSIDE_NE, **PERSON, "external_id": "X1", "tags": ["elderly_alone"]},
    )
    assert response.status_code == 201, response.json
    body = response.json
    assert (body["grid_code"], body["external_id"], body["members"]) == (
        world.grids["NE"].code,
        "X1",
        2,
    )
    assert (body["head_name"], body["phone"], body["tags"]) == (
        "李*",
        "139****5678",
        ["elderly_alone"],
    )
    assert (
        session.scalar(select(Household.head_name).where(Household.external_id == "X1")) == "李四"
    )


def test_worker_creates_in_own_grid_only(client, session, world):
    login(client, "worker")
    ok = post_json(client, "/api/v1/households", {**INSIDE_SW, **PERSON})
    assert ok.status_code == 201
    assert (ok.json["grid_code"], ok.json["head_name"]) == (world.grids["SW"].code, "李四")
    before = household_count(session)
    refused = post_json(client, "/api/v1/households", {**INSIDE_NE, **PERSON})
    assert refused.status_code == 403
    assert refused.json["error"] == {
        "code": "forbidden",
        "details": None,
        "message": "The household lies outside the area you may edit.",
    }
    assert household_count(session) == before


def test_leader_may_not_create(client, world):
    login(client, "leader")
    response = post_json(client, "/api/v1/households", {**INSIDE_SW, **PERSON})
    assert response.status_code == 403
    assert "planner" in response.json["error"]["message"]


@pytest.mark.parametrize(
    ("body", "status", "code", "detail"),
    [
        ({**PERSON, "lat": Y0}, 422, "invalid_data", {"fields": ["lon"]}),
        ({**INSIDE_SW, "colour": "red"}, 400, "bad_request", {"fields": ["colour"]}),
        (
            {**INSIDE_SW, "lon": "abc"},
            422,
            "invalid_data",
            [{"item": 1, "field": "lon/lat", "message": "lon and lat must be numbers"}],
        ),
        (
            {"lon": 116.4, "lat": 39.9},
            422,
            "invalid_data",
            [{"item": 1, "field": "lon/lat", "message": "the point lies outside the district"}],
        ),
        (
            {**INSIDE_SW, "members": 0},
            422,
            "invalid_data",
            [
                {
                    "item": 1,
                    "field": "members",
                    "message": "members must be a whole number from 1 to 100",
                }
            ],
        ),
        ({**INSIDE_SW, "crs": "mars"}, 422, "invalid_data", {"field": "crs"}),
        ({**INSIDE_SW, "crs": {"type": "name"}}, 422, "invalid_data", {"field": "crs"}),
        ({**INSIDE_SW, "crs": 4326}, 422, "invalid_data", {"field": "crs"}),
        ([1, 2], 400, "bad_request", None),
    ],
)
def test_bad_bodies_get_the_reason_and_nothing_is_stored(
    client, session, world, body, status, code, detail
):
    login(client, "planner")
    before = household_count(session)
    response = post_json(client, "/api/v1/households", body)
    assert response.status_code == status, response.json
    assert response.json["error"]["code"] == code
    assert response.json["error"]["details"] == detail
    assert household_count(session) == before


def test_not_json_is_400(client, world):
    login(client, "planner")
    response = client.post(
        "/api/v1/households", data="lon=1", headers={"X-CSRFToken": csrf_token(client, "/")}
    )
    assert response.status_code == 400
    assert "JSON" in response.json["error"]["message"]


def test_session_writes_need_the_csrf_token(client, session, world):
    login(client, "planner")
    response = post_json(client, "/api/v1/households", {**INSIDE_SW, **PERSON}, token=False)
    assert response.status_code == 400
    assert response.json["error"]["code"] == "csrf_failed"
    assert household_count(session) == 0


def test_bearer_clients_need_no_csrf_token(client, session, world):
    from app.services.auth import issue_token

    token = issue_token(session, "planner")
    session.commit()
    response = client.post(
        "/api/v1/households",
        json={**INSIDE_SW, **PERSON},
        headers={"Authorization": f"Bearer {token}"},
    )
    assert response.status_code == 201


CSV = "external_id,lon,lat,address,head_name,phone,members,tags\n"


def upload(client, text: str, name: str = "h.csv", **form):
    data = {"file": (io.BytesIO(text.encode()), name), **form}
    return client.post(
        "/api/v1/households/import",
        data=data,
        headers={"X-CSRFToken": csrf_token(client, "/")},
        content_type="multipart/form-data",
    )


def test_import_a_csv_upload(client, session, world):
    login(client, "planner")
    response = upload(
        client, CSV + f"U1,{X0 + 0.005},{Y0 + 0.005},a,b,,1,\nU2,{X0 - 0.01},{Y0 - 0.01},a,b,,1,\n"
    )
    assert response.status_code == 201
    assert response.json == {"imported": 2, "assigned": 1, "uncovered": 1}
    # A planner's import is not a read of personal data.
    assert session.scalar(select(func.count()).select_from(PersonalDataRead)) == 0


def test_import_lists_bad_rows_as_422(client, session, world):
    login(client, "planner")
    response = upload(client, CSV + f"U1,{X0 + 0.005},{Y0 + 0.005},a,b,,1,\nU2,x,y,a,b,,1,\n")
    assert response.status_code == 422
    assert response.json["error"]["message"] == "1 of 2 rows are invalid; nothing was imported."
    assert response.json["error"]["details"] == [
        {"row": 3, "field": "lon/lat", "message": "lon and lat must be numbers"}
    ]
    assert household_count(session) == 0


def test_import_refuses_other_file_types_and_oversize_bodies(app, client, session, world):
    login(client, "planner")
    wrong = upload(client, "<kml/>", name="h.kml")
    assert (wrong.status_code, wrong.json["error"]["details"]) == (400, {"field": "file"})
    limit = app.config["MAX_CONTENT_LENGTH"]
    app.config["MAX_CONTENT_LENGTH"] = 1024
    try:
        big = upload(client, CSV + "x" * 4096)
    finally:
        app.config["MAX_CONTENT_LENGTH"] = limit
    assert big.status_code == 413
    assert big.json["error"]["code"] == "payload_too_large"
    assert household_count(session) == 0
