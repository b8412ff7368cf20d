"""Stored script in names never runs: a payload planted in every free-text field that reaches a
page or a map (area names and codes, hazard, site, category, department, worker, incident and
household text) is shown as text on every page, in every tooltip and popup, for every role
that sees it; no element of it is created, no script runs, no dialog opens, no link leads to
``javascript:``."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from geoalchemy2.shape import from_shape
from playwright.sync_api import expect
from shapely import MultiPolygon, Point, box

from app.models import IncidentEvent, Notification
from app.models.hazards import Hazard, ReconstructionSite, SiteMilestone, SiteProgress
from app.services.assignment import assign_all
from tests.e2e.browser import log_in, map_position
from tests.factories import (
    STEP,
    X0,
    Y0,
    add_category,
    add_department,
    add_households,
    add_incident,
    add_user,
    build_world,
)

CENTRES = {
    "NW": (X0 + STEP / 2, Y0 + 1.5 * STEP),
    "NE": (X0 + 1.5 * STEP, Y0 + 1.5 * STEP),
    "SW": (X0 + STEP / 2, Y0 + STEP / 2),
    "SE": (X0 + 1.5 * STEP, Y0 + STEP / 2),
}
SITE_POINT = (X0 + 1.5 * STEP, Y0 + 0.5 * STEP)
INCIDENT_POINT = (X0 + 0.3 * STEP, Y0 + 1.3 * STEP)  # in NW, away from the popups' centres
HAZARD_ZONE = box(X0 + 0.2 * STEP, Y0 + 1.2 * STEP, X0 + 0.8 * STEP, Y0 + 1.8 * STEP)
# Codes are short (20 characters): markup only.
CODE_PAYLOAD = "<b class=xss>C</b>"
JS_URL = "javascript:window.__xss='url'"


def payload(tag: str) -> str:
    """Markup that sets ``window.__xss`` to ``tag`` when a page treats it as HTML: an element
    (class ``xss``) and a script breaking out of an attribute (at most 100 characters, the
    shortest column's length)."""
    return f"<img class=xss src=x onerror=\"__xss='{tag}'\">\"><script>__xss='{tag}'</script>"


def literal(tag: str) -> str:
    """The part of a payload that must be read as text where it is shown."""
    return f"onerror=\"__xss='{tag}'\">"


@pytest.fixture
def world(session):
    world = build_world(session)
    world.district.name = payload("dist")
    world.street.name = payload("str")
    world.community.name = payload("comm")
    for key, grid in world.grids.items():
        grid.name = payload(f"g{key}")
    world.grids["NE"].code = CODE_PAYLOAD
    department = add_department(session, "cg", payload("dept"))
    category = add_category(session, "road", payload("cat"), department=department)
    worker = add_user(session, "wang", "worker", grids=[world.grids["NW"], world.grids["SE"]])
    worker.display_name = payload("wkr")
    admin = add_user(session, "admin", "admin")
    add_user(session, "leader", "leader")
    add_user(session, "planner", "planner")
    add_households(
        session,
        [CENTRES["NW"], (X0 + 0.4 * STEP, Y0 + 1.4 * STEP)],
        address=payload("hh"),
        head_name=payload("head"),
        tags=["elderly_alone"],
    )
    add_households(session, [CENTRES["SE"]], address=JS_URL)
    now = datetime.now(UTC)
    incident = add_incident(
        session, world, "NW", category, point=INCIDENT_POINT, status="dispatched",
        description=payload("desc"), address=payload("iaddr"),
        contact_name=payload("con"), channel="web", worker_id=worker.id,
        deadline_at=now + timedelta(days=2),
    )  # fmt: skip
    add_incident(
        session, world, "NW", category, point=(INCIDENT_POINT[0] + 0.0004, INCIDENT_POINT[1]),
        status="submitted", description=JS_URL, address=JS_URL, created_at=now - timedelta(days=8),
    )  # fmt: skip
    session.add(
        IncidentEvent(
            incident_id=incident.id,
            from_status="submitted",
            to_status="dispatched",
            actor_id=worker.id,
            note=payload("step"),
        )
    )
    session.add(
        Notification(
            user_id=admin.id, incident_id=incident.id, kind="assigned", message=payload("ntc")
        )
    )
    session.add(
        Hazard(
            name=payload("hz"),
            hazard_class="flood",
            severity=4,
            geom=from_shape(MultiPolygon([HAZARD_ZONE]), srid=4326),
        )
    )
    site = ReconstructionSite(
        name=payload("site"),
        site_type="housing",
        owner=payload("own"),
        description=JS_URL,
        geom=from_shape(Point(*SITE_POINT), srid=4326),
        planned_start=now.date() - timedelta(days=30),
        planned_end=now.date() + timedelta(days=60),
        contact_name=payload("scon"),
    )
    session.add(site)
    session.flush()
    session.add(SiteMilestone(site_id=site.id, name=payload("ms"), planned_date=now.date()))
    session.add(
        SiteProgress(site_id=site.id, reported_on=now.date(), percent=10, note=payload("note"))
    )
    session.flush()
    ids = {"incident": incident.id, "site": site.id, "worker": worker.id}
    codes = {"community": world.community.code}
    assign_all(session)  # commits: the live server sees everything from here on
    return ids | codes


class Visit:
    """A browser that fails on any sign of the payloads and keeps the text it was shown."""

    def __init__(self, page, watch):
        self.page = page
        self.watch = watch
        self.dialogs: list[str] = []
        self.seen: list[str] = []
        page.on("dialog", self._dialog)

    def _dialog(self, dialog) -> None:
        self.dialogs.append(f"{dialog.type}: {dialog.message}")
        dialog.dismiss()

    def go(self, path: str) -> None:
        response = self.page.goto(path)
        assert response.status == 200, path
        self.page.wait_for_load_state("networkidle")
        self.check(path)

    def check(self, where: str) -> None:
        ran = self.page.evaluate("window.__xss === undefined ? null : String(window.__xss)")
        assert ran is None, f"{where}: the payload planted in the {ran} ran"
        assert self.dialogs == [], f"{where}: {self.dialogs}"
        injected = self.page.locator(".xss").evaluate_all(
            "els => els.map(e => e.outerHTML.slice(0, 80))"
        )
        assert injected == [], f"{where}: markup from the data became elements: {injected}"
        links = self.page.locator("a[href]").evaluate_all(
            "as => as.map(a => a.getAttribute('href')).filter(h => /^\\s*javascript:/i.test(h))"
        )
        assert links == [], f"{where}: links to {links}"
        self.seen.append(self.page.evaluate("document.body.innerText"))

    def map_name(self) -> str:
        return self.page.locator(".folium-map").first.get_attribute("id")

    def at(self, lon: float, lat: float) -> tuple[float, float]:
        return map_position(self.page, self.map_name(), lon, lat)

    def hover(self, lon: float, lat: float) -> str:
        """Move the mouse onto (lon, lat); the tooltip's text."""
        x, y = self.at(lon, lat)
        self.page.mouse.move(x - 3, y - 3)
        self.page.mouse.move(x, y, steps=3)
        tooltip = self.page.locator(".leaflet-tooltip").last
        expect(tooltip).to_be_visible()
        self.page.wait_for_timeout(100)  # an injected image's error handler runs after a tick
        self.check(f"a tooltip on {self.page.url}")
        return tooltip.inner_text()

    def click(self, lon: float, lat: float) -> str:
        """Click (lon, lat); the open popup's text."""
        self.page.mouse.click(*self.at(lon, lat))
        popup = self.page.locator(".leaflet-popup-content")
        expect(popup).to_have_count(1)
        self.page.wait_for_timeout(100)
        self.check(f"a popup on {self.page.url}")
        return popup.inner_text()


def visit_as(open_page, username: str) -> Visit:
    page, watch = open_page()
    log_in(page, username)
    return Visit(page, watch)


def test_no_payload_runs_on_any_page_or_map(world, open_page):
    v = visit_as(open_page, "admin")

    v.go("/")
    v.go("/map/incidents?view=rate")
    assert literal("gNW") in v.hover(*CENTRES["NW"])
    v.check("the rate map's tooltip")
    for view in ("heat", "weekly"):
        v.go(f"/map/incidents?view={view}")

    v.go("/map/hazards")
    assert literal("hz") in v.hover(*HAZARD_ZONE.centroid.coords[0])
    assert literal("hz") in v.click(*HAZARD_ZONE.centroid.coords[0])
    v.check("the hazard's tooltip and popup")
    v.page.get_by_role("button", name="开始分析").click()
    expect(v.page.locator("#impact-result")).to_be_visible()
    door_knock = v.page.locator("#impact-door-knock").inner_text()
    assert literal("hh") in door_knock and literal("wkr") in door_knock
    assert literal("gNW") in v.page.locator("#impact-grids").inner_text()
    v.check("the impact analysis")

    v.go("/map/reconstruction")
    assert literal("site") in v.hover(*SITE_POINT)
    popup = v.click(*SITE_POINT)
    assert literal("site") in popup and literal("own") in popup
    v.check("the site's tooltip and popup")
    v.go(f"/sites/{world['site']}")
    v.go("/public/sites")

    v.go(f"/planner?community={world['community']}")
    expect(v.page.locator("#planner[data-ready=true]")).to_have_count(1)
    tooltip = v.hover(*CENTRES["NE"])
    assert literal("gNE") in tooltip and CODE_PAYLOAD in tooltip
    v.page.mouse.click(*v.at(*CENTRES["NE"]))
    v.page.mouse.click(*v.at(*CENTRES["SW"]))
    selected = v.page.locator("#selected-list").inner_text()
    assert literal("gNE") in selected and literal("gSW") in selected
    assert CODE_PAYLOAD in v.page.locator("#coverage").inner_text()  # NE has no worker
    v.check("the planner's tooltips and lists")

    for level, key in (("grid", "NE"), ("community", "NW"), ("street", "NW")):
        v.go(f"/map/coverage?level={level}")
        frame = v.page.locator(f'.folium-map[data-level="{level}"][data-units-loaded="1"]')
        expect(frame).to_have_count(1)
        tag = {"grid": f"g{key}", "community": "comm", "street": "str"}[level]
        assert literal(tag) in v.click(*CENTRES[key])
        v.check(f"the coverage map's {level} popup")

    v.go("/worker")
    v.go(f"/worker?user={world['worker']}")
    assert literal("cat") in v.click(*INCIDENT_POINT)
    v.check("the worker page's incident popup")
    v.page.locator(".leaflet-popup-close-button").click()
    v.page.mouse.click(*v.at(*CENTRES["SE"]))
    result = v.page.locator("#locate-result")
    expect(result).to_have_attribute("data-grid", world_grid_code("SE"))
    assert literal("gSE") in result.inner_text() and literal("wkr") in result.inner_text()
    v.check("the locate result")

    v.go("/dashboard")
    v.go(f"/dashboard?level=grid&parent={world['community']}")
    v.go("/incidents")
    v.go("/incidents/new")
    v.go(f"/incidents/{world['incident']}")
    v.page.locator("#bell-button").click()
    expect(v.page.locator("#bell-list li")).not_to_have_count(0)
    assert literal("ntc") in v.page.locator("#bell-list").inner_text()
    v.check("the notifications")
    assert v.watch.problems() == []

    # The roles whose pages mask personal data or narrow the tools see the same text.
    leader = visit_as(open_page, "leader")
    leader.go("/map/incidents?view=rate")
    assert literal("gNW") in leader.hover(*CENTRES["NW"])
    leader.go("/map/hazards")
    leader.page.get_by_role("button", name="开始分析").click()
    expect(leader.page.locator("#impact-result")).to_be_visible()
    assert literal("hh") in leader.page.locator("#impact-door-knock").inner_text()
    leader.check("the leader's impact analysis")
    leader.go("/map/reconstruction")
    assert literal("own") in leader.click(*SITE_POINT)
    assert leader.watch.problems() == []

    planner = visit_as(open_page, "planner")
    planner.go(f"/planner?community={world['community']}")
    expect(planner.page.locator("#planner[data-ready=true]")).to_have_count(1)
    assert literal("gSW") in planner.hover(*CENTRES["SW"])
    planner.go("/map/hazards")
    assert literal("hz") in planner.click(*HAZARD_ZONE.centroid.coords[0])
    assert planner.watch.problems() == []

    w = visit_as(open_page, "wang")
    w.go("/worker")
    assert literal("cat") in w.click(*INCIDENT_POINT)
    w.check("the worker's own incident popup")
    w.go(f"/incidents/{world['incident']}")
    assert w.watch.problems() == []

    public, watch = open_page()
    p = Visit(public, watch)
    p.go("/public/report")
    p.go(f"/public/report/{world['incident']}")
    p.go("/public/sites")
    assert watch.problems() == []

    shown = "\n".join(v.seen + w.seen + p.seen)
    tags = ["dist", "str", "comm", "gNW", "gSE", "dept", "cat",
            "wkr", "hh", "desc", "iaddr", "step",
            "ntc", "hz", "site", "own", "ms", "note"]  # fmt: skip
    assert [t for t in tags if literal(t) not in shown] == []
    assert JS_URL in shown and CODE_PAYLOAD in shown


def world_grid_code(key: str) -> str:
    return f"511381001001{list(CENTRES).index(key) + 1:03d}"
