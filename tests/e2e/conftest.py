"""Browser tests: the app served to a real headless Chromium, one rolled-back transaction per test.

The live server runs in background threads of this process and hands the app one request at a
time (:class:`OneRequestAtATime`). The test and the server share the test's database
connection, so the server sees what the test wrote and everything is rolled back afterwards,
but each has its own session: a request ends by removing its session, which never touches the
test's. The test and the server take turns at the connection (:class:`Turns`): the test's turn
begins when its session begins a transaction (waiting for a request in flight to finish, and
holding off the next) and ends when that transaction ends or the test hands control to the
browser, which commits what the test wrote. So a test may use ``session`` whenever it likes,
and the browser's background requests (the bell's polling, a map's tiles) never run at the
same time as the test's own queries. One rule remains: before calling the server with anything
but Playwright (``requests``, GDAL in a subprocess), commit, or the server waits for the turn.
Between tests the server answers 503: a request that comes late (a beacon of a closed page)
cannot reach the database outside a test's rolled-back transaction.

Chromium is Debian's (``/usr/bin/chromium``, or ``$WANGGE_CHROMIUM``); no browser is
downloaded. No request may leave the live server: requests to any other host are aborted
and recorded, and :class:`PageWatch` reports them with console errors and failed requests.
"""

from __future__ import annotations

import os
import shutil
import threading

import pytest
from playwright._impl._sync_base import SyncBase
from sqlalchemy import event
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


class Turns:
    """The test thread's turns at the database connection it shares with the live server.

    A turn is the life of one transaction of the test's session: it begins (taking the
    server's lock, so after the request in flight) when the session begins a transaction and
    ends when the transaction does. Before the test thread calls Playwright (any page action,
    ``expect``, a route's ``continue_``) its open transaction is committed, as the browser's
    requests cannot be served until the turn ends.
    """

    def __init__(self, lock, session):
        self.lock = lock
        self.session = session  # the scoped session: on the test's thread, the test's session
        self.thread = threading.get_ident()
        self.held = False

    def on_test_thread(self) -> bool:
        return threading.get_ident() == self.thread

    def _is_the_tests(self, session, transaction) -> bool:
        return (
            transaction.parent is None
            and self.on_test_thread()
            and session is self.session.registry.registry.get("test")
        )

    def begin(self, session, transaction) -> None:
        if self._is_the_tests(session, transaction) and not self.held:
            self.lock.acquire()
            self.held = True

    def end(self, session, transaction) -> None:
        if self._is_the_tests(session, transaction) and self.held:
            self.held = False
            self.lock.release()

    def hand_over(self) -> None:
        """The test thread is about to wait for the browser: end its turn."""
        if self.held and self.on_test_thread():
            self.session.commit()


_TURNS: list[Turns] = []  # the running test's (at most one)
_sync = SyncBase._sync


def _sync_after_handing_over(self, awaitable):
    __tracebackhide__ = True
    for turns in _TURNS:
        turns.hand_over()
    return _sync(self, awaitable)


# Every call of Playwright's sync API goes through SyncBase._sync (playwright is pinned).
SyncBase._sync = _sync_after_handing_over


@pytest.fixture
def session(app, gate):
    """The test's session on the test's connection; the live server's requests get their own
    session on the same connection (see :class:`Turns`)."""
    test_thread = threading.get_ident()
    shared = rolled_back_session(
        app, scopefunc=lambda: "test" if threading.get_ident() == test_thread else "server"
    )
    scoped = next(shared)
    turns = Turns(gate.lock, scoped)
    event.listen(scoped.session_factory, "after_transaction_create", turns.begin)
    event.listen(scoped.session_factory, "after_transaction_end", turns.end)
    _TURNS.append(turns)
    gate.test_running = True
    try:
        yield scoped
    finally:
        _TURNS.remove(turns)
        # A request the browser sent just before its context closed (an image, a tile) may
        # still be running: roll back after it.
        with gate.lock:
            gate.test_running = False
            server_session = scoped.registry.registry.get("server")
            if server_session is not None:
                server_session.close()
            next(shared, None)
        event.remove(scoped.session_factory, "after_transaction_create", turns.begin)
        event.remove(scoped.session_factory, "after_transaction_end", turns.end)


class OneRequestAtATime:
    """Each connection gets a thread (an idle keep-alive or speculative connection, as curl
    and Chromium open, cannot block the others), but requests reach the app one at a time, as
    they all use the test's one database connection."""

    def __init__(self, app):
        self.app = app
        self.lock = threading.RLock()  # the test thread's turns take it too (Turns)
        self.test_running = False

    def __call__(self, environ, start_response):
        with self.lock:
            if not self.test_running:
                start_response("503 Service Unavailable", [("Content-Type", "text/plain")])
                return [b"no test is running"]
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
def open_page(browser, live_server, session):
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
