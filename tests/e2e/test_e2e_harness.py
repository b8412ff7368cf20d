"""The browser tests' harness: the test and the live server take turns at the test's database
connection, so a request in flight (the bell's polling, a tile) never runs while the test
writes, and the test's open transaction never holds off the browser."""

from __future__ import annotations

import threading

import requests
from playwright.sync_api import expect
from sqlalchemy import event, select

from app.models import Department
from app.services.assignment import assign_all
from app.services.auth import issue_token
from tests.e2e.browser import log_in
from tests.factories import add_department, add_user, build_world

WAIT_S = 20


def test_a_write_waits_for_the_request_in_flight(session, live_server):
    add_user(session, "wang", "worker")
    token = issue_token(session, "wang")
    session.commit()
    test_thread = threading.get_ident()
    in_flight, resume = threading.Event(), threading.Event()

    def hold(_session, _transaction, _connection):
        """Keep the server's request inside its transaction until told to go on."""
        if threading.get_ident() != test_thread:
            in_flight.set()
            resume.wait(WAIT_S)

    answers = []
    request = threading.Thread(
        target=lambda: answers.append(
            requests.get(
                f"{live_server}/api/v1/notifications",
                headers={"Authorization": f"Bearer {token}"},
                timeout=WAIT_S,
            )
        )
    )
    event.listen(session.session_factory, "after_begin", hold)
    request.start()
    try:
        assert in_flight.wait(WAIT_S)
        threading.Timer(0.5, resume.set).start()
        # The request ends half a second from now. Until then the test's write waits, or
        # (sharing the request's transaction) is rolled back when the request ends.
        add_department(session, "cg", "城管执法局")
        request.join(WAIT_S)
        session.commit()
    finally:
        resume.set()
        request.join(WAIT_S)
        event.remove(session.session_factory, "after_begin", hold)

    assert answers[0].status_code == 200, answers[0].text
    assert answers[0].json()["unread"] == 0
    assert session.scalars(select(Department.name)).all() == ["城管执法局"]


def test_an_open_transaction_of_the_test_does_not_hold_off_the_browser(session, open_page):
    world = build_world(session)
    add_user(session, "wang", "worker", grids=[world.grids["NW"]])
    assign_all(session)  # commits
    page, watch = open_page()
    # A read leaves the test's transaction open: the browser's requests are still served, and
    # what the test added (not committed) is committed before the browser goes on, not lost.
    assert session.scalar(select(Department.code)) is None
    add_department(session, "cg", "城管执法局")
    log_in(page, "wang", path="/login?next=/worker")
    expect(page.locator("#worker[data-ready=true]")).to_have_count(1)
    assert session.scalars(select(Department.name)).all() == ["城管执法局"]
    assert watch.problems() == []
