"""Logging in on a phone screen, the home page's figures, no way off the site after login."""

from __future__ import annotations

from urllib.parse import urlencode, urlsplit

import pytest
from playwright.sync_api import expect

from app.services.assignment import assign_all
from tests.e2e.browser import figures, log_in
from tests.factories import STEP, X0, Y0, add_households, add_user, build_world

PHONE = (390, 844)


@pytest.fixture
def world(session):
    """Four grids, 5 households in them and 2 outside every grid; a worker on one grid."""
    world = build_world(session)
    add_households(
        session,
        [
            (X0 + 0.002, Y0 + STEP + 0.002),  # NW
            (X0 + 0.004, Y0 + STEP + 0.004),  # NW
            (X0 + STEP + 0.003, Y0 + STEP + 0.003),  # NE
            (X0 + 0.005, Y0 + 0.005),  # SW
            (X0 + STEP + 0.005, Y0 + 0.005),  # SE
            (X0 - 0.02, Y0 - 0.02),  # in the district, in no grid
            (X0 + 0.05, Y0 + 0.05),  # in the district, in no grid
        ],
    )
    add_user(session, "leader", "leader")
    add_user(session, "wang", "worker", grids=[world.grids["SE"]])
    assign_all(session)  # commits: the live server sees everything from here on
    return world


def fits_the_screen(page) -> bool:
    return page.evaluate("() => document.documentElement.scrollWidth <= window.innerWidth")


def test_login_on_a_phone_screen_refuses_a_wrong_password_then_shows_the_figures(world, open_page):
    page, watch = open_page(viewport=PHONE)
    page.goto("/login")
    assert page.viewport_size["width"] == 390
    assert fits_the_screen(page)
    form = page.locator("form.login")
    assert form.bounding_box()["width"] <= 390

    watch.expect_status("/login", 401)
    refused = log_in(page, "leader", password="wrong-password", path=None)
    assert refused.status == 401
    assert page.url == f"{watch.origin}/login"
    expect(page.get_by_role("alert")).to_have_text("用户名或密码错误。")
    expect(page.get_by_role("button", name="登录")).to_be_visible()
    assert page.get_by_role("button", name="退出").count() == 0  # not logged in
    assert fits_the_screen(page)

    home = log_in(page, "leader", path=None)
    assert (home.status, home.request.redirected_from.response().status) == (200, 302)
    assert page.url == f"{watch.origin}/"
    expect(page.locator("h1")).to_have_text("阆中市")
    assert figures(page) == {
        "街道/镇": "1",
        "社区/村": "1",
        "网格": "4",
        "住户": "5",
        "未入格住户": "2",
        "无网格员网格": "3",
    }
    expect(page.locator(".who")).to_have_text("leader（领导）")
    assert page.get_by_role("alert").count() == 0
    assert fits_the_screen(page)
    assert watch.problems() == []


def test_a_worker_sees_the_figures_of_their_own_grid(world, open_page):
    page, watch = open_page(viewport=PHONE)
    log_in(page, "wang")
    assert page.url == f"{watch.origin}/"
    assert figures(page) == {
        "街道/镇": "1",
        "社区/村": "1",
        "网格": "1",
        "住户": "1",
        "未入格住户": "0",
        "无网格员网格": "0",
    }
    expect(page.locator(".who")).to_have_text("wang（网格员）")
    assert watch.problems() == []


@pytest.mark.parametrize(
    "target",
    [
        "https://evil.example/",
        "//evil.example/",
        "/\\evil.example/",
        "/\t/evil.example/",
        "///evil.example/",
        "javascript:alert(1)",
    ],
)
def test_logging_in_never_leads_to_another_site(world, open_page, target):
    page, watch = open_page(viewport=PHONE)
    page.goto("/login?" + urlencode({"next": target}))
    log_in(page, "leader", path=None)
    assert urlsplit(page.url).netloc == urlsplit(watch.origin).netloc
    assert page.get_by_role("button", name="退出").count() == 1  # logged in, on our site
    assert watch.foreign_requests == []
