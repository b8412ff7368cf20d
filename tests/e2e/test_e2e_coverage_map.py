"""The coverage map in a real browser at desktop and phone sizes: vector tiles drawn from
local assets only, the legend, the level switch, popups with figures, the table beside the
map, and no error in the console."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from app.services.assignment import assign_all
from tests.e2e.browser import log_in, map_position, screenshot_path
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
DESKTOP, PHONE = (1280, 800), (390, 844)


@pytest.fixture
def world(session):
    """Four grids with 3/2/1/0 households, one uncovered household, a worker on the NW grid."""
    world = build_world(session)
    points = []
    for key, count in HOUSEHOLDS.items():
        x, y = CENTRES[key]
        # a little off the centre: the centre itself is where the popups are opened
        points += [(x + 0.001 * (i + 1), y + 0.0005 * (i + 1)) for i in range(count)]
    add_households(session, points + [UNCOVERED], head_name="李四", phone="13912345678")
    add_user(session, "leader", "leader")
    add_user(session, "wang", "worker", grids=[world.grids["NW"]])
    assign_all(session)  # commits: the live server sees everything from here on
    return world


def open_coverage_map(open_page, viewport=DESKTOP):
    page, watch = open_page(viewport)
    log_in(page, "leader", path="/login?next=/map/coverage")
    assert page.url.endswith("/map/coverage")
    wait_for_units(page)
    return page, watch


def wait_for_units(page, level: str = "grid") -> None:
    frame = page.locator(f'.folium-map[data-level="{level}"][data-units-loaded="1"]')
    expect(frame).to_have_count(1)


def map_name(page) -> str:
    return page.locator(".folium-map").get_attribute("id")


def click_at(page, lon: float, lat: float) -> None:
    x, y = map_position(page, map_name(page), lon, lat)
    page.mouse.click(x, y)


def popup_rows(page) -> dict[str, str]:
    popup = page.locator(".leaflet-popup-content")
    expect(popup).to_have_count(1)
    return popup.evaluate(
        """el => Object.fromEntries([...el.querySelectorAll('tr')].map(
               tr => [tr.querySelector('th').innerText.trim(), tr.querySelector('td').innerText.trim()]))"""
    )


def painted_tiles(page) -> int:
    """Canvas tiles of the unit layer with something drawn on them."""
    return page.evaluate(
        """() => [...document.querySelectorAll('canvas.leaflet-tile-loaded')].filter(c => {
               const data = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
               for (let i = 3; i < data.length; i += 4) if (data[i] > 0) return true;
               return false; }).length"""
    )


@pytest.mark.parametrize("viewport", [DESKTOP, PHONE], ids=["desktop", "phone"])
def test_coverage_map_draws_tiles_legend_and_table(world, open_page, viewport):
    page, watch = open_coverage_map(open_page, viewport)

    assert painted_tiles(page) >= 1
    tile_requests = [r for r in watch.requests if "/tiles/grids/" in r]
    assert tile_requests and all(r.endswith(".pbf") for r in tile_requests)

    legend = page.locator(".wangge-legend")
    expect(legend.locator("strong")).to_have_text("每名网格员服务住户数")
    labels = [t.strip() for t in legend.locator("div:visible").all_inner_texts()]
    assert labels[-4:] == ["无网格员", "未入格住户", "住户密度", "困难群体户"]
    assert labels[0] == "3"  # one grid has a worker: one class, its households per worker

    levels = page.locator(".coverage-levels label")
    assert [t.strip() for t in levels.all_inner_texts()] == ["街道", "社区", "网格"]
    overlays = page.locator(".leaflet-control-layers-overlays label")
    assert [t.strip() for t in overlays.all_inner_texts()] == [
        "住户密度",
        "困难群体户密度",
        "未入格住户",
    ]

    table = page.locator('table[data-coverage-table="grid"]')
    expect(table).to_be_visible()
    assert table.locator("tbody tr").count() == 4
    first = [t.strip() for t in table.locator("tbody tr").first.locator("td").all_inner_texts()]
    assert first == [NW, "第1网格", "3", "1", "3.0", "0"]
    # sorting by households, largest first (second click)
    header = table.locator("th", has_text="住户").first
    header.click()
    header.click()
    codes = table.locator("tbody tr td:first-child").all_inner_texts()
    assert codes[:3] == [NW, NE, SW]

    html = page.content()
    assert "李四" not in html and "13912345678" not in html
    page.screenshot(path=screenshot_path(f"coverage-map-{viewport[0]}x{viewport[1]}.png"))
    assert watch.problems() == []
    assert all(r.split(" ", 1)[1].startswith(watch.origin + "/") for r in watch.requests)
    assert any("/static/vendor/leaflet.vectorgrid/" in r for r in watch.requests)


def test_clicking_a_grid_opens_its_figures(world, open_page):
    page, watch = open_coverage_map(open_page)
    click_at(page, *CENTRES["NW"])
    rows = popup_rows(page)
    assert rows == {
        "编码": NW,
        "名称": "第1网格",
        "网格数": "1",
        "住户数": "3",
        "网格员": "1",
        "人均住户": "3",
        "困难群体户": "0",
        "无网格员网格": "0",
    }
    assert "李四" not in page.locator(".leaflet-popup-content").inner_text()
    assert watch.problems() == []


def test_the_level_switch_shows_communities_and_their_figures(world, open_page):
    page, watch = open_coverage_map(open_page, PHONE)
    page.locator(".coverage-levels input[value=community]").check()
    wait_for_units(page, "community")
    expect(page.locator('table[data-coverage-table="community"]')).to_be_visible()
    expect(page.locator('table[data-coverage-table="grid"]')).to_be_hidden()
    click_at(page, *CENTRES["SE"])
    rows = popup_rows(page)
    assert rows["名称"] == "测试社区"
    assert (rows["网格数"], rows["住户数"], rows["网格员"], rows["无网格员网格"]) == (
        "4",
        "6",
        "1",
        "3",
    )
    assert rows["人均住户"] == "6"
    page.screenshot(path=screenshot_path("coverage-map-communities-phone.png"))
    # the address keeps the level: a reload opens on the communities again
    assert page.url.endswith("/map/coverage?level=community")
    page.reload()
    wait_for_units(page, "community")
    expect(page.locator(".coverage-levels input[value=community]")).to_be_checked()
    expect(page.locator('table[data-coverage-table="community"]')).to_be_visible()
    assert watch.problems() == []


def test_the_household_layers_draw_counts_when_ticked(world, open_page):
    page, watch = open_coverage_map(open_page)
    before = len([r for r in watch.requests if "/tiles/households/" in r])
    page.locator(".leaflet-control-layers-overlays label", has_text="住户密度").locator(
        "input"
    ).check()
    expect(page.locator('.folium-map[data-density-loaded="1"]')).to_have_count(1)
    assert len([r for r in watch.requests if "/tiles/households/" in r]) > before
    assert watch.problems() == []


def test_a_visitor_who_is_not_logged_in_is_sent_to_the_login_page(world, open_page):
    page, watch = open_page()
    response = page.goto("/map/coverage")
    assert page.url == f"{watch.origin}/login?next=%2Fmap%2Fcoverage"
    assert response.status == 200  # the login page, after the redirect
    expect(page.locator(".flash")).to_have_text("请先登录。")
    assert page.locator(".leaflet-container").count() == 0
    log_in(page, "leader", path=None)
    assert page.url == f"{watch.origin}/map/coverage"
    wait_for_units(page)
    assert watch.problems() == []
