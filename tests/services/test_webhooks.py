"""Departments' webhooks: queued with the change, delivered afterwards, retried on failure."""

from __future__ import annotations

import json
import threading
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, HTTPServer

import pytest
from sqlalchemy import select

from app.errors import InvalidData
from app.models import WebhookDelivery
from app.services.notifications import deliver_webhooks, queue_webhook, set_department_webhook
from tests.factories import add_department


@pytest.fixture
def receiver():
    received: list[dict] = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):
            length = int(self.headers["Content-Length"])
            received.append(json.loads(self.rfile.read(length)))
            self.send_response(204)
            self.end_headers()

        def log_message(self, *args):
            pass

    server = HTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}/hook", received
    server.shutdown()
    server.server_close()


def test_a_queued_call_is_delivered_once(session, receiver):
    url, received = receiver
    department = add_department(session, webhook_url=url)
    assert queue_webhook(session, department.id, event="incident.created", payload={"x": 1})
    session.flush()
    assert deliver_webhooks(session) == {"sent": 1, "failed": 0}
    assert received == [{"event": "incident.created", "id": received[0]["id"], "x": 1}]
    assert deliver_webhooks(session) == {"sent": 0, "failed": 0}


def test_a_failed_call_is_retried_later_with_back_off(session):
    department = add_department(session, webhook_url="http://127.0.0.1:9/closed")
    queue_webhook(session, department.id, event="incident.status", payload={})
    session.flush()
    now = datetime.now(UTC)
    assert deliver_webhooks(session, now=now) == {"sent": 0, "failed": 1}
    delivery = session.scalars(select(WebhookDelivery)).one()
    assert delivery.attempts == 1 and delivery.last_error
    assert delivery.next_attempt_at == now + timedelta(minutes=2)
    assert deliver_webhooks(session, now=now + timedelta(minutes=1)) == {"sent": 0, "failed": 0}
    assert deliver_webhooks(session, now=now + timedelta(minutes=3)) == {"sent": 0, "failed": 1}


def test_no_webhook_no_queue(session):
    department = add_department(session)
    assert not queue_webhook(session, department.id, event="incident.created", payload={})
    assert not queue_webhook(session, None, event="incident.created", payload={})


@pytest.mark.parametrize("url", ["ftp://x/y", "javascript:alert(1)", "http://", "x" * 600])
def test_only_http_urls_are_accepted(session, url):
    add_department(session, code="gongan", name="公安")
    with pytest.raises(InvalidData):
        set_department_webhook(session, "gongan", url)


def test_the_cli_sets_and_clears_a_webhook(session, runner):
    department = add_department(session, code="xf", name="消防")
    result = runner.invoke(args=["wangge", "set-webhook", "xf", "https://example.org/in"])
    assert result.exit_code == 0, result.output
    assert department.webhook_url == "https://example.org/in"
    result = runner.invoke(args=["wangge", "set-webhook", "xf", "--clear"])
    assert result.exit_code == 0 and department.webhook_url is None
    bad = runner.invoke(args=["wangge", "set-webhook", "nobody", "https://example.org/in"])
    assert bad.exit_code != 0 and "No department 'nobody'" in bad.output
