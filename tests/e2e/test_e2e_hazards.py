"""The hazard map in a real browser: zones coloured by severity with a legend, a list beside the
map, an impact analysis with progress and a masked door-knock list, drawing a new zone; at
desktop and phone sizes, with no console error and no personal data in the page."""

from __future__ import annotations

import pytest
from geoalchemy2.shape import from_shape
from playwright.sync_api import expect
from shapely import MultiPolygon, Point, box
from sqlalchemy import func, select

from app.models.hazards import Hazard
from app.models.households import Household
from app.services.assignment import assign_all
from tests.e2e.browser import log_in, map_position, screenshot_path, shown
from tests.factories import X0, Y0, add_households, add_user, build_world

# The personal data planted in the world: no page may show any of it.
ID_NUMBERS = ("51138119450101002X", "511381194601010035")
PLANTED = ("13912345678", "13812341234", "李四", "张三", *ID_NUMBERS)
ZONE = box(X0 + 0.005, Y0 + 0.012, X0 + 0.015, Y0 + 0.018)
ANALYSED_STROKE = "#6a3d9a"


@pytest.fixture
def world(session):
    world = build_world(session)
    add_households(
        session,
        [(X0 + 0.007, Y0 + 0.015), (X0 + 0.012, Y0 + 0.015)],
        head_name="李四",
        phone="13912345678",
        tags=["elderly_alone"],
    )
    add_households(session, [(X0 + 0.002, Y0 + 0.002)], members=4)
    # Household registers key households by the head's ID number.
    for household, id_number in zip(
        session.scalars(select(Household).order_by(Household.id)), ID_NUMBERS
    ):
        household.external_id = id_number
    add_user(session, "leader", "leader")
    add_user(session, "wang", "worker", grids=[world.grids["NW"]])
    session.add_all(
        [
            Hazard(
                name="嘉陵江内涝区",
                hazard_class="flood",
                severity=4,
                geom=from_shape(MultiPolygon([ZONE]), srid=4326),
            ),
            Hazard(
                name="老街火灾隐患点",
                hazard_class="fire",
                severity=1,
                geom=from_shape(Point(X0 + 0.002, Y0 + 0.003), srid=4326),
            ),
        ]
    )
    assign_all(session)  # commits: the live server sees everything from here on
    return world


def open_hazard_map(open_page, viewport=(1280, 800)):
    page, watch = open_page(viewport)
    log_in(page, "leader", path="/login?next=/map/hazards")
    assert page.url.endswith("/map/hazards")
    expect(page.locator(".leaflet-container")).to_have_count(1)
    expect(page.locator("path.leaflet-interactive")).to_have_count(2)
    return page, watch


def run_impact(page, hazard_name: str, buffer_m: int) -> None:
    """Run an analysis, holding the API's answer until the progress indicator was seen."""
    held = []
    page.route("**/api/v1/hazards/*/impact", lambda route: held.append(route))
    option = page.locator("#impact-hazard option", has_text=hazard_name)
    page.locator("#impact-hazard").select_option(option.get_attribute("value"))
    page.locator("#impact-buffer").fill(str(buffer_m))
    page.get_by_role("button", name="开始分析").click()
    expect(page.locator("#impact-progress")).to_be_visible()
    expect(page.get_by_role("button", name="开始分析")).to_be_disabled()
    assert len(held) == 1
    held[0].fallback()
    expect(page.locator("#impact-result")).to_be_visible()
    expect(page.locator("#impact-progress")).to_be_hidden()
    page.unroute("**/api/v1/hazards/*/impact")


def test_hazard_map_shows_zones_legend_list_and_runs_an_impact_analysis(world, open_page):
    page, watch = open_hazard_map(open_page)
    html = page.content()
    assert "嘉陵江内涝区" in html
    assert shown(html, PLANTED) == []

    # Coloured by severity: I 级 red for the flood zone, IV 级 blue for the fire point.
    strokes = page.locator("path.leaflet-interactive").evaluate_all(
        "ps => ps.map(p => p.getAttribute('stroke')).sort()"
    )
    assert strokes == ["#2c7bb6", "#d7191c"]
    legend = page.locator(".wangge-legend")
    expect(legend.locator("strong")).to_have_text("隐患等级")
    assert [t.strip() for t in legend.locator("div").all_inner_texts()] == [
        "特别严重（I级）",
        "严重（II级）",
        "较重（III级）",
        "一般（IV级）",
    ]
    items = page.locator("#hazard-list li")
    assert [t.split("\n")[0].strip() for t in items.all_inner_texts()] == [
        "嘉陵江内涝区",
        "老街火灾隐患点",
    ]

    # A zone's popup names its class and severity.
    zone = page.locator('path.leaflet-interactive[stroke="#d7191c"]').bounding_box()
    page.mouse.click(zone["x"] + zone["width"] / 2, zone["y"] + zone["height"] / 2)
    popup = page.locator(".leaflet-popup-content")
    expect(popup).to_have_count(1)
    rows = popup.evaluate(
        """el => Object.fromEntries([...el.querySelectorAll('tr')].map(
               tr => [tr.querySelector('th').innerText.trim(),
                      tr.querySelector('td').innerText.trim()]))"""
    )
    assert rows == {"名称": "嘉陵江内涝区", "类别": "洪涝", "等级": "特别严重（I级）"}

    run_impact(page, "嘉陵江内涝区", 100)
    totals = page.locator("#impact-totals strong").all_inner_texts()
    assert totals == ["2", "6", "2"]
    grids = page.locator("#impact-grids tbody tr").all_inner_texts()
    assert len(grids) == 2 and "wang" in grids[0]
    knock = page.locator("#impact-door-knock")
    expect(knock.locator("h3")).to_have_text(["wang（1 户）", "（无网格员）（1 户）"])
    knock_text = knock.inner_text()
    assert "李*" in knock_text and "139****5678" in knock_text
    assert "13912345678" not in knock_text and "李四" not in knock_text
    # The analysed zone (the zone grown by 100 m) is drawn on the map.
    expect(page.locator(f'path[stroke="{ANALYSED_STROKE}"]')).to_have_count(1)
    assert "door-knock.xlsx" in page.locator("#impact-export").get_attribute("href")

    page.screenshot(path=screenshot_path("hazard-map.png"))
    assert watch.problems() == []
    assert all(r.split(" ", 1)[1].startswith(watch.origin + "/") for r in watch.requests)


def test_hazard_map_works_on_a_phone_screen(world, open_page):
    page, watch = open_hazard_map(open_page, viewport=(390, 844))
    frame = page.locator(".leaflet-container").bounding_box()
    panel = page.locator("aside.panel").bounding_box()
    assert frame["width"] <= 390 and panel["y"] >= frame["y"] + frame["height"] - 1
    page.locator("#hazard-list li button").first.click()
    run_impact(page, "嘉陵江内涝区", 0)
    assert page.locator("#impact-totals strong").all_inner_texts() == ["2", "6", "2"]
    page.screenshot(path=screenshot_path("hazard-map-phone.png"), full_page=True)
    assert shown(page.content(), PLANTED) == []
    assert watch.problems() == []


def test_drawing_a_rectangle_creates_a_hazard_zone(world, open_page, session):
    page, watch = open_hazard_map(open_page)
    name = page.locator(".folium-map").get_attribute("id")
    page.locator(".leaflet-pm-icon-rectangle").click()
    for lon, lat in ((X0 + 0.001, Y0 + 0.001), (X0 + 0.004, Y0 + 0.004)):
        x, y = map_position(page, name, lon, lat)
        page.mouse.click(x, y)
    expect(page.locator("#create-form")).to_be_visible()
    page.get_by_label("名称").fill("新画的滑坡区")
    page.locator("#create-form select[name=hazard_class]").select_option("landslide")
    page.locator("#create-form select[name=severity]").select_option("3")
    with page.expect_navigation():
        page.get_by_role("button", name="保存").click()
    expect(page.locator("#hazard-list li")).to_have_count(3)
    expect(page.locator("path.leaflet-interactive")).to_have_count(3)
    assert watch.problems() == []
    page.close()
    created = session.scalars(select(Hazard).where(Hazard.name == "新画的滑坡区")).one()
    assert (created.hazard_class, created.severity) == ("landslide", 3)
    assert session.scalar(select(func.count()).select_from(Hazard)) == 3
