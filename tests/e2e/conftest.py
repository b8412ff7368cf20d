"""Browser tests: the app served to a real headless Chromium, one rolled-back transaction per test.

The live server runs in background threads of this process and hands the app one request at a
time (:class:`OneRequestAtATime`). It uses the test's own database session: for these tests the
``session`` fixture is one SQLAlchemy session shared by every thread (its scope function
returns a constant) on the test's connection, so the server sees what the test wrote and
everything is rolled back afterwards. Two rules follow:

* commit (``session.commit()``) before the browser asks for a page: at the end of every
  request the app removes its session, which rolls back whatever was not committed;
* do not touch the database from the test while the browser is waiting for the server
  (read every value you need before, or after, the browser's part).

Chromium is Debian's (``/usr/bin/chromium``, or ``$WANGGE_CHROMIUM``); no browser is
downloaded. No request may leave the live server: requests to any other host are aborted
and recorded, and :class:`PageWatch` reports them with console errors and failed requests.
"""

from __future__ import annotations

import os
import shutil
import threading

import pytest
from werkzeug.serving import make_server

from tests.conftest import rolled_back_session
from tests.e2e.browser import PageWatch

CHROMIUM = os.environ.get("WANGGE_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
TIMEOUT_MS = 10_000
# Every page reports what its Content-Security-Policy blocked (securitypolicyviolation events).
REPORT_CSP_VIOLATIONS = """
document.addEventListener("securitypolicyviolation", (e) => {
  window.__wanggeCspViolation(`${e.effectiveDirective} blocked ${e.blockedURI || "inline"}`
    + ` at ${e.sourceFile}:${e.lineNumber} on ${document.location.pathname}: ${e.sample}`);
});
"""

_SHARED = object()


@pytest.fixture
def session(app, gate):
    """The test's session, shared with the live server's thread (same Session, same connection).

    It is rolled back only when the server is between requests: a request the browser sent
    just before its context closed (an image, a tile) may still be running when the test ends.
    """
    shared = rolled_back_session(app, scopefunc=lambda: _SHARED)
    yield next(shared)
    with gate.lock:
        next(shared, None)


class OneRequestAtATime:
    """Each connection gets a thread (an idle keep-alive or speculative connection, as curl
    and Chromium open, cannot block the others), but requests reach the app one at a time,
    since they all share the test's database session."""

    def __init__(self, app):
        self.app = app
        self.lock = threading.Lock()

    def __call__(self, environ, start_response):
        with self.lock:
            result = self.app(environ, start_response)
            try:
                return list(result)
            finally:
                if hasattr(result, "close"):
                    result.close()


@pytest.fixture(scope="session")
def gate(app):
    return OneRequestAtATime(app)


@pytest.fixture(scope="session")
def live_server(app, gate):
    """The app on 127.0.0.1 at a free port, served from a background thread; yields its base URL."""
    assert app.config["WANGGE_TILES"] == "none", "browser tests must not need the Internet"
    server = make_server("127.0.0.1", 0, gate, threaded=True)
    thread = threading.Thread(target=server.serve_forever, name="live-server", daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        thread.join(timeout=5)
        server.server_close()


@pytest.fixture(scope="session")
def browser():
    if not shutil.which(CHROMIUM):
        pytest.fail(
            f"no Chromium at {CHROMIUM}: `make test` installs Debian's chromium "
            "(or set WANGGE_CHROMIUM)"
        )
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            yield chromium
        finally:
            chromium.close()


@pytest.fixture
def open_page(browser, live_server):
    """``open_page(viewport=(w, h))`` -> (page, watch): a fresh browser context (no cookies)."""
    contexts = []

    def open_(viewport: tuple[int, int] = (1280, 800)):
        context = browser.new_context(
            base_url=live_server,
            viewport={"width": viewport[0], "height": viewport[1]},
            locale="zh-CN",
            timezone_id="Asia/Shanghai",
            service_workers="block",
        )
        contexts.append(context)
        context.set_default_timeout(TIMEOUT_MS)
        watch = PageWatch(live_server)
        context.route("**/*", watch.route)
        context.expose_function("__wanggeCspViolation", watch.on_csp_violation)
        context.add_init_script(REPORT_CSP_VIOLATIONS)
        page = context.new_page()
        page.on("console", watch.on_console)
        page.on("pageerror", lambda error: watch.page_errors.append(str(error)))
        page.on("request", watch.on_request)
        page.on("requestfailed", watch.on_request_failed)
        page.on("response", watch.on_response)
        return page, watch

    yield open_
    for context in contexts:
        context.close()
