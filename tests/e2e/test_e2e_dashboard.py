"""The dashboard and the incident maps in a real browser, on a desktop and a phone screen:
sorting, drilling down, every map drawn with its legend, and no error in the console."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from playwright.sync_api import expect

from app.services.assignment import assign_all
from app.services.dashboard import SHANGHAI
from tests.e2e.browser import log_in, screenshot_path
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
SIZES = pytest.mark.parametrize("size", [DESKTOP, PHONE], ids=["desktop", "phone"])
# Incidents per grid (NW, NE, SW, SE) and households per grid.
INCIDENTS = {"NW": 3, "NE": 1, "SW": 0, "SE": 2}
HOUSEHOLDS = {"NW": 2, "NE": 1, "SW": 1, "SE": 0}


@pytest.fixture
def world(session):
    world = build_world(session)
    road = add_category(session, "road", "道路破损")
    now = datetime.now(SHANGHAI)
    for key, count in HOUSEHOLDS.items():
        x = X0 + (0 if key in ("NW", "SW") else STEP) + 0.003
        y = Y0 + (STEP if key in ("NW", "NE") else 0) + 0.003
        add_households(session, [(x + 0.001 * i, y) for i in range(count)], phone="13812345678")
    for key, count in INCIDENTS.items():
        for i in range(count):
            add_incident(
                session,
                world,
                key,
                road,
                status="closed" if i % 2 else "dispatched",
                created_at=now - timedelta(days=3 + 8 * i),
                deadline_at=now - timedelta(days=1 + 8 * i),
                closed_at=now - timedelta(days=2 + 8 * i) if i % 2 else None,
            )
    add_user(session, "leader", "leader")
    add_user(session, "wang", "worker", grids=[world.grids["NW"]])
    assign_all(session)  # commits: the live server sees everything from here on
    return world


def latest_week_label() -> str:
    today = datetime.now(SHANGHAI).date()
    return f"{today - timedelta(days=today.weekday())} 起一周"


def no_horizontal_scroll(page) -> bool:
    return page.evaluate(
        "() => document.documentElement.scrollWidth <= document.documentElement.clientWidth + 1"
    )


def table_names(page) -> list[str]:
    return [
        t.strip()
        for t in page.locator("#dashboard-table tbody tr td:first-child").all_inner_texts()
    ]


@SIZES
def test_the_dashboard_sorts_and_drills_down_from_street_to_grid(world, open_page, size):
    page, watch = open_page(size)
    log_in(page, "leader", path="/login?next=/dashboard")
    assert page.url.endswith("/dashboard")
    expect(page.locator("#dashboard-table tbody tr")).to_have_count(1)
    assert table_names(page) == ["保宁街道"]
    expect(page.locator("svg.chart")).to_have_count(2)

    page.get_by_role("link", name="保宁街道").click()
    expect(page.locator("h1 small")).to_have_text("按社区")
    page.get_by_role("link", name="测试社区").last.click()
    expect(page.locator("h1 small")).to_have_text("按网格")
    assert table_names(page) == ["第1网格", "第2网格", "第3网格", "第4网格"]

    header = page.locator("#dashboard-table thead th", has_text="事件数")
    header.click()  # ascending: 0, 1, 2, 3
    assert table_names(page) == ["第3网格", "第2网格", "第4网格", "第1网格"]
    header.click()  # descending
    assert table_names(page) == ["第1网格", "第4网格", "第2网格", "第3网格"]
    expect(header).to_have_attribute("aria-sort", "descending")
    expect(page.locator("#dashboard-table tfoot th")).to_have_text("合计")
    expect(page.locator('dd[data-figure="counted"]')).to_have_text("6")

    if size == PHONE:
        assert no_horizontal_scroll(page), "the page is wider than the phone"
    name = "desktop" if size == DESKTOP else "phone"
    page.screenshot(path=screenshot_path(f"dashboard-{name}.png"), full_page=True)
    assert watch.problems() == []
    assert "13812345678" not in page.content()


def test_a_bad_filter_shows_the_reason(world, open_page):
    page, watch = open_page()
    log_in(page, "leader")
    watch.expect_status("/dashboard", 400)
    response = page.goto("/dashboard?category=nothing")
    assert response.status == 400
    expect(page.locator("main")).to_contain_text("未知的事件类别：'nothing'")
    assert watch.problems() == []


@SIZES
@pytest.mark.parametrize(
    ("view", "legend"),
    [("heat", "事件热力（6 件）"), ("weekly", "按周事件热力（6 件）"), ("rate", "每千户事件数")],
)
def test_each_incident_map_draws_with_its_legend(world, open_page, size, view, legend):
    page, watch = open_page(size)
    log_in(page, "leader", path=f"/login?next=/map/incidents%3Fview%3D{view}")
    expect(page.locator(".leaflet-container")).to_have_count(1)
    expect(page.locator(".wangge-legend strong")).to_have_text(legend)
    expect(page.locator(".wangge-legend")).to_be_visible()
    expect(page.locator("#grid-table tbody tr")).to_have_count(4)
    if view == "heat":
        expect(page.locator("canvas.leaflet-heatmap-layer")).to_have_count(1)
    if view == "weekly":
        expect(page.locator(".leaflet-control-timecontrol").first).to_be_visible()
        # It opens on the latest week, the one holding the newest incidents.
        expect(page.locator(".timecontrol-date")).to_contain_text(latest_week_label())
    if view == "rate":
        paths = page.locator("path.leaflet-interactive")
        expect(paths).to_have_count(4)
        fills = paths.evaluate_all("ps => ps.map(p => p.getAttribute('fill'))")
        assert fills.count("#d9d9d9") == 1  # SE has no household: no data
        assert len(set(fills)) >= 3
    map_box = page.locator(".map-box").bounding_box()
    assert map_box["width"] <= size[0] and map_box["height"] > 200
    if size == PHONE:
        assert no_horizontal_scroll(page), "the page is wider than the phone"
    name = "desktop" if size == DESKTOP else "phone"
    page.screenshot(path=screenshot_path(f"incident-map-{view}-{name}.png"))
    assert watch.problems() == []
    assert all(r.split(" ", 1)[1].startswith(watch.origin + "/") for r in watch.requests)
