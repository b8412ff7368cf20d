"""Who sees what through the API: a worker only their grid's households, unmasked and logged;
a leader every household, masked and not logged; areas scoped the same way; CSRF for browser
sessions."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import func, select

from app.models import Household, PersonalDataRead, User
from app.services.assignment import assign_all
from app.services.auth import issue_token
from tests.conftest import csrf_token, login
from tests.factories import STEP, X0, Y0, add_households, add_user, build_world

NW, NE, SW, SE = (f"511381001001{i:03d}" for i in range(1, 5))


@pytest.fixture
def world(session):
    """Households with distinct names and phones: 2 in NW, 1 in NE, 1 in SW, 1 in no grid.

    Returns {"NW": [ids], "NE": [...], "SW": [...], "none": [...]}; users: worker ``wang``
    on NW, worker ``idle`` on no grid, ``leader``, ``planner`` and ``admin`` over everything,
    ``chief`` (a leader) over the community.
    """
    world = build_world(session)
    ids = {
        "NW": add_households(
            session, [(X0 + 0.003, Y0 + STEP + 0.003)], head_name="张三", phone="13812341234"
        )
        + add_households(
            session, [(X0 + 0.006, Y0 + STEP + 0.006)], head_name="欧阳娜娜", phone="15900005678"
        ),
        "NE": add_households(
            session, [(X0 + STEP + 0.005, Y0 + STEP + 0.005)], head_name="李四", phone="13600001111"
        ),
        "SW": add_households(
            session, [(X0 + 0.005, Y0 + 0.005)], head_name="王五", phone="13700002222"
        ),
        "none": add_households(
            session, [(X0 - 0.02, Y0 - 0.02)], head_name="赵六", phone="13500003333"
        ),
    }
    add_user(session, "wang", "worker", grids=[world.grids["NW"]])
    add_user(session, "idle", "worker")
    add_user(session, "leader", "leader")
    add_user(session, "planner", "planner")
    add_user(session, "admin", "admin")
    add_user(session, "chief", "leader", area=world.community)
    assign_all(session)  # commits
    return ids


def households(client, **params) -> dict:
    response = client.get("/api/v1/households", query_string=params)
    assert response.status_code == 200, response.get_data(as_text=True)[:300]
    return response.get_json()


def personal_reads(session) -> list[tuple[str, str, list[int], str]]:
    rows = session.execute(
        select(
            User.username,
            PersonalDataRead.subject,
            PersonalDataRead.subject_ids,
            PersonalDataRead.purpose,
        )
        .join(User, User.id == PersonalDataRead.user_id)
        .order_by(PersonalDataRead.id)
    )
    return [tuple(r) for r in rows]


def grid_codes(client) -> list[str]:
    response = client.get("/api/v1/areas", query_string={"level": "grid"})
    assert response.status_code == 200
    body = response.get_json()
    assert body["total"] == len(body["features"])
    return [f["properties"]["code"] for f in body["features"]]


# --- households -----------------------------------------------------------------------------


def test_a_worker_sees_only_their_grids_households_unmasked_and_the_read_is_logged(
    client, session, world
):
    login(client, "wang")
    body = households(client)
    assert (body["total"], body["next_offset"]) == (2, None)
    assert [(h["id"], h["head_name"], h["phone"], h["grid_code"]) for h in body["items"]] == [
        (world["NW"][0], "张三", "13812341234", NW),
        (world["NW"][1], "欧阳娜娜", "15900005678", NW),
    ]
    assert personal_reads(session) == [("wang", "households", world["NW"], "household list")]


def test_every_page_a_worker_reads_is_logged_with_the_ids_on_it(client, session, world):
    login(client, "wang")
    first = households(client, limit=1)
    second = households(client, limit=1, offset=1)
    assert [h["id"] for h in first["items"] + second["items"]] == world["NW"]
    assert first["next_offset"] == 1 and second["next_offset"] is None
    assert [ids for _, _, ids, _ in personal_reads(session)] == [[world["NW"][0]], [world["NW"][1]]]


def test_a_worker_asking_for_another_grid_gets_nothing_and_nothing_is_logged(
    client, session, world
):
    login(client, "wang")
    assert households(client, grid=NE) == {
        "items": [],
        "total": 0,
        "limit": 100,
        "offset": 0,
        "next_offset": None,
    }
    assert personal_reads(session) == []


def test_a_worker_without_a_grid_sees_no_household(client, session, world):
    login(client, "idle")
    assert households(client)["total"] == 0
    assert grid_codes(client) == []
    assert personal_reads(session) == []


def test_a_leader_sees_every_household_masked_and_nothing_is_logged(client, session, world):
    login(client, "leader")
    body = households(client)
    assert body["total"] == 5
    assert [(h["id"], h["head_name"], h["phone"], h["grid_code"]) for h in body["items"]] == [
        (world["NW"][0], "张*", "138****1234", NW),
        (world["NW"][1], "欧***", "159****5678", NW),
        (world["NE"][0], "李*", "136****1111", NE),
        (world["SW"][0], "王*", "137****2222", SW),
        (world["none"][0], "赵*", "135****3333", None),
    ]
    assert personal_reads(session) == []
    assert session.scalar(select(func.count()).select_from(PersonalDataRead)) == 0


def test_a_planner_also_gets_masked_data(client, session, world):
    login(client, "planner")
    items = households(client, grid=NE)["items"]
    assert [(h["head_name"], h["phone"]) for h in items] == [("李*", "136****1111")]
    assert personal_reads(session) == []


def test_an_admin_sees_personal_data_and_the_read_is_logged(client, session, world):
    login(client, "admin")
    items = households(client, grid=SW)["items"]
    assert [(h["head_name"], h["phone"]) for h in items] == [("王五", "13700002222")]
    assert personal_reads(session) == [("admin", "households", world["SW"], "household list")]


def test_a_leader_of_a_community_sees_only_its_households(client, session, world):
    login(client, "chief")
    body = households(client)
    assert sorted(h["id"] for h in body["items"]) == sorted(world["NW"] + world["NE"] + world["SW"])
    assert {h["phone"] for h in body["items"]} == {
        "138****1234",
        "159****5678",
        "136****1111",
        "137****2222",
    }


def test_a_bearer_token_gets_the_same_scope_as_the_session(client, session, world):
    token = issue_token(session, "wang")
    session.commit()
    response = client.get("/api/v1/households", headers={"Authorization": f"Bearer {token}"})
    assert [h["id"] for h in response.get_json()["items"]] == world["NW"]
    assert [who for who, *_ in personal_reads(session)] == ["wang"]


def test_one_user_after_another_each_get_their_own_scope(client, session, world):
    # Two identities in one test: the second must not inherit the first one's scope.
    login(client, "wang")
    assert households(client)["total"] == 2
    client.post("/logout", data={"csrf_token": csrf_token(client, "/")})
    login(client, "leader")
    body = households(client)
    assert body["total"] == 5
    assert body["items"][0]["phone"] == "138****1234"


# --- areas ----------------------------------------------------------------------------------


def test_a_worker_lists_only_their_grid(client, world):
    login(client, "wang")
    assert grid_codes(client) == [NW]


def test_a_worker_still_sees_the_areas_above_their_grid(client, world):
    login(client, "wang")
    response = client.get("/api/v1/areas", query_string={"level": "community"})
    assert [f["properties"]["code"] for f in response.get_json()["features"]] == ["511381001001"]


def test_a_worker_reads_only_their_own_grid_and_its_history(client, world):
    login(client, "wang")
    assert client.get(f"/api/v1/areas/{NW}").get_json()["properties"]["code"] == NW
    assert client.get(f"/api/v1/areas/{NW}/history").status_code == 200
    assert client.get("/api/v1/areas/511381001001").status_code == 200
    for path in (f"/api/v1/areas/{NE}", f"/api/v1/areas/{NE}/history"):
        response = client.get(path)
        assert response.status_code == 404
        assert response.get_json()["error"]["code"] == "not_found"


def test_a_leader_lists_every_grid(client, world):
    login(client, "leader")
    assert grid_codes(client) == [NW, NE, SW, SE]


# --- CSRF -----------------------------------------------------------------------------------


def unsafe_api_routes(app) -> list[tuple[str, str]]:
    """(method, path) of every API route that changes something, with placeholder arguments."""
    routes = []
    for rule in app.url_map.iter_rules():
        if not rule.endpoint.startswith("api."):
            continue
        for method in sorted(rule.methods - {"GET", "HEAD", "OPTIONS"}):
            path = re.sub(r"<(?:[^:>]+:)?[^>]+>", "0", rule.rule)
            routes.append((method, path))
    return routes


def household_count(session) -> int:
    return session.scalar(select(func.count()).select_from(Household))


NEW_HOUSEHOLD = {
    "lon": X0 + 0.005,
    "lat": Y0 + 0.005,
    "address": "保宁路8号",
    "head_name": "钱九",
    "phone": "13912345678",
    "members": 2,
}


def test_a_browser_session_cannot_change_anything_without_the_csrf_token(
    app, client, session, world
):
    routes = unsafe_api_routes(app)
    assert ("POST", "/api/v1/households") in routes
    login(client, "admin")
    before = household_count(session)
    for method, path in routes:
        for headers in ({}, {"X-CSRFToken": "forged"}):
            response = client.open(path, method=method, json=NEW_HOUSEHOLD, headers=headers)
            assert response.status_code == 400, (
                method,
                path,
                response.get_data(as_text=True)[:200],
            )
            error = response.get_json()["error"]
            assert error["code"] == "csrf_failed", (method, path)
            assert error["message"].startswith("CSRF check failed"), error
    assert household_count(session) == before


def test_a_bearer_token_needs_no_csrf_token(client, session, world):
    token = issue_token(session, "admin")
    session.commit()
    before = household_count(session)
    response = client.post(
        "/api/v1/households", json=NEW_HOUSEHOLD, headers={"Authorization": f"Bearer {token}"}
    )
    assert response.status_code == 201, response.get_json()
    assert (response.get_json()["grid_code"], household_count(session)) == (SW, before + 1)


def test_a_browser_session_with_a_made_up_bearer_header_still_needs_the_csrf_token(
    client, session, world
):
    login(client, "admin")
    before = household_count(session)
    response = client.post(
        "/api/v1/households", json=NEW_HOUSEHOLD, headers={"Authorization": "Bearer wg_made-up"}
    )
    assert household_count(session) == before
    assert response.status_code in (400, 401)
