"""Every page works under its Content-Security-Policy: for each role, the maps draw, the scripts
run, Swagger UI renders the API, and Chromium reports no violation; and the policy is not
decorative: a script or an event handler slipped into a page is blocked and reported."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from playwright.sync_api import expect

from app.services.assignment import assign_all
from tests.e2e.browser import log_in
from tests.factories import (
    STEP,
    X0,
    Y0,
    add_category,
    add_hazard,
    add_households,
    add_incident,
    add_site,
    add_user,
    build_world,
)

MAPS = ["/map/coverage", "/map/coverage?level=grid", "/map/incidents?view=heat",
        "/map/incidents?view=weekly", "/map/incidents?view=rate", "/map/hazards",
        "/map/reconstruction", "/planner", "/worker?user={worker}", "/incidents/new",
        "/incidents/{incident}"]  # fmt: skip
PAGES = {
    "admin": [*MAPS, "/", "/incidents", "/worker", "/dashboard", "/sites/{site}", "/api/v1/docs"],
    "leader": [
        "/map/coverage",
        "/map/incidents?view=rate",
        "/dashboard",
        "/map/hazards",
        "/map/reconstruction",
        "/sites/{site}",
        "/worker",
    ],  # fmt: skip
    "planner": ["/planner", "/map/hazards", "/map/coverage"],
    "wang": ["/worker", "/incidents/new", "/incidents/{incident}", "/sites/{site}"],
    None: ["/login", "/public/report", "/public/report/{incident}", "/public/sites"],
}


@pytest.fixture
def world(session):
    world = build_world(session)
    add_households(session, [(X0 + 0.003, Y0 + STEP + 0.003), (X0 + STEP + 0.004, Y0 + 0.004)])
    road = add_category(session, "road", "道路破损")
    now = datetime.now(UTC)
    incident = add_incident(session, world, "NW", road, status="dispatched", channel="web",
                            deadline_at=now + timedelta(days=1))  # fmt: skip
    add_incident(session, world, "SE", road, status="closed", created_at=now - timedelta(days=9),
                 deadline_at=now - timedelta(days=5), closed_at=now - timedelta(days=6))  # fmt: skip
    add_hazard(session)
    site = add_site(session)
    for role in ("admin", "leader", "planner"):
        add_user(session, role, role)
    worker = add_user(session, "wang", "worker", grids=[world.grids["NW"]])
    session.flush()
    values = {"incident": incident.id, "site": site.id, "worker": worker.id}
    assign_all(session)  # commits: the live server sees everything from here on
    return values


def script_sources(policy: str) -> str:
    return next(d for d in policy.split(";") if d.strip().startswith("script-src ")).strip()


@pytest.mark.parametrize("user", list(PAGES), ids=[str(u) for u in PAGES])
def test_every_page_runs_under_its_policy_without_a_violation(world, open_page, user):
    page, watch = open_page()
    if user:
        log_in(page, user)
    for template in PAGES[user]:
        path = template.format(**world)
        response = page.goto(path)
        assert response.status == 200, path
        policy = response.headers["content-security-policy"]
        assert "'unsafe-inline'" not in script_sources(policy), path
        assert "'unsafe-eval'" not in policy, path
        if template in MAPS or path == "/public/report":
            # The map's inline script ran with the nonce: Leaflet drew the map.
            expect(page.locator(".leaflet-container .leaflet-control-zoom")).to_have_count(1)
            assert "'nonce-" in script_sources(policy), path
        if path == "/api/v1/docs":
            expect(page.locator("#swagger .opblock").first).to_be_visible()
        page.wait_for_load_state("networkidle")
        assert watch.csp_violations == [], path
        assert watch.problems() == [], path


def test_a_script_slipped_into_a_page_is_blocked_and_reported(world, open_page):
    page, watch = open_page()
    log_in(page, "admin")
    page.goto("/map/hazards")
    expect(page.locator(".leaflet-container")).to_have_count(1)
    page.evaluate(
        """() => {
            const script = document.createElement("script");
            script.textContent = "window.__ran = 'inline script'";
            document.body.append(script);
            const img = document.createElement("div");
            img.innerHTML = '<img src="data:," onerror="window.__ran = \\'handler\\'">';
            document.body.append(img);
        }"""
    )
    page.wait_for_timeout(300)
    assert page.evaluate("window.__ran === undefined")
    directives = sorted(v.split(" ")[0] for v in watch.csp_violations)
    assert directives == ["script-src-attr", "script-src-elem"], watch.csp_violations
