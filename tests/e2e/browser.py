"""Helpers for the browser tests: watching a page for errors, logging in, reading figures,
finding a place on a map."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

OUTPUT = Path(__file__).resolve().parents[1] / "output"  # git-ignored
PASSWORD = "password-123"  # tests.factories.add_user's password
_FAILED_TO_LOAD = re.compile(
    r"Failed to load resource: the server responded with a status of (\d+)"
)


@dataclass
class PageWatch:
    """What went wrong while a page was open: console errors, page errors, failed requests,
    HTTP errors (except those a test expects), requests to any host but the live server and
    Content-Security-Policy violations."""

    origin: str
    console_errors: list[str] = field(default_factory=list)
    page_errors: list[str] = field(default_factory=list)
    failed_requests: list[str] = field(default_factory=list)
    http_errors: list[str] = field(default_factory=list)
    foreign_requests: list[str] = field(default_factory=list)
    csp_violations: list[str] = field(default_factory=list)
    requests: list[str] = field(default_factory=list)
    expected_statuses: dict[str, int] = field(default_factory=dict)

    def expect_status(self, path: str, status: int) -> None:
        """Do not report ``status`` for ``path`` (e.g. the 401 of a refused login), nor the
        console message Chromium logs for it."""
        self.expected_statuses[path] = status

    def _expected(self, url: str, status: int) -> bool:
        return self.expected_statuses.get(urlsplit(url).path) == status

    def problems(self) -> list[str]:
        return (
            [f"console: {m}" for m in self.console_errors]
            + [f"page error: {m}" for m in self.page_errors]
            + [f"request failed: {m}" for m in self.failed_requests]
            + [f"HTTP error: {m}" for m in self.http_errors]
            + [f"foreign request: {m}" for m in self.foreign_requests]
            + [f"CSP violation: {m}" for m in self.csp_violations]
        )

    # -- event handlers -------------------------------------------------------------------

    def _is_local(self, url: str) -> bool:
        parts = urlsplit(url)
        if parts.scheme in ("data", "blob", "about"):
            return True
        return f"{parts.scheme}://{parts.netloc}" == self.origin

    def on_console(self, message) -> None:
        if message.type != "error":
            return
        url = message.location.get("url", "")
        status = _FAILED_TO_LOAD.match(message.text)
        if status and self._expected(url, int(status.group(1))):
            return
        self.console_errors.append(f"{message.text} @ {url}")

    def on_csp_violation(self, report: str) -> None:
        self.csp_violations.append(report)

    def on_request(self, request) -> None:
        self.requests.append(f"{request.method} {request.url}")

    def on_request_failed(self, request) -> None:
        # A script's request cancelled because the page moved on (leaving the page, a map
        # dropping tiles out of view) is the page's choice, not a failure.
        if request.resource_type in ("fetch", "xhr") and "ERR_ABORTED" in (request.failure or ""):
            return
        self.failed_requests.append(f"{request.method} {request.url}: {request.failure}")

    def on_response(self, response) -> None:
        if response.status >= 400 and not self._expected(response.url, response.status):
            self.http_errors.append(f"{response.status} {response.request.method} {response.url}")

    def route(self, route) -> None:
        url = route.request.url
        if self._is_local(url):
            route.continue_()
        else:
            self.foreign_requests.append(url)
            route.abort("blockedbyclient")


def shown(html: str, planted: tuple[str, ...]) -> list[str]:
    """Which of the personal data a test planted (phones, names, ID numbers) ``html`` shows.

    Searched for exactly: a pattern such as "any 11 or 18 digits" also matches now and then
    a run of digits in one of Folium's random element ids (32 hex characters)."""
    return [value for value in planted if value in html]


def log_in(page, username: str, password: str = PASSWORD, path: str | None = "/login"):
    """Fill in and send the login form as a user would (at ``path``, or on the page shown);
    returns the response of the page it leads to."""
    if path is not None:
        page.goto(path)
    page.get_by_label("用户名").fill(username)
    page.get_by_label("密码").fill(password)
    with page.expect_navigation() as navigation:
        page.get_by_role("button", name="登录").click()
    return navigation.value


def figures(page) -> dict[str, str]:
    """The home page's figures as {label: value}."""
    labels = page.locator("dl.figures dt").all_inner_texts()
    values = page.locator("dl.figures dd").all_inner_texts()
    return dict(zip((t.strip() for t in labels), (v.strip() for v in values)))


def map_position(page, map_name: str, lon: float, lat: float) -> tuple[float, float]:
    """Where (lon, lat) lies on the page, in CSS pixels, on the Folium map ``map_name`` (its
    Leaflet map is ``window[map_name]``, its container the element with that id): for
    ``page.mouse`` to click or drag there as a person would."""
    x, y = page.evaluate(
        "([name, lat, lon]) => {"
        " const p = window[name].latLngToContainerPoint([lat, lon]); return [p.x, p.y]; }",
        [map_name, lat, lon],
    )
    frame = page.locator(f"#{map_name}").bounding_box()
    return frame["x"] + x, frame["y"] + y


def screenshot_path(name: str) -> Path:
    OUTPUT.mkdir(parents=True, exist_ok=True)
    return OUTPUT / re.sub(r"[^\w.-]", "_", name)
