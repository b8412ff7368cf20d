"""Reporting an incident on a phone screen (390 x 844): a worker's form (tap the map, pick a
category, attach a photo, watch it upload, land on the incident page), refusals shown in
Chinese with the reason, marking a possible duplicate, and the residents' public form."""

from __future__ import annotations

import json
import os
import re
from datetime import UTC, datetime, timedelta

import pytest
from PIL import Image
from playwright.sync_api import expect
from sqlalchemy import func, select

from app.models import Incident, IncidentCategory, IncidentPhoto
from app.services.assignment import assign_all
from tests.e2e.browser import log_in, map_position, screenshot_path
from tests.factories import (
    STEP,
    X0,
    Y0,
    add_category,
    add_incident,
    add_user,
    build_world,
    image_bytes,
)

PHONE = (390, 844)
NW, NE = "511381001001001", "511381001001002"
NW_CENTRE = (X0 + 0.5 * STEP, Y0 + 1.5 * STEP)
NE_CENTRE = (X0 + 1.5 * STEP, Y0 + 1.5 * STEP)
WEST_OF_NW = (X0 - 0.0007, Y0 + 1.5 * STEP)  # in the district, in no grid
RESIDENT_PHONE = "13987654321"


@pytest.fixture
def world(session):
    world = build_world(session)
    world.ids = {
        "wang": add_user(session, "wang", "worker", grids=[world.grids["NW"]]).id,
        "zhao": add_user(session, "zhao", "worker", grids=[world.grids["NE"]]).id,
        "NW": world.grids["NW"].id,
        "NE": world.grids["NE"].id,
    }
    add_category(session)
    add_category(session, "litter", "垃圾堆放", deadline_days=2)
    assign_all(session)  # commits
    return world


def fits_the_screen(page) -> bool:
    return page.evaluate("() => document.documentElement.scrollWidth <= window.innerWidth")


def png(name: str = "road.png") -> dict:
    return {"name": name, "mimeType": "image/png", "buffer": image_bytes(size=(64, 48))}


def open_form(open_page, user: str | None = "wang", path: str = "/incidents/new"):
    page, watch = open_page(viewport=PHONE)
    if user:
        log_in(page, user, path=f"/login?next={path}")
    else:
        page.goto(path)
    expect(page.locator("#report-form[data-ready=true]")).to_have_count(1)
    return page, watch, page.locator("#report-form").get_attribute("data-map")


def tap(page, map_name: str, lon: float, lat: float) -> None:
    """Tap the map at (lon, lat), scrolling it into view first; the place must be on it."""
    page.locator(f"#{map_name}").scroll_into_view_if_needed()
    x, y = map_position(page, map_name, lon, lat)
    frame = page.locator(f"#{map_name}").bounding_box()
    assert frame["x"] < x < frame["x"] + frame["width"]
    assert max(frame["y"], 0) < y < min(frame["y"] + frame["height"], PHONE[1])
    page.mouse.click(x, y)


def record_progress(page) -> None:
    """Keep every visible value of the upload progress bar, across the page change that
    follows the upload, in sessionStorage."""
    page.evaluate(
        """() => { sessionStorage.setItem('progressSeen', '[]');
             const bar = document.getElementById('upload-progress');
             new MutationObserver(() => {
               const seen = JSON.parse(sessionStorage.getItem('progressSeen'));
               if (!bar.hidden) seen.push(bar.value);
               sessionStorage.setItem('progressSeen', JSON.stringify(seen));
             }).observe(bar, {attributes: true}); }"""
    )


def progress_seen(page) -> list[float]:
    return json.loads(page.evaluate("() => sessionStorage.getItem('progressSeen')"))


def noise_png(path, side: int):
    """A PNG of random pixels at ``path``: it does not compress, so it takes a while to upload."""
    Image.frombytes("RGB", (side, side), os.urandom(side * side * 3)).save(path, "PNG")
    return path


def test_a_worker_reports_with_a_photo_and_lands_on_the_incident_page(world, open_page, session):
    page, watch, map_name = open_form(open_page)
    assert fits_the_screen(page)
    tap(page, map_name, *NW_CENTRE)
    expect(page.locator("#point-text")).to_contain_text("地图选点")
    page.get_by_label("事件类别").select_option("road")
    page.get_by_label("事件描述").fill("人行道地砖松动，有绊倒风险")
    page.locator("input[name=photos]").set_input_files(png())
    expect(page.locator("#photo-list li")).to_have_count(1)
    expect(page.locator("#photo-count")).to_have_text("1 / 5")
    page.screenshot(path=screenshot_path("report-form-phone.png"), full_page=True)
    record_progress(page)
    with page.expect_navigation(url=re.compile(r"/incidents/\d+$")):
        page.get_by_role("button", name="提交").click()
    expect(page.locator("#incident[data-ready=true]")).to_have_count(1)
    assert progress_seen(page)[-1] == 100
    expect(page.locator("#grid-name")).to_have_text(f"第1网格（{NW}）")
    expect(page.locator("#status-name")).to_have_text("上报")
    thumb = page.locator("ul.thumbs img")
    expect(thumb).to_have_count(1)
    thumb.scroll_into_view_if_needed()  # thumbnails load lazily
    page.wait_for_function("() => document.querySelector('ul.thumbs img').naturalWidth > 0")
    assert thumb.evaluate("(img) => img.naturalWidth") == 64
    assert fits_the_screen(page)
    page.screenshot(path=screenshot_path("report-landed-phone.png"), full_page=True)
    assert watch.problems() == []

    incident_id = int(page.url.rsplit("/", 1)[1])
    incident = session.get(Incident, incident_id)
    assert (incident.channel, incident.grid_id) == ("patrol", world.ids["NW"])
    assert incident.reporter_id == world.ids["wang"]
    assert (
        session.scalar(
            select(func.count())
            .select_from(IncidentPhoto)
            .where(IncidentPhoto.incident_id == incident_id)
        )
        == 1
    )


def test_the_progress_bar_moves_while_photos_upload(world, open_page, tmp_path):
    page, watch, map_name = open_form(open_page)
    tap(page, map_name, *NW_CENTRE)
    page.get_by_label("事件类别").select_option("litter")
    page.get_by_label("事件描述").fill("垃圾桶满溢")
    big = [noise_png(tmp_path / f"big{i}.png", 700) for i in range(2)]  # 2 x 1.5 MB
    page.locator("input[name=photos]").set_input_files(big, timeout=30_000)
    expect(page.locator("#photo-list li")).to_have_count(2)
    record_progress(page)
    # A slow uplink (1 MB/s, as on a weak mobile signal): the upload takes about 3 s.
    network = page.context.new_cdp_session(page)
    network.send("Network.enable")
    network.send(
        "Network.emulateNetworkConditions",
        {"offline": False, "latency": 0, "downloadThroughput": -1, "uploadThroughput": 1_000_000},
    )
    with page.expect_navigation(url=re.compile(r"/incidents/\d+$"), timeout=60_000):
        page.get_by_role("button", name="提交").click()
    seen = progress_seen(page)
    assert seen[0] == 0 and seen[-1] == 100
    assert seen == sorted(seen)
    assert any(0 < value < 100 for value in seen), seen
    thumbs = page.locator("ul.thumbs img")
    expect(thumbs).to_have_count(2)
    thumbs.last.scroll_into_view_if_needed()
    page.wait_for_function("() => [...document.images].every((img) => img.complete)")
    assert watch.problems() == []


def test_the_browser_refuses_a_non_image_and_the_server_a_point_in_no_grid(
    world, open_page, session
):
    before = session.scalar(select(func.count()).select_from(Incident))
    page, watch, map_name = open_form(open_page)
    page.locator("input[name=photos]").set_input_files(
        {"name": "notes.txt", "mimeType": "text/plain", "buffer": b"not a photo"}
    )
    message = page.locator("#report-message")
    expect(message).to_contain_text("“notes.txt”不是 JPEG、PNG 或 WebP 图片")
    expect(page.locator("#photo-list li")).to_have_count(0)

    page.get_by_role("button", name="提交").click()
    expect(message).to_have_text("请先在地图上点选位置，或使用我的位置。")

    tap(page, map_name, *WEST_OF_NW)
    page.get_by_label("事件类别").select_option("road")
    page.get_by_label("事件描述").fill("路灯不亮")
    watch.expect_status("/api/v1/incidents", 422)
    page.get_by_role("button", name="提交").click()
    expect(message).to_contain_text("未能提交。该位置不在任何网格内，无法受理（位置）：")
    expect(message).to_contain_text("inside the district but in no grid")
    expect(page.get_by_role("button", name="提交")).to_be_enabled()
    assert fits_the_screen(page)
    page.screenshot(path=screenshot_path("report-refused-phone.png"), full_page=True)
    assert watch.problems() == []
    assert session.scalar(select(func.count()).select_from(Incident)) == before


def test_a_possible_duplicate_is_marked_in_one_click(world, open_page, session):
    road = session.scalar(select(IncidentCategory).where(IncidentCategory.code == "road"))
    original = add_incident(
        session, world, "NW", road, status="dispatched", point=(NW_CENTRE[0] + 0.001, NW_CENTRE[1]),
        created_at=datetime.now(UTC) - timedelta(days=3),
    ).id  # fmt: skip
    session.commit()
    page, watch, map_name = open_form(open_page)
    tap(page, map_name, *NW_CENTRE)
    page.get_by_label("事件类别").select_option("road")
    page.get_by_label("事件描述").fill("同一处路面塌陷")
    with page.expect_navigation(url=re.compile(r"/incidents/\d+$")):
        page.get_by_role("button", name="提交").click()
    mark = page.get_by_role("button", name=f"标记为 #{original} 的重复")
    expect(mark).to_be_visible()
    # 95 m from the centre of NW; the tap lands within a pixel (about 4 m) of it.
    expect(page.locator("#dup-title + ul")).to_contain_text(re.compile(r"相距 (9\d|10\d) 米"))
    with page.expect_navigation():
        mark.click()
    expect(page.locator("#status-name")).to_have_text("重复")
    expect(page.locator(f"a.badge[href='/incidents/{original}']")).to_have_text(
        f"重复于 #{original}"
    )
    assert watch.problems() == []
    incident = session.get(Incident, int(page.url.rsplit("/", 1)[1]))
    assert (incident.status, incident.duplicate_of_id) == ("duplicate", original)


def test_a_resident_reports_without_logging_in_and_follows_the_status(world, open_page, session):
    page, watch, map_name = open_form(open_page, user=None, path="/public/report")
    assert fits_the_screen(page)
    assert page.locator("#bell").count() == 0
    page.context.grant_permissions(["geolocation"], origin=watch.origin)
    page.context.set_geolocation({"latitude": NE_CENTRE[1], "longitude": NE_CENTRE[0]})
    page.get_by_role("button", name="使用我的位置").click()
    expect(page.locator("#point-text")).to_contain_text("我的位置")
    page.get_by_label("事件类别").select_option("litter")
    page.get_by_label("事件描述").fill("小区门口垃圾堆放三天无人清理")
    page.get_by_label("手机号").fill(RESIDENT_PHONE)
    page.locator("input[name=photos]").set_input_files(png())
    page.screenshot(path=screenshot_path("public-report-phone.png"), full_page=True)
    with page.expect_navigation(url=re.compile(r"/public/report/\d+\?new=1$")):
        page.get_by_role("button", name="提交").click()
    number = page.locator("#tracking-number").inner_text()
    expect(page.locator("#public-grid")).to_have_text("第2网格")
    expect(page.locator("#public-status")).to_have_text("上报")
    assert RESIDENT_PHONE not in page.content() and "无人清理" not in page.content()
    assert fits_the_screen(page)
    page.screenshot(path=screenshot_path("public-status-phone.png"), full_page=True)

    page.goto("/public/report")
    page.get_by_label("受理编号").fill(number)
    page.get_by_role("button", name="查看进度").click()
    expect(page.locator("#tracking-number")).to_have_text(number)
    assert watch.problems() == []

    incident = session.get(Incident, int(number))
    assert (incident.channel, incident.contact_phone) == ("web", RESIDENT_PHONE)
    assert incident.grid_id == world.ids["NE"]
    assert incident.worker_id == world.ids["zhao"]
