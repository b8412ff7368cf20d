"""The planner page in a real browser, used as a person uses it: Leaflet-Geoman's toolbar, mouse
clicks and drags on the map, the side panel's buttons. What the page did is read from the
database once the browser's part is over (or while the page sits idle, never while it waits
for the server).

The map shows the community 511381001001 (0.02 x 0.02 degrees) at zoom 15 in a 928 x 752 map
frame: one pixel is about 4 m, and Geoman snaps the pointer to grid outlines within 15 px.
"""

from __future__ import annotations

import math
import re
from urllib.parse import quote, urlsplit

import pytest
import shapely
from flask import current_app
from geoalchemy2.shape import to_shape
from playwright.sync_api import expect
from shapely import box
from shapely.geometry import mapping
from sqlalchemy import select

from app.models import Area
from app.services import areas as service
from app.services.assignment import assign_all
from app.services.coverage import coverage_report
from app.services.generate import plan_grids
from tests.e2e.browser import log_in, map_position, screenshot_path
from tests.factories import STEP, X0, Y0, add_households, add_user, build_world, current_grid_codes

C = "511381001001"
NW, NE, SW, SE = (f"{C}{i:03d}" for i in range(1, 5))
NEW1, NEW2 = f"{C}005", f"{C}006"  # the next codes: the first four are taken
CELLS = {
    "NW": box(X0, Y0 + STEP, X0 + STEP, Y0 + 2 * STEP),
    "NE": box(X0 + STEP, Y0 + STEP, X0 + 2 * STEP, Y0 + 2 * STEP),
    "SW": box(X0, Y0, X0 + STEP, Y0 + STEP),
    "SE": box(X0 + STEP, Y0, X0 + 2 * STEP, Y0 + STEP),
}
SPLIT_LON = X0 + 0.5 * STEP  # test_split draws a north-south line through SW here
HOUSEHOLDS = {
    "NW": [(X0 + 0.5 * STEP, Y0 + 1.5 * STEP)],
    "NE": [(X0 + 1.3 * STEP, Y0 + 1.6 * STEP), (X0 + 1.7 * STEP, Y0 + 1.4 * STEP)],
    "SW_WEST": [(X0 + 0.2 * STEP, Y0 + 0.5 * STEP), (X0 + 0.35 * STEP, Y0 + 0.3 * STEP)],
    "SW_EAST": [(X0 + 0.75 * STEP, Y0 + 0.6 * STEP)],
    "SE": [(X0 + 1.5 * STEP, Y0 + 0.5 * STEP)],
}
PLANNER_PATH = f"/planner?community={C}"
# A click lands within a pixel of where it was aimed (4.1 m at zoom 15) on either axis.
CLICK_M = 6.0
SELECTED_STROKE = "#c0392b"  # planner.js: SELECTED.color
NO_WORKER = "无网格员网格"


@pytest.fixture
def world(session):
    """The 2x2 block of grids with seven households, all assigned; a planner to log in."""
    world = build_world(session)
    world.households = {key: add_households(session, points) for key, points in HOUSEHOLDS.items()}
    add_user(session, "planner", "planner")
    assign_all(session)  # commits: the live server sees everything from here on
    return world


def retire(session, code: str) -> None:
    """Retire a grid as another planner would have (commits); its households become uncovered."""
    service.retire_area(session, None, code, 1)


# --- the page as a person uses it ---------------------------------------------------------------


class Planner:
    """The planner page: Geoman's toolbar, the map under the mouse at a longitude and latitude,
    the side panel. Records the API writes the page sends as (method, path, JSON body)."""

    def __init__(self, page, watch):
        self.page = page
        self.watch = watch
        self.writes: list[tuple[str, str, object]] = []
        page.on("request", self._record)

    def _record(self, request) -> None:
        path = urlsplit(request.url).path
        if request.method != "GET" and path.startswith("/api/"):
            self.writes.append((request.method, path, request.post_data_json))

    @classmethod
    def open(cls, open_page) -> Planner:
        page, watch = open_page()
        planner = cls(page, watch)
        log_in(page, "planner", path="/login?next=" + quote(PLANNER_PATH))
        assert page.url == watch.origin + PLANNER_PATH
        expect(page.locator("#planner[data-ready=true]")).to_have_count(1)
        planner.map_name = page.locator("#planner").get_attribute("data-map")
        assert planner.zoom() == 15
        return planner

    # the map

    def xy(self, lon: float, lat: float) -> tuple[float, float]:
        return map_position(self.page, self.map_name, lon, lat)

    def click(self, lon: float, lat: float) -> None:
        self.page.mouse.click(*self.xy(lon, lat))

    def drag(self, start: tuple[float, float], end: tuple[float, float]) -> None:
        self.page.mouse.move(*self.xy(*start))
        self.page.mouse.down()
        self.page.mouse.move(*self.xy(*end), steps=8)
        self.page.mouse.up()

    def zoom(self) -> float:
        return self.page.evaluate(f"window[{self.map_name!r}].getZoom()")

    def tool(self, title: str):
        """A Geoman toolbar button (with its actions) by its title, e.g. 绘制多边形."""
        return self.page.locator(f'.leaflet-pm-toolbar .button-container[title="{title}"]')

    def draw_polygon(self, corners: list[tuple[float, float]]) -> None:
        """Pick the polygon tool, click every corner, then the first corner again to finish."""
        polygon = self.tool("绘制多边形")
        expect(polygon.locator(".leaflet-pm-icon-polygon")).to_have_count(1)
        polygon.locator("a.leaflet-buttons-control-button").click()
        expect(polygon).to_have_class("button-container active")
        for lon, lat in [*corners, corners[0]]:
            self.click(lon, lat)

    def vertices(self):
        """The markers of the shape being drawn or edited (not Geoman's cursor, not midpoints)."""
        return self.page.locator(
            ".leaflet-marker-pane .marker-icon:not(.cursor-marker):not(.marker-icon-middle)"
        )

    def selected_paths(self):
        return self.page.locator(f'path.leaflet-interactive[stroke="{SELECTED_STROKE}"]')

    # the side panel

    @property
    def message(self):
        return self.page.locator("#planner-message")

    def button(self, name: str):
        return self.page.locator(".panel").get_by_role("button", name=name, exact=True)

    def selected(self) -> list[str]:
        return [t.strip() for t in self.page.locator("#selected-list li").all_inner_texts()]

    def coverage(self) -> dict[str, str]:
        return self.page.locator("#coverage").evaluate(
            "dl => Object.fromEntries([...dl.querySelectorAll('dt')].map("
            "dt => [dt.innerText.trim(), dt.nextElementSibling.innerText.trim()]))"
        )

    def screenshot(self, name: str) -> None:
        self.page.screenshot(path=screenshot_path(f"planner-{name}.png"))


# --- reading the database after the browser's part ----------------------------------------------


def live_grids(session) -> dict[str, Area]:
    session.expire_all()
    rows = session.scalars(
        select(Area).where(Area.level == "grid", Area.valid_to.is_(None)).order_by(Area.code)
    )
    return {a.code: a for a in rows}


def area(session, code: str) -> Area:
    session.expire_all()
    return session.scalar(select(Area).where(Area.code == code))


def in_metres(geom):
    """Local metres east and north of the block's south-west corner (good to 0.1 %)."""
    east = 111_320.0 * math.cos(math.radians(Y0 + STEP))
    return shapely.transform(geom, lambda xy: (xy - [X0, Y0]) * [east, 110_574.0])


def distance_m(a, b) -> float:
    """Hausdorff distance in metres: how far either outline strays from the other."""
    return shapely.hausdorff_distance(in_metres(a), in_metres(b))


def codes(*numbers: int) -> str:
    return "、".join(f"{C}{n:03d}" for n in numbers)


def gaps_text(report) -> str:
    """The coverage panel's 缝隙 entry for a coverage report, as planner.js writes it."""
    area_m2 = sum(g["area_m2"] for g in report.gaps)
    return f"{len(report.gaps)}（{math.floor(area_m2 + 0.5)} 平方米）"  # JS Math.round


# --- the tests ----------------------------------------------------------------------------------


def draw_ne_cell(session, open_page) -> Planner:
    """Retire NE, then draw a polygon on its four corners with the mouse."""
    retire(session, NE)
    planner = Planner.open(open_page)
    planner.draw_polygon(list(CELLS["NE"].exterior.coords)[:4])
    return planner


def test_drawing_a_polygon_over_an_empty_cell_creates_a_grid(world, session, open_page):
    ne_households = world.households["NE"]
    planner = draw_ne_cell(session, open_page)
    expect(planner.message).to_have_text(f"新建 {NEW1}，住户调整 2 户，在办事件调整 0 件")
    expect(planner.message).to_have_class("message ok")
    expect(planner.page.locator("#planner")).to_have_attribute("data-grids", "4")
    coverage = planner.coverage()
    planner.screenshot("draw")
    assert planner.watch.problems() == []
    [(method, path, body)] = planner.writes
    assert (method, path, body["level"], body["parent"]) == ("POST", "/api/v1/areas", "grid", C)
    drawn = shapely.geometry.shape(body["geometry"])

    # The browser's part is over.
    grids = live_grids(session)
    assert list(grids) == [NW, SW, SE, NEW1]
    assert grids[NEW1].name == "5号网格" and grids[NEW1].version == 1
    stored = to_shape(grids[NEW1].geom)
    # Clicked on the corners: within a pixel where Geoman did not snap.
    assert distance_m(drawn, CELLS["NE"]) < CLICK_M
    # The server moves vertices within 1 m (1.17 m north-south) onto the neighbours.
    assert distance_m(stored, drawn) < 1.2
    assert distance_m(stored, CELLS["NE"]) < CLICK_M
    assert current_grid_codes(session, ne_households) == dict.fromkeys(ne_households, NEW1)

    report = coverage_report(session, C)
    assert coverage == {
        "重叠": "0",
        "缝隙": gaps_text(report),
        "超出社区": "0",
        "未入格住户": "0",
        NO_WORKER: codes(1, 3, 4, 5),
    }
    # Corners on the border snap onto the neighbouring grids' corners: no sliver is left.
    assert report.gaps == []


def test_corners_drawn_on_neighbours_corners_snap_onto_them(world, session, open_page):
    planner = draw_ne_cell(session, open_page)
    expect(planner.message).to_have_text(f"新建 {NEW1}，住户调整 2 户，在办事件调整 0 件")
    coverage = planner.coverage()
    assert planner.watch.problems() == []
    [(_, _, body)] = planner.writes
    drawn = shapely.geometry.shape(body["geometry"])
    assert drawn.normalize().equals_exact(CELLS["NE"].normalize(), 1e-9), drawn.wkt
    assert coverage["缝隙"] == "0（0 平方米）"


def test_a_bow_tie_is_not_closed_and_an_overlap_is_refused(world, session, open_page):
    retire(session, NE)
    planner = Planner.open(open_page)
    page = planner.page
    planner.watch.expect_status("/api/v1/areas", 409)

    # A bow-tie in the empty NE cell: its closing edge crosses its second edge.
    x, y = X0 + STEP, Y0 + STEP
    bow_tie = [
        (x + 0.2 * STEP, y + 0.2 * STEP),
        (x + 0.8 * STEP, y + 0.2 * STEP),
        (x + 0.2 * STEP, y + 0.8 * STEP),
        (x + 0.8 * STEP, y + 0.8 * STEP),
    ]
    planner.draw_polygon(bow_tie)
    # Clicking the first corner again did not close it: still drawing, with its four corners,
    # and the closing edge shown in red.
    expect(planner.tool("绘制多边形")).to_have_class("button-container active")
    expect(planner.vertices()).to_have_count(4)
    expect(page.locator('path[stroke="#f00000ff"]')).to_have_count(1)
    planner.screenshot("bow-tie")
    assert planner.writes == []
    expect(planner.message).to_be_hidden()
    # The person gives up on it.
    planner.tool("绘制多边形").get_by_role("button", name="取消").click()
    expect(planner.vertices()).to_have_count(0)
    expect(planner.tool("绘制多边形")).not_to_have_class("button-container active")

    # A polygon reaching well into NW from the empty NE cell.
    straddling = [
        (X0 + 0.6 * STEP, Y0 + 1.3 * STEP),
        (X0 + 1.5 * STEP, Y0 + 1.3 * STEP),
        (X0 + 1.5 * STEP, Y0 + 1.8 * STEP),
        (X0 + 0.6 * STEP, Y0 + 1.8 * STEP),
    ]
    planner.draw_polygon(straddling)
    expect(planner.message).to_have_text(f"与相邻网格重叠，未保存。（The area overlaps {NW}.）")
    expect(planner.message).to_have_class("message error")
    popup = page.locator(".fault-popup")
    expect(popup.locator(".leaflet-popup-content")).to_have_text(f"与 {NW} 重叠")
    expect(popup).to_have_css("opacity", "1")  # faded in
    # The popup stands on the overlap: inside NW and inside what was drawn.
    popup_tip = popup.locator(".leaflet-popup-tip").bounding_box()
    tip = (popup_tip["x"] + popup_tip["width"] / 2, popup_tip["y"] + popup_tip["height"])
    overlap = in_metres(CELLS["NW"].intersection(shapely.Polygon(straddling)))
    tip_lonlat = page.evaluate(
        "([name, x, y]) => { const m = window[name]; const f = m.getContainer()"
        ".getBoundingClientRect(); const p = m.containerPointToLatLng([x - f.left, y - f.top]);"
        " return [p.lng, p.lat]; }",
        [planner.map_name, *tip],
    )
    assert overlap.buffer(10).contains(in_metres(shapely.Point(tip_lonlat)))
    planner.screenshot("overlap")
    assert planner.watch.problems() == []
    assert [(m, p) for m, p, _ in planner.writes] == [("POST", "/api/v1/areas")]

    grids = live_grids(session)
    assert list(grids) == [NW, SW, SE]
    assert area(session, NEW1) is None
    assert to_shape(grids[NW].geom).equals(CELLS["NW"]) and grids[NW].version == 1


def test_split_a_grid_by_drawing_a_line_across_it(world, session, open_page):
    planner = Planner.open(open_page)
    page = planner.page
    planner.click(X0 + 0.5 * STEP, Y0 + 0.8 * STEP)  # on SW
    expect(page.locator("#selected-count")).to_have_text("1")
    assert planner.selected() == [f"第3网格（{SW}，版本 1）"]
    expect(planner.selected_paths()).to_have_count(1)
    planner.button("画线拆分").click()
    expect(planner.message).to_have_text("画一条穿过所选网格的线，双击结束。")
    # From below the community, across SW, to well inside NW; a double-click ends the line.
    planner.click(SPLIT_LON, Y0 - 0.002)
    page.mouse.dblclick(*planner.xy(SPLIT_LON, Y0 + STEP + 0.002))
    expect(planner.message).to_have_text(
        f"新建 {NEW1}、{NEW2}，退役 {SW}，住户调整 3 户，在办事件调整 0 件"
    )
    expect(page.locator("#planner")).to_have_attribute("data-grids", "5")
    assert planner.zoom() == 15  # the double-click ended the line; it did not zoom the map
    expect(page.locator("#selected-count")).to_have_text("0")
    coverage = planner.coverage()
    planner.screenshot("split")
    assert planner.watch.problems() == []
    [(method, path, body)] = planner.writes
    assert (method, path) == ("POST", f"/api/v1/areas/{SW}/split")
    line = shapely.geometry.shape(body["line"])
    assert line.geom_type == "LineString" and len(line.coords) == 2
    aimed = shapely.LineString([(SPLIT_LON, Y0 - 0.002), (SPLIT_LON, Y0 + STEP + 0.002)])
    assert distance_m(line, aimed) < CLICK_M

    grids = live_grids(session)
    assert list(grids) == [NW, NE, SE, NEW1, NEW2]
    assert area(session, SW).valid_to is not None
    # West of the line is the first new code (codes run west to east within a row).
    cut = line.coords[0][0]
    assert distance_m(to_shape(grids[NEW1].geom), box(X0, Y0, cut, Y0 + STEP)) < 0.01
    assert distance_m(to_shape(grids[NEW2].geom), box(cut, Y0, X0 + STEP, Y0 + STEP)) < 0.01
    west, east = world.households["SW_WEST"], world.households["SW_EAST"]
    assert current_grid_codes(session, west + east) == {
        **dict.fromkeys(west, NEW1),
        **dict.fromkeys(east, NEW2),
    }
    assert coverage["缝隙"] == "0（0 平方米）" and coverage["重叠"] == "0"


def test_a_split_given_up_for_the_polygon_tool_does_not_take_the_next_drawing(
    world, session, open_page
):
    retire(session, NE)
    planner = Planner.open(open_page)
    planner.click(X0 + 0.5 * STEP, Y0 + 0.8 * STEP)  # on SW
    planner.button("画线拆分").click()
    hint = "画一条穿过所选网格的线，双击结束。"
    expect(planner.message).to_have_text(hint)
    # The person changes their mind: the polygon tool, and a new grid on the empty NE cell.
    planner.draw_polygon(list(CELLS["NE"].exterior.coords)[:4])
    expect(planner.message).not_to_have_text(hint)
    assert planner.message.inner_text() == f"新建 {NEW1}，住户调整 2 户，在办事件调整 0 件"
    assert [(m, p) for m, p, _ in planner.writes] == [("POST", "/api/v1/areas")]
    assert planner.watch.problems() == []
    assert list(live_grids(session)) == [NW, SW, SE, NEW1]


def test_merge_two_selected_grids(world, session, open_page):
    planner = Planner.open(open_page)
    page = planner.page
    planner.click(X0 + 0.3 * STEP, Y0 + 1.7 * STEP)  # on NW
    expect(page.locator("#selected-count")).to_have_text("1")
    planner.click(X0 + 1.7 * STEP, Y0 + 1.7 * STEP)  # on NE
    expect(page.locator("#selected-count")).to_have_text("2")
    assert planner.selected() == [f"第1网格（{NW}，版本 1）", f"第2网格（{NE}，版本 1）"]
    expect(planner.selected_paths()).to_have_count(2)
    expect(planner.button("合并")).to_be_enabled()
    for single in ("编辑顶点", "画线拆分", "退役"):
        expect(planner.button(single)).to_be_disabled()
    planner.screenshot("merge-selected")
    planner.button("合并").click()
    expect(planner.message).to_have_text(
        f"新建 {NEW1}，退役 {NW}、{NE}，住户调整 3 户，在办事件调整 0 件"
    )
    expect(page.locator("#planner")).to_have_attribute("data-grids", "3")
    expect(planner.selected_paths()).to_have_count(0)
    coverage = planner.coverage()
    assert planner.watch.problems() == []
    [(method, path, body)] = planner.writes
    assert (method, path, body) == (
        "POST",
        "/api/v1/areas/merge",
        {"codes": [NW, NE], "versions": {NW: 1, NE: 1}},
    )

    grids = live_grids(session)
    assert list(grids) == [SW, SE, NEW1]
    union = box(X0, Y0 + STEP, X0 + 2 * STEP, Y0 + 2 * STEP)
    merged = to_shape(grids[NEW1].geom)
    assert merged.symmetric_difference(union).area < 1e-12 and distance_m(merged, union) < 0.01
    assert area(session, NW).valid_to is not None and area(session, NE).valid_to is not None
    north = world.households["NW"] + world.households["NE"]
    assert current_grid_codes(session, north) == dict.fromkeys(north, NEW1)
    assert coverage["缝隙"] == "0（0 平方米）" and coverage[NO_WORKER] == codes(3, 4, 5)


def test_saving_a_vertex_edit_of_a_grid_someone_changed_meanwhile_is_refused(
    world, session, open_page
):
    planner = Planner.open(open_page)
    planner.watch.expect_status(f"/api/v1/areas/{SE}", 412)
    planner.click(X0 + 1.5 * STEP, Y0 + 0.8 * STEP)  # on SE
    assert planner.selected() == [f"第4网格（{SE}，版本 1）"]
    planner.button("编辑顶点").click()
    expect(planner.message).to_have_text("拖动顶点修改边界，完成后点“保存修改”。")
    expect(planner.vertices()).to_have_count(4)
    expect(planner.button("保存修改")).to_be_enabled()

    # The page sits idle, holding version 1. Someone else moves SE's northern edge south
    # (version 2), committed before the browser's next request.
    others = box(X0 + STEP, Y0, X0 + 2 * STEP, Y0 + 0.8 * STEP)
    change = service.update_area(
        session,
        None,
        SE,
        1,
        geometry=mapping(others),
        max_vertices=current_app.config["WANGGE_MAX_VERTICES"],
    )
    assert change.area["properties"]["version"] == 2

    # Drag SE's south-east corner inwards, then save.
    corner, target = (X0 + 2 * STEP, Y0), (X0 + 1.7 * STEP, Y0 + 0.3 * STEP)
    planner.drag(corner, target)
    planner.button("保存修改").click()
    expect(planner.message).to_have_text(
        f"该网格已被他人修改，请刷新后再编辑。（Area {SE} has changed since you loaded it "
        "(version 2, you sent 1); reload it and apply your edit again.）"
    )
    expect(planner.message).to_have_class("message error")
    expect(planner.vertices()).to_have_count(0)  # no longer editing
    planner.screenshot("stale-edit")
    assert planner.watch.problems() == []
    [(method, path, body)] = planner.writes
    assert (method, path) == ("PATCH", f"/api/v1/areas/{SE}")
    sent = shapely.geometry.shape(body["geometry"])
    # The browser sent its edit: the corner where it was dropped, the rest as loaded.
    dropped = shapely.Polygon([*list(CELLS["SE"].exterior.coords)[1:4], target])
    assert distance_m(sent, dropped) < CLICK_M

    stored = area(session, SE)
    assert stored.version == 2 and stored.valid_to is None
    assert distance_m(to_shape(stored.geom), others) < 0.01  # the other edit, not the browser's
    assert distance_m(to_shape(stored.geom), sent) > 100


def test_a_refused_vertex_edit_leaves_the_panel_ready_for_another_try(world, session, open_page):
    planner = Planner.open(open_page)
    planner.watch.expect_status(f"/api/v1/areas/{SE}", 409)
    planner.click(X0 + 1.5 * STEP, Y0 + 0.8 * STEP)  # on SE
    planner.button("编辑顶点").click()
    # Drag SE's north-east corner up into NE, then save.
    planner.drag((X0 + 2 * STEP, Y0 + STEP), (X0 + 1.8 * STEP, Y0 + 1.3 * STEP))
    planner.button("保存修改").click()
    expect(planner.message).to_have_text(f"与相邻网格重叠，未保存。（The area overlaps {NE}.）")
    expect(planner.page.locator(".fault-popup .leaflet-popup-content")).to_have_text(
        f"与 {NE} 重叠"
    )
    assert planner.selected() == [f"第4网格（{SE}，版本 1）"]
    assert planner.button("保存修改").is_disabled()
    assert planner.button("编辑顶点").is_enabled()
    assert planner.watch.problems() == []
    stored = area(session, SE)
    assert stored.version == 1 and to_shape(stored.geom).equals(CELLS["SE"])


def test_generate_square_grids_preview_then_commit(world, session, open_page):
    planner = Planner.open(open_page)
    page = planner.page
    page.get_by_label("方式").select_option(label="方格（米）")
    page.get_by_label("每格住户数、边长或 H3 级别").fill("500")
    expect(planner.button("确认生成")).to_be_disabled()
    planner.button("预览").click()
    summary = page.locator("#generate-summary")
    expect(summary).to_have_text(re.compile(r"^预览："))
    expect(planner.button("确认生成")).to_be_enabled()
    preview_text = summary.inner_text()
    labels = page.locator(".preview-label").all_inner_texts()
    planner.screenshot("generate-preview")
    assert planner.writes == [
        ("POST", f"/api/v1/areas/{C}/generate", {"kind": "square", "cell_m": 500})
    ]

    # The page sits idle: the same request, made here, and the database unchanged.
    plan = plan_grids(session, C, "square", {"cell_m": 500}).to_dict()
    s = plan["summary"]
    assert s["grids"] == 20  # 1.9 km x 2.2 km in 500 m squares: 4 columns, 5 rows
    assert (
        preview_text
        == f"预览：{s['grids']} 个网格，每格住户 {s['min']}–{s['max']}（平均 {s['mean']:g}）"
    )
    assert sorted(labels) == sorted(
        f"{f['properties']['code']}：{f['properties']['households']} 户" for f in plan["features"]
    )
    assert list(live_grids(session)) == [NW, NE, SW, SE]

    planner.button("确认生成").click()
    new = [f["properties"]["code"] for f in plan["features"]]
    assert new == [f"{C}{n:03d}" for n in range(5, 25)]
    expect(planner.message).to_have_text(
        f"新建 {'、'.join(new)}，退役 {codes(1, 2, 3, 4)}，住户调整 7 户，在办事件调整 0 件"
    )
    expect(page.locator("#planner")).to_have_attribute("data-grids", "20")
    expect(summary).to_have_text("")
    expect(page.locator(".preview-label")).to_have_count(0)
    expect(planner.button("确认生成")).to_be_disabled()
    coverage = planner.coverage()
    planner.screenshot("generate")
    assert planner.watch.problems() == []
    assert len(planner.writes) == 2 and planner.writes[1][2] == {
        "kind": "square",
        "cell_m": 500,
        "commit": True,
    }

    grids = live_grids(session)
    assert list(grids) == new
    for code, feature in zip(new, plan["features"]):
        previewed = shapely.geometry.shape(feature["geometry"])
        assert distance_m(to_shape(grids[code].geom), previewed) < 0.01
    households = [h for ids in world.households.values() for h in ids]
    assigned = current_grid_codes(session, households)
    assert set(assigned.values()) <= set(new) and None not in assigned.values()
    assert coverage["重叠"] == "0" and coverage["缝隙"] == "0（0 平方米）"
    assert coverage["未入格住户"] == "0"
