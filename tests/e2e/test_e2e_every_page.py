"""Every page a logged-in admin can open, and the public ones, at desktop and phone sizes:
no console error, no failed or foreign request, no horizontal scrolling on the phone, no
phone or ID number in the page, and a screenshot of each."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta

import pytest
from geoalchemy2.shape import from_shape
from shapely import MultiPolygon, Point, box

from app.models import Hazard, Household, ReconstructionSite
from app.services.assignment import assign_all
from tests.e2e.browser import log_in, screenshot_path, shown
from tests.factories import (
    STEP,
    X0,
    Y0,
    add_category,
    add_households,
    add_incident,
    add_user,
    build_world,
)

DESKTOP, PHONE = (1280, 800), (390, 844)
# The phones and ID numbers planted in the world (households, incident, site, users).
ID_NUMBERS = ("51138119450101002X", "511381194601010035")
PLANTED = ("13812345678", "13912345678", "13712345678", "13900001111", *ID_NUMBERS)
PAGES = [
    "/",
    "/incidents",
    "/incidents?view=escalated",
    "/worker",
    "/incidents/new",
    "/map/coverage",
    "/map/incidents",
    "/dashboard",
    "/map/hazards",
    "/map/reconstruction",
    "/planner",
]
PUBLIC_PAGES = ["/public/report", "/public/sites", "/login"]


@pytest.fixture
def world(session):
    world = build_world(session)
    households = add_households(
        session,
        [(X0 + 0.003, Y0 + STEP + 0.003), (X0 + STEP + 0.004, Y0 + 0.004)],
        phone="13812345678",
        head_name="王小明",
    )
    # Household registers key households by the head's ID number.
    for household, id_number in zip(households, ID_NUMBERS):
        session.get(Household, household).external_id = id_number
    road = add_category(session, "road", "道路破损")
    now = datetime.now(UTC)
    add_incident(session, world, "NW", road, status="dispatched",
                 deadline_at=now - timedelta(days=5), escalation_level="street",
                 contact_phone="13912345678")  # fmt: skip
    add_incident(session, world, "SE", road, status="closed", created_at=now - timedelta(days=4),
                 deadline_at=now - timedelta(days=1), closed_at=now - timedelta(days=2))  # fmt: skip
    session.add(
        Hazard(
            name="测试洪水区",
            hazard_class="flood",
            severity=3,
            geom=from_shape(MultiPolygon([box(X0, Y0, X0 + STEP, Y0 + STEP)]), srid=4326),
        )
    )
    session.add(
        ReconstructionSite(
            name="安置房一期",
            site_type="housing",
            owner="住建局",
            geom=from_shape(Point(X0 + STEP, Y0 + STEP), srid=4326),
            planned_start=date.today() - timedelta(days=30),
            planned_end=date.today() + timedelta(days=60),
            contact_phone="13712345678",
        )
    )
    add_user(session, "admin", "admin")
    add_user(session, "wang", "worker", grids=[world.grids["NW"]])
    assign_all(session)  # commits: the live server sees everything from here on
    return world


def check(page, watch, name: str, size: tuple[int, int]) -> None:
    page.wait_for_load_state("networkidle")
    assert watch.problems() == [], name
    if size == PHONE:
        overflow = page.evaluate(
            "document.documentElement.scrollWidth - document.documentElement.clientWidth"
        )
        assert overflow <= 1, f"{name} scrolls sideways by {overflow} px on a phone"
    assert shown(page.content(), PLANTED) == [], f"{name} shows a phone or ID number"
    slug = re.sub(r"\W+", "-", name).strip("-") or "home"
    page.screenshot(path=screenshot_path(f"every-page-{slug}-{size[0]}x{size[1]}.png"))


@pytest.mark.parametrize("size", [DESKTOP, PHONE], ids=["desktop", "phone"])
def test_every_page_opens_cleanly(open_page, world, size):
    page, watch = open_page(viewport=size)
    log_in(page, "admin")
    for path in PAGES:
        response = page.goto(path)
        assert response.status == 200, path
        check(page, watch, path, size)


@pytest.mark.parametrize("size", [DESKTOP, PHONE], ids=["desktop", "phone"])
def test_every_public_page_opens_cleanly(open_page, world, size):
    page, watch = open_page(viewport=size)
    for path in PUBLIC_PAGES:
        response = page.goto(path)
        assert response.status == 200, path
        check(page, watch, path, size)
