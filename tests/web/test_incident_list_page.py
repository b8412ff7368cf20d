"""The incident list: views for open, unrouted, overdue and escalated cases, scoped by area."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest

from tests.conftest import login
from tests.factories import add_category, add_incident, add_user, build_world


@pytest.fixture
def world(session):
    world = build_world(session)
    add_user(session, "boss", "leader", area=world.street)
    add_user(session, "w1", "worker", grids=[world.grids["NW"]])
    road = add_category(session, "road", "道路破损")
    past = datetime.now(UTC) - timedelta(days=10)
    world.incidents = {
        "late": add_incident(session, world, "NW", road, deadline_at=past, status="dispatched",
                             escalation_level="street", contact_phone="13912345678"),
        "fresh": add_incident(session, world, "NE", road, status="submitted",
                              deadline_at=datetime.now(UTC) + timedelta(days=5)),
        "done": add_incident(session, world, "SW", road, status="closed", deadline_at=past),
    }  # fmt: skip
    session.commit()  # a refused request rolls back to here, as in production
    return world


def ids_on(html: str) -> set[int]:
    return {int(n) for n in re.findall(r'href="/incidents/(\d+)"', html)}


@pytest.mark.parametrize(
    ("view", "expected"),
    [("open", {"late", "fresh"}), ("overdue", {"late"}), ("escalated", {"late"}),
     ("all", {"late", "fresh", "done"}), ("review", set())],
)  # fmt: skip
def test_each_view_lists_its_cases(client, world, view, expected):
    login(client, "boss")
    response = client.get(f"/incidents?view={view}")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert ids_on(html) == {world.incidents[k].id for k in expected}
    assert "13912345678" not in html


def test_filters_and_refusals(client, world):
    login(client, "boss")
    html = client.get("/incidents?view=all&status=closed").get_data(as_text=True)
    assert ids_on(html) == {world.incidents["done"].id}
    assert client.get("/incidents?view=nope").status_code == 400
    assert client.get("/incidents?status=done").status_code == 400


def test_workers_use_their_own_page(client, world):
    login(client, "w1")
    assert client.get("/incidents").status_code == 403
