"""The grid worker's page and the incident page on a phone screen (390 x 844), used with taps
and typing: grid outlines, incidents coloured by deadline, the locate box (a tap, typed
coordinates in another system, an address), the bell after a dispatch, a workflow step."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from app.models import Incident, IncidentCategory, Notification, User
from app.services import auth as auth_service
from app.services.assignment import assign_all
from app.services.incidents import transition
from geo.crs import wgs84_to_bd09, wgs84_to_gcj02
from tests.e2e.browser import log_in, map_position, screenshot_path
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

PHONE = (390, 844)
NW, NE, SW, SE = (f"511381001001{i:03d}" for i in range(1, 5))
CENTRES = {
    "NW": (X0 + 0.5 * STEP, Y0 + 1.5 * STEP),
    "NE": (X0 + 1.5 * STEP, Y0 + 1.5 * STEP),
    "SW": (X0 + 0.5 * STEP, Y0 + 0.5 * STEP),
    "SE": (X0 + 1.5 * STEP, Y0 + 0.5 * STEP),
}
COLOURS = {"ok": "#2e7d32", "near": "#f9a825", "overdue": "#c62828"}  # worker.js COLOURS
BORDERS = {"ok": "rgb(46, 125, 50)", "near": "rgb(249, 168, 37)", "overdue": "rgb(198, 40, 40)"}
HEAD_NAMES = ("张三", "李四")


@pytest.fixture
def world(session):
    """wang holds NW and SW (two households each, one vulnerable); li holds SE; three open
    incidents of wang's, overdue, near and well within their deadline."""
    world = build_world(session)
    add_households(session, [(X0 + 0.002, Y0 + STEP + 0.002), (X0 + 0.004, Y0 + 0.004)],
                   head_name=HEAD_NAMES[0], phone="13812341234", address="幸福路1号")  # fmt: skip
    add_households(session, [(X0 + 0.007, Y0 + STEP + 0.006), (X0 + 0.006, Y0 + 0.003)],
                   head_name=HEAD_NAMES[1], phone="13600001111", address="和平街8号",
                   tags=["elderly_alone"])  # fmt: skip
    world.users = {
        "wang": add_user(session, "wang", "worker", grids=[world.grids["NW"], world.grids["SW"]]),
        "li": add_user(session, "li", "worker", grids=[world.grids["SE"]]),
        "admin": add_user(session, "admin", "admin"),
    }
    world.category = add_category(session)
    now = datetime.now(UTC)
    world.incidents = {
        state: add_incident(
            session, world, key, world.category, status="dispatched",
            point=(CENTRES[key][0] + dx, CENTRES[key][1]), worker_id=world.users["wang"].id,
            created_at=now - timedelta(days=2), deadline_at=now + timedelta(hours=hours),
        )
        for state, key, dx, hours in (
            ("ok", "NW", 0.002, 300), ("overdue", "SW", 0.0, -20), ("near", "NW", -0.002, 3),
        )
    }  # fmt: skip
    # Ids read now, for the browser's side of the tests.
    world.ids = {name: user.id for name, user in world.users.items()}
    world.ids |= {state: incident.id for state, incident in world.incidents.items()}
    world.ids |= {key: grid.id for key, grid in world.grids.items()}
    assign_all(session)  # commits: the live server sees everything from here on
    return world


def take_step(session, world, incident_id: int, to: str, note: str = "") -> None:
    """A step taken by the command centre (commits), as from another screen."""
    admin = session.get(User, world.ids["admin"])
    transition(session, admin, auth_service.scope_for(session, admin), incident_id, to=to,
               note=note)  # fmt: skip


def fits_the_screen(page) -> bool:
    return page.evaluate("() => document.documentElement.scrollWidth <= window.innerWidth")


def small_tap_targets(page, selector: str) -> list[str]:
    """Visible buttons, links and fields under ``selector`` less than 40 px high."""
    return page.evaluate(
        """(selector) => [...document.querySelectorAll(
              `${selector} button, ${selector} a.button, ${selector} a.row-link,
               ${selector} input:not([type=hidden]), ${selector} select, ${selector} textarea`)]
            .filter((e) => e.offsetParent !== null && !e.closest('.leaflet-container, .hp'))
            .filter((e) => e.getBoundingClientRect().height < 40)
            .map((e) => `${e.tagName} ${e.name || e.textContent.trim()} ${e.getBoundingClientRect().height}`)""",
        selector,
    )


def open_worker_page(open_page):
    page, watch = open_page(viewport=PHONE)
    log_in(page, "wang", path="/login?next=/worker")
    expect(page.locator("#worker[data-ready=true]")).to_have_count(1)
    return page, watch, page.locator("#worker").get_attribute("data-map")


def test_worker_page_draws_my_grids_households_and_incidents_by_deadline(world, open_page):
    page, watch, map_name = open_worker_page(open_page)
    assert page.locator("#worker").get_attribute("data-grids") == "2"
    outlines = page.locator(".leaflet-overlay-pane path[stroke='#1f4e79']")
    expect(outlines).to_have_count(2)

    ids = world.ids
    rows = page.locator("#queue li")
    expect(rows).to_have_count(3)
    assert rows.evaluate_all("(rs) => rs.map((r) => r.dataset.state)") == ["overdue", "near", "ok"]
    assert rows.evaluate_all("(rs) => rs.map((r) => Number(r.dataset.id))") == [
        ids["overdue"], ids["near"], ids["ok"]
    ]  # fmt: skip
    for state, colour in BORDERS.items():
        row = page.locator(f"#queue li.state-{state}")
        assert row.evaluate("(r) => getComputedStyle(r).borderLeftColor") == colour
        marker = page.locator(f"path.incident-marker.state-{state}")
        expect(marker).to_have_count(1)
        assert marker.get_attribute("fill") == COLOURS[state]
    expect(page.locator("#queue-count")).to_have_text("3")

    households = page.locator("ul.households li")
    expect(households).to_have_count(4)
    expect(households.first).to_contain_text("李* · 136****1111")  # sorted by address
    expect(households.last).to_contain_text("张* · 138****1234")
    html = page.content()
    assert all(name not in html for name in HEAD_NAMES)
    assert "13812341234" not in html and "13600001111" not in html

    assert fits_the_screen(page)
    assert small_tap_targets(page, "main") == []
    page.screenshot(path=screenshot_path("worker-phone.png"), full_page=True)
    assert watch.problems() == []


def test_locate_box_answers_a_tap_typed_coordinates_and_an_address(world, open_page):
    page, watch, map_name = open_worker_page(open_page)
    result = page.locator("#locate-result")

    page.mouse.click(*map_position(page, map_name, *CENTRES["NW"]))
    expect(result).to_have_attribute("data-grid", NW)
    expect(result).to_contain_text("地图点选位置")
    expect(result).to_contain_text("wang")

    # SE's centre typed as AMap (GCJ-02) gives it ~500 m off in WGS84 terms; it still lands in SE.
    lon, lat = (float(v) for v in wgs84_to_gcj02(*CENTRES["SE"]))
    form = page.locator("#coord-form")
    form.get_by_label("经度").fill(f"{lon:.7f}")
    form.get_by_label("纬度").fill(f"{lat:.7f}")
    form.get_by_label("坐标系").select_option("gcj02")
    form.get_by_role("button", name="定位").click()
    expect(result).to_have_attribute("data-grid", SE)
    expect(result).to_contain_text("li")
    expect(result).to_contain_text(f"{CENTRES['SE'][0]:.6f}")

    # The same point in Baidu's system, 10 m west of the NE/NW boundary: near-boundary candidates.
    near_edge = (X0 + STEP - 0.0001, Y0 + 1.5 * STEP)
    lon, lat = (float(v) for v in wgs84_to_bd09(*near_edge))
    form.get_by_label("经度").fill(f"{lon:.7f}")
    form.get_by_label("纬度").fill(f"{lat:.7f}")
    form.get_by_label("坐标系").select_option("bd09")
    form.get_by_role("button", name="定位").click()
    expect(result).to_have_attribute("data-grid", NW)
    expect(result.locator(".candidates li")).to_have_count(2)
    expect(result.locator(".candidates")).to_contain_text(NE)

    watch.expect_status("/api/v1/locate", 422)
    form.get_by_label("纬度").fill("north")
    form.get_by_role("button", name="定位").click()
    expect(result).to_contain_text("数据无效（纬度）：lat must be a number")

    address = page.locator("#address-form")
    address.get_by_label("地址").fill("和平街")
    address.get_by_role("button", name="查找").click()
    found = page.locator("#address-results button")
    expect(found).to_have_count(1)
    expect(found).to_contain_text("和平街8号")
    found.click()
    expect(result).to_have_attribute("data-grid", NW)
    assert HEAD_NAMES[1] not in page.content()

    assert fits_the_screen(page)
    page.screenshot(path=screenshot_path("worker-locate-phone.png"), full_page=True)
    assert watch.problems() == []


def test_the_bell_shows_an_incident_dispatched_to_me(world, open_page, session):
    registered = add_incident(session, world, "NW", world.category, status="registered",
                              worker_id=world.ids["wang"]).id  # fmt: skip
    session.commit()
    page, watch, _ = open_worker_page(open_page)
    expect(page.locator("#bell[data-ready=true]")).to_have_count(1)
    expect(page.locator("#bell-count")).to_be_hidden()

    # The command centre dispatches it while the page sits idle.
    take_step(session, world, registered, "dispatched", "请尽快处理")

    page.reload()
    expect(page.locator("#bell[data-ready=true]")).to_have_count(1)
    expect(page.locator("#bell-count")).to_have_text("1")
    page.locator("#bell-button").click()
    notice = page.locator("#bell-list li.unread a")
    expect(notice).to_have_count(1)
    expect(notice).to_contain_text(f"事件 #{registered} 已派遣给您")
    assert notice.get_attribute("href") == f"/incidents/{registered}"
    page.screenshot(path=screenshot_path("worker-bell-phone.png"))
    page.get_by_role("button", name="全部已读").click()
    expect(page.locator("#bell-count")).to_be_hidden()
    expect(page.locator("#bell-list li.unread")).to_have_count(0)
    assert fits_the_screen(page)
    assert watch.problems() == []
    read_at = session.scalar(
        select(Notification.read_at).where(Notification.incident_id == registered)
    )
    assert read_at is not None


def test_taking_a_step_on_the_incident_page_puts_it_in_the_timeline(world, open_page, session):
    incident = world.ids["near"]
    page, watch, _ = open_worker_page(open_page)
    page.locator(f"#queue li[data-id='{incident}'] a").click()
    expect(page.locator("#incident[data-ready=true]")).to_have_count(1)
    assert page.url.endswith(f"/incidents/{incident}")
    expect(page.locator("#status-name")).to_have_text("派遣")
    expect(page.locator("#deadline")).to_contain_text("临近期限")
    assert page.locator("#deadline").evaluate("(e) => getComputedStyle(e).color") == BORDERS["near"]
    expect(page.locator("#grid-name")).to_contain_text(NW)
    page.screenshot(path=screenshot_path("incident-phone.png"), full_page=True)

    page.get_by_label("备注").fill("已到现场，开始处置")
    with page.expect_navigation():
        page.get_by_role("button", name="开始处置").click()
    expect(page.locator("#status-name")).to_have_text("处置")
    entry = page.locator("#timeline li[data-to=in_progress]")
    expect(entry).to_contain_text("已到现场，开始处置")
    expect(entry).to_contain_text("wang")
    # The next step wants photos: the field is there, the step taken with one is shown.
    expect(page.get_by_role("button", name="反馈处置结果")).to_be_visible()
    assert fits_the_screen(page)
    assert small_tap_targets(page, "main") == []
    assert watch.problems() == []
    assert session.get(Incident, incident).status == "in_progress"


def test_a_refused_step_says_why_in_chinese(world, open_page, session):
    incident = world.ids["ok"]
    page, watch, _ = open_worker_page(open_page)
    page.goto(f"/incidents/{incident}")
    expect(page.locator("#incident[data-ready=true]")).to_have_count(1)
    take_step(session, world, incident, "in_progress")  # someone else, while the page is open
    watch.expect_status(f"/api/v1/incidents/{incident}/transitions", 409)
    page.get_by_role("button", name="开始处置").click()
    message = page.locator("#incident-message")
    expect(message).to_contain_text("事件当前状态不能执行这一步：")
    expect(message).to_contain_text("in_progress")
    assert watch.problems() == []


def test_the_pages_also_work_at_desktop_size(world, open_page):
    page, watch = open_page(viewport=(1280, 800))
    log_in(page, "wang", path="/login?next=/worker")
    expect(page.locator("#worker[data-ready=true]")).to_have_count(1)
    expect(page.locator("#queue li")).to_have_count(3)
    assert fits_the_screen(page)
    page.screenshot(path=screenshot_path("worker-desktop.png"))
    page.goto(f"/incidents/{world.ids['ok']}")
    expect(page.locator("#incident[data-ready=true]")).to_have_count(1)
    assert fits_the_screen(page)
    page.goto("/incidents/new")
    expect(page.locator("#report-form[data-ready=true]")).to_have_count(1)
    assert fits_the_screen(page)
    page.goto("/public/report")
    expect(page.locator("#report-form[data-ready=true]")).to_have_count(1)
    assert fits_the_screen(page)
    assert watch.problems() == []


def test_a_near_boundary_incident_is_rerouted_in_one_click(world, open_page, session):
    road = session.scalar(select(IncidentCategory).where(IncidentCategory.code == "road"))
    near = add_incident(session, world, "NW", road, status="submitted",
                        point=(X0 + STEP - 0.0001, Y0 + 1.2 * STEP), near_boundary=True,
                        worker_id=world.ids["wang"],
                        candidate_grid_ids=[world.ids["NW"], world.ids["NE"]]).id  # fmt: skip
    session.commit()
    page, watch, _ = open_worker_page(open_page)
    page.goto(f"/incidents/{near}")
    expect(page.locator("#incident[data-ready=true]")).to_have_count(1)
    expect(page.locator("button[data-reroute]")).to_have_count(1)
    # NE is not wang's grid: the case leaves his area (the API answers 404 once it has moved
    # it, as it no longer shows him the case), and the page says so.
    watch.expect_status(f"/api/v1/incidents/{near}/reroute", 404)
    page.get_by_role("button", name="改派到此网格").click()
    expect(page.locator("#incident-message")).to_contain_text(f"已改派到 {NE}")
    assert watch.problems() == []
    incident = session.get(Incident, near)
    assert (incident.grid_id, incident.worker_id) == (world.ids["NE"], None)
