"""The coverage map in a real browser: drawn from local assets only, with its legend, layers and
popups, and no error in the console."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from app.services.assignment import assign_all
from tests.e2e.browser import log_in, screenshot_path
from tests.factories import STEP, X0, Y0, add_households, add_user, build_world

NW, NE, SW, SE = (f"511381001001{i:03d}" for i in range(1, 5))
# Households per grid; one more lies in the district but in no grid.
HOUSEHOLDS = {"NW": 3, "NE": 2, "SW": 1, "SE": 0}
CENTRES = {
    "NW": (X0 + STEP / 2, Y0 + 1.5 * STEP),
    "NE": (X0 + 1.5 * STEP, Y0 + 1.5 * STEP),
    "SW": (X0 + STEP / 2, Y0 + STEP / 2),
    "SE": (X0 + 1.5 * STEP, Y0 + STEP / 2),
}
UNCOVERED = (X0 - 0.02, Y0 - 0.02)

# Stroke colours of the map's layers (app/web/coverage_map.py), to tell the paths apart.
GRID_STROKE, COMMUNITY_STROKE, NO_WORKER_STROKE, UNCOVERED_STROKE = (
    "#555",
    "#1f4e79",
    "#7b3294",
    "#111111",
)


@pytest.fixture
def world(session):
    """Four grids with 3/2/1/0 households, one uncovered household, a worker on the NW grid."""
    world = build_world(session)
    points = []
    for key, count in HOUSEHOLDS.items():
        x, y = CENTRES[key]
        points += [(x + 0.001 * i, y + 0.0005 * i) for i in range(count)]
    add_households(session, points + [UNCOVERED], head_name="李四", phone="13912345678")
    add_user(session, "leader", "leader")
    add_user(session, "wang", "worker", grids=[world.grids["NW"]])
    assign_all(session)  # commits: the live server sees everything from here on
    return world


def open_coverage_map(open_page):
    page, watch = open_page()
    log_in(page, "leader", path="/login?next=/map/coverage")
    assert page.url.endswith("/map/coverage")
    expect(page.locator(".leaflet-container")).to_have_count(1)
    expect(page.locator("path.leaflet-interactive")).to_have_count(9)
    return page, watch


def paths(page, stroke: str):
    return page.locator(f'path.leaflet-interactive[stroke="{stroke}"]')


def popup_rows(page, timeout_ms: float = 5_000) -> dict[str, str]:
    popup = page.locator(".leaflet-popup-content")
    expect(popup).to_have_count(1, timeout=timeout_ms)
    return popup.evaluate(
        """el => Object.fromEntries([...el.querySelectorAll('tr')].map(
               tr => [tr.querySelector('th').innerText.trim(), tr.querySelector('td').innerText.trim()]))"""
    )


def click_centre_of(page, locator) -> None:
    """Click where a user would: the middle of the element's box, whatever lies on top."""
    box = locator.bounding_box()
    page.mouse.click(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)


def test_coverage_map_draws_grids_legend_and_layers_from_local_assets(world, open_page):
    page, watch = open_coverage_map(open_page)

    # Every layer, each path counted: 4 grids, 1 community, 3 grids without a worker,
    # 1 uncovered household.
    assert paths(page, GRID_STROKE).count() == 4
    assert paths(page, COMMUNITY_STROKE).count() == 1
    assert paths(page, NO_WORKER_STROKE).count() == 3
    assert paths(page, UNCOVERED_STROKE).count() == 1
    # The grids are classed by households: four different counts, four different fills.
    fills = paths(page, GRID_STROKE).evaluate_all("ps => ps.map(p => p.getAttribute('fill'))")
    assert len(set(fills)) == 4

    # The map is fitted to the grids: all four lie inside the visible map.
    frame = page.locator(".leaflet-container").bounding_box()
    for box in (paths(page, GRID_STROKE).nth(i).bounding_box() for i in range(4)):
        assert frame["x"] <= box["x"] and box["x"] + box["width"] <= frame["x"] + frame["width"]
        assert frame["y"] <= box["y"] and box["y"] + box["height"] <= frame["y"] + frame["height"]
    # No basemap is configured (WANGGE_TILES=none): no tile layer at all.
    assert page.locator(".leaflet-tile").count() == 0

    legend = page.locator(".wangge-legend")
    expect(legend.locator("strong")).to_have_text("每网格住户数")
    assert [t.strip() for t in legend.locator("div").all_inner_texts()] == [
        "0",
        "1",
        "2",
        "3",
        "无网格员",
        "未入格住户",
    ]

    overlays = page.locator(".leaflet-control-layers-overlays label")
    assert [t.strip() for t in overlays.all_inner_texts()] == [
        "网格（按住户数）",
        "社区边界",
        "无网格员网格（3）",
        "未入格住户（1）",
    ]
    assert page.locator(".leaflet-control-layers-overlays input:checked").count() == 4
    # Unticking a layer removes its paths.
    overlays.filter(has_text="社区边界").locator("input").uncheck()
    expect(paths(page, COMMUNITY_STROKE)).to_have_count(0)
    overlays.filter(has_text="社区边界").locator("input").check()
    expect(paths(page, COMMUNITY_STROKE)).to_have_count(1)

    page.screenshot(path=screenshot_path("coverage-map.png"))

    assert watch.problems() == []
    assert watch.requests, "the watch saw no request at all"
    assert all(r.split(" ", 1)[1].startswith(watch.origin + "/") for r in watch.requests)
    assert any("/static/vendor/leaflet/leaflet.js" in r for r in watch.requests)


def test_clicking_a_grid_opens_its_popup(world, open_page):
    page, watch = open_coverage_map(open_page)
    # The NW grid is the one with a worker: only the grid layer lies there.
    nw = paths(page, GRID_STROKE).nth(0)  # grids are drawn in code order
    click_centre_of(page, nw)
    assert popup_rows(page) == {
        "编码": NW,
        "名称": "第1网格",
        "社区": "测试社区",
        "网格员": "wang",
        "住户数": "3",
    }
    # The popup shows no household's name or phone number.
    popup_text = page.locator(".leaflet-popup-content").inner_text()
    assert "李四" not in popup_text and "13912345678" not in popup_text
    assert watch.problems() == []


def test_clicking_a_grid_without_a_worker_opens_its_popup(world, open_page):
    page, watch = open_coverage_map(open_page)
    ne = paths(page, GRID_STROKE).nth(1)
    click_centre_of(page, ne)
    assert popup_rows(page, timeout_ms=1_500) == {
        "编码": NE,
        "名称": "第2网格",
        "社区": "测试社区",
        "网格员": "",
        "住户数": "2",
    }
    assert watch.problems() == []


def test_a_visitor_who_is_not_logged_in_is_sent_to_the_login_page(world, open_page):
    page, watch = open_page()
    response = page.goto("/map/coverage")
    assert page.url == f"{watch.origin}/login?next=%2Fmap%2Fcoverage"
    assert response.status == 200  # the login page, after the redirect
    assert response.request.redirected_from.url == f"{watch.origin}/map/coverage"
    assert response.request.redirected_from.response().status == 302
    expect(page.locator(".flash")).to_have_text("请先登录。")
    assert page.locator(".leaflet-container").count() == 0
    # Logging in there leads back to the map.
    log_in(page, "leader", path=None)
    assert page.url == f"{watch.origin}/map/coverage"
    expect(page.locator("path.leaflet-interactive")).to_have_count(9)
    assert watch.problems() == []
