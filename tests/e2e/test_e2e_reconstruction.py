"""Reconstruction sites in a real browser: the map coloured by the three-colour rule with a
filterable list, a site's page with its history and a progress report with a photo, and the
public listing; at desktop and phone sizes, with no console error and no personal data."""

from __future__ import annotations

from datetime import timedelta

import pytest
from geoalchemy2.shape import from_shape
from playwright.sync_api import expect
from shapely import MultiPolygon, Point, box

from app.models.hazards import ReconstructionSite, SiteMilestone, SitePhoto, SiteProgress
from app.services.sites import COLOUR_HEX, today
from tests.e2e.browser import log_in, screenshot_path, shown
from tests.factories import X0, Y0, add_user, build_world, image_bytes

PHONES = ("13812345678", "13900001111")  # planted: the sites' contact, the users (add_user)
VIEWPORTS = {"desktop": (1280, 800), "phone": (390, 844)}
TODAY = today()


def add_site(session, name, site_type, geom, actual, *, milestones=()):
    """A site planned 100 days ago to 100 days ahead (plan today: 50 %)."""
    site = ReconstructionSite(
        name=name,
        site_type=site_type,
        owner="阆中市住建局",
        geom=from_shape(geom, srid=4326),
        planned_start=TODAY - timedelta(days=100),
        planned_end=TODAY + timedelta(days=100),
        contact_name="赵建国",
        contact_phone="13812345678",
    )
    session.add(site)
    session.flush()
    session.add_all(SiteMilestone(site_id=site.id, name=n, planned_date=d) for n, d in milestones)
    report = SiteProgress(
        site_id=site.id, reported_on=TODAY - timedelta(days=3), percent=actual, note="月度报告"
    )
    session.add(report)
    session.flush()
    return site, report


@pytest.fixture
def sites(session):
    build_world(session)
    add_user(session, "leader", "leader")
    green, report = add_site(session, "城北安置房", "housing", Point(X0 + 0.004, Y0 + 0.004), 48)
    png = image_bytes("PNG", (40, 30))
    session.add(
        SitePhoto(
            progress_id=report.id,
            content_type="image/png",
            size=len(png),
            sha256="0" * 64,
            data=png,
        )
    )
    yellow, _ = add_site(
        session,
        "滨江路修复",
        "road",
        Point(X0 + 0.015, Y0 + 0.004),
        49,
        milestones=[("路基完工", TODAY - timedelta(days=5))],
    )
    red, _ = add_site(
        session,
        "实验小学重建",
        "school",
        MultiPolygon([box(X0 + 0.012, Y0 + 0.012, X0 + 0.016, Y0 + 0.016)]),
        20,
    )
    session.commit()  # the live server sees everything from here on
    return {"green": green.id, "yellow": yellow.id, "red": red.id}


def list_names(page) -> list[str]:
    return [a.strip() for a in page.locator("#site-list li a").all_inner_texts()]


@pytest.mark.parametrize("size", VIEWPORTS)
def test_reconstruction_map_colours_legend_list_and_filters(sites, open_page, size):
    page, watch = open_page(VIEWPORTS[size])
    log_in(page, "leader", path="/login?next=/map/reconstruction")
    assert page.url.endswith("/map/reconstruction")
    expect(page.locator(".leaflet-container")).to_have_count(1)
    expect(page.locator("path.leaflet-interactive")).to_have_count(3)
    strokes = page.locator("path.leaflet-interactive").evaluate_all(
        "ps => ps.map(p => p.getAttribute('stroke')).sort()"
    )
    assert strokes == sorted(COLOUR_HEX.values())
    legend = page.locator(".wangge-legend")
    expect(legend.locator("strong")).to_have_text("项目状态")
    assert [t.strip() for t in legend.locator("div").all_inner_texts()] == ["正常", "滞后", "风险"]
    assert list_names(page) == ["城北安置房", "滨江路修复", "实验小学重建"]
    assert page.locator("#site-counts strong").all_inner_texts() == ["1", "1", "1"]
    html = page.content()
    assert "赵建国" not in html and shown(html, PHONES) == []

    # The red site's popup.
    zone = page.locator(f'path.leaflet-interactive[stroke="{COLOUR_HEX["red"]}"]')
    zone.scroll_into_view_if_needed()
    box_ = zone.bounding_box()
    page.mouse.click(box_["x"] + box_["width"] / 2, box_["y"] + box_["height"] / 2)
    popup = page.locator(".leaflet-popup-content")
    expect(popup).to_have_count(1)
    rows = popup.evaluate(
        """el => Object.fromEntries([...el.querySelectorAll('tr')].map(
               tr => [tr.querySelector('th').innerText.trim(),
                      tr.querySelector('td').innerText.trim()]))"""
    )
    assert rows == {
        "项目": "实验小学重建",
        "类型": "学校",
        "建设单位": "阆中市住建局",
        "状态": "风险",
        "实际进度": "20%",
        "计划进度": "50%",
    }
    page.screenshot(path=screenshot_path(f"reconstruction-map-{size}.png"), full_page=True)

    # Filters beside the map.
    page.locator("#filter-status").select_option("yellow")
    with page.expect_navigation():
        page.get_by_role("button", name="筛选").click()
    assert list_names(page) == ["滨江路修复"]
    expect(page.locator("path.leaflet-interactive")).to_have_count(1)
    page.locator("#filter-status").select_option("")
    page.locator("#filter-type").select_option("school")
    with page.expect_navigation():
        page.get_by_role("button", name="筛选").click()
    assert list_names(page) == ["实验小学重建"]
    with page.expect_navigation():
        page.get_by_role("link", name="实验小学重建").click()
    assert page.url.endswith(f"/sites/{sites['red']}")
    assert watch.problems() == []


@pytest.mark.parametrize("size", VIEWPORTS)
def test_site_page_history_and_progress_report_with_a_photo(sites, open_page, size):
    page, watch = open_page(VIEWPORTS[size])
    log_in(page, "leader", path=f"/login?next=/sites/{sites['yellow']}")
    expect(page.locator("h1")).to_have_text("滨江路修复")
    expect(page.locator("#site-status")).to_have_text("滞后")
    expect(page.locator("#status-reasons")).to_contain_text("里程碑“路基完工”逾期 5 天")
    expect(page.locator("svg.progress-chart circle.actual")).to_have_count(1)
    expect(page.locator("#milestones tbody")).to_contain_text("逾期 5 天")
    html = page.content()
    assert "赵**" in html and "赵建国" not in html and shown(html, PHONES) == []

    # Report 60 % with a photo; the request is held until the upload progress was seen.
    held = []
    url = f"**/api/v1/sites/{sites['yellow']}/progress"
    page.route(url, lambda route: held.append(route))
    page.get_by_label("完成百分比（0–100）").fill("60")
    page.get_by_label("进展说明").fill("路面铺设完成")
    page.locator("input[name=photos]").set_input_files(
        [{"name": "road.jpg", "mimeType": "image/jpeg", "buffer": image_bytes("JPEG", (64, 48))}]
    )
    page.get_by_role("button", name="提交").click()
    expect(page.locator("#upload-progress")).to_be_visible()
    expect(page.get_by_role("button", name="提交")).to_be_disabled()
    assert len(held) == 1
    with page.expect_navigation():
        held[0].fallback()
    page.unroute(url)
    expect(page.locator("#progress-history tbody tr")).to_have_count(2)
    first = page.locator("#progress-history tbody tr").first
    expect(first).to_contain_text("60%")
    expect(first).to_contain_text("路面铺设完成")
    photo = first.locator("img")
    expect(photo).to_have_count(1)
    photo.scroll_into_view_if_needed()
    page.wait_for_function(
        "img => img.complete && img.naturalWidth === 64", arg=photo.element_handle()
    )
    expect(page.locator("svg.progress-chart circle.actual")).to_have_count(2)
    page.screenshot(path=screenshot_path(f"reconstruction-site-{size}.png"), full_page=True)

    # A refused report says why and keeps the page.
    page.get_by_label("完成百分比（0–100）").fill("")
    page.get_by_label("完成百分比（0–100）").evaluate("el => { el.removeAttribute('max'); }")
    page.get_by_label("完成百分比（0–100）").fill("150")
    watch.expect_status(f"/api/v1/sites/{sites['yellow']}/progress", 422)
    page.get_by_role("button", name="提交").click()
    expect(page.locator("#progress-message")).to_contain_text("percent must be a number")
    expect(page.locator("#progress-history tbody tr")).to_have_count(2)
    assert watch.problems() == []


@pytest.mark.parametrize("size", VIEWPORTS)
def test_public_listing_without_login_or_personal_data(sites, open_page, size):
    page, watch = open_page(VIEWPORTS[size])
    response = page.goto("/public/sites")
    assert response.status == 200 and page.url.endswith("/public/sites")
    rows = page.locator("#public-sites tbody tr")
    expect(rows).to_have_count(3)
    expect(rows.nth(0)).to_contain_text("城北安置房")
    expect(rows.nth(0)).to_contain_text("正常")
    expect(rows.nth(1)).to_contain_text("滞后")
    expect(rows.nth(2)).to_contain_text("风险")
    expect(rows.nth(2)).to_contain_text("20%")
    text = page.locator("body").inner_text()
    assert "阆中市住建局" in text and TODAY.isoformat() in text
    html = page.content()
    assert "赵建国" not in html and "赵*" not in html
    assert shown(html, PHONES) == [] and "138****" not in html
    page.screenshot(path=screenshot_path(f"public-sites-{size}.png"), full_page=True)
    assert watch.problems() == []
