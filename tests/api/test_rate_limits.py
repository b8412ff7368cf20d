"""Anonymous resident reports and Open311 posts are limited per client address and (Open311)
per api_key, in the shared Redis store; a limited request gets 429 with Retry-After, in the
JSON envelope, Open311's error format or a Chinese page. Open311 keys travel in the body
only."""

from __future__ import annotations

from xml.etree import ElementTree as ET

import pytest
from sqlalchemy import func, select

from app.models import Incident
from app.open311.clients import issue_key
from tests.conftest import csrf_token
from tests.factories import STEP, X0, Y0, add_category, build_world

NE = (X0 + 1.5 * STEP, Y0 + 1.5 * STEP)


@pytest.fixture
def world(session):
    world = build_world(session)
    add_category(session, "road", "道路破损", deadline_days=3)
    session.commit()
    world.keys = [issue_key(session, "12345热线"), issue_key(session, "市长信箱")]
    return world


def incidents(session) -> int:
    return session.scalar(select(func.count()).select_from(Incident))


def report(client, address="10.0.0.1", json_answer=True):
    data = {
        "category": "road",
        "description": "路灯不亮",
        "lon": str(NE[0]),
        "lat": str(NE[1]),
        "crs": "wgs84",
        "csrf_token": csrf_token(client, "/public/report"),
    }
    return client.post(
        "/public/report",
        data=data,
        headers={"Accept": "application/json"} if json_answer else {},
        environ_base={"REMOTE_ADDR": address},
    )


def post311(client, key, address="10.0.0.1", fmt="json", **extra):
    return client.post(
        f"/open311/v2/requests.{fmt}",
        data={"api_key": key, "service_code": "road", "lat": NE[1], "long": NE[0]}
        | {"description": "井盖缺失"}
        | extra,
        environ_base={"REMOTE_ADDR": address},
    )


def test_anonymous_reports_are_limited_per_client_address(app, client, session, world, monkeypatch):
    monkeypatch.setitem(app.config, "WANGGE_REPORT_LIMIT_CLIENT", "2 per hour")
    assert [report(client).status_code for _ in range(2)] == [201, 201]
    refused = report(client)
    assert refused.status_code == 429
    assert 3500 <= int(refused.headers["Retry-After"]) <= 3600
    error = refused.get_json()["error"]
    assert error["code"] == "too_many_requests"
    assert error["details"] == {"retry_after": int(refused.headers["Retry-After"])}
    assert incidents(session) == 2
    page = report(client, json_answer=False)
    assert page.status_code == 429 and "Retry-After" in page.headers
    assert "尝试次数过多，请在 60 分钟后再试。" in page.get_data(as_text=True)
    # Another resident (address) still reports.
    assert report(client, address="10.0.0.2").status_code == 201
    assert incidents(session) == 3


def test_open311_posts_are_limited_per_key_across_addresses(
    app, client, session, world, monkeypatch
):
    monkeypatch.setitem(app.config, "WANGGE_OPEN311_LIMIT_KEY", "2 per hour")
    key, other_key = world.keys
    assert [post311(client, key, f"10.0.1.{n}").status_code for n in range(2)] == [201, 201]
    refused = post311(client, key, "10.0.1.9")
    assert refused.status_code == 429
    assert int(refused.headers["Retry-After"]) > 0
    assert refused.get_json()[0]["code"] == 429
    assert "Too many requests" in refused.get_json()[0]["description"]
    xml = post311(client, key, "10.0.1.9", fmt="xml")
    assert xml.status_code == 429 and "Retry-After" in xml.headers
    assert ET.fromstring(xml.data).find("error/code").text == "429"
    assert post311(client, other_key, "10.0.1.9").status_code == 201
    assert incidents(session) == 3


def test_open311_posts_are_limited_per_client_address_whatever_the_key(
    app, client, session, world, monkeypatch
):
    monkeypatch.setitem(app.config, "WANGGE_OPEN311_LIMIT_CLIENT", "3 per hour")
    key, other_key = world.keys
    assert post311(client, "guessed-key", "10.0.2.1").status_code == 403
    assert post311(client, key, "10.0.2.1").status_code == 201
    assert post311(client, other_key, "10.0.2.1").status_code == 201
    assert post311(client, key, "10.0.2.1").status_code == 429
    assert post311(client, key, "10.0.2.2").status_code == 201


def test_reads_are_not_limited(app, client, world, monkeypatch):
    monkeypatch.setitem(app.config, "WANGGE_OPEN311_LIMIT_CLIENT", "1 per hour")
    monkeypatch.setitem(app.config, "WANGGE_REPORT_LIMIT_CLIENT", "1 per hour")
    for _ in range(3):
        assert client.get("/open311/v2/services.json").status_code == 200
        assert client.get("/public/report").status_code == 200


@pytest.mark.parametrize("fmt", ["json", "xml"])
def test_an_open311_key_in_the_query_string_is_refused(client, session, world, fmt):
    key = world.keys[0]
    response = client.post(
        f"/open311/v2/requests.{fmt}?api_key={key}",
        data={"service_code": "road", "lat": NE[1], "long": NE[0]},
    )
    assert response.status_code == 400
    description = "Send api_key in the request body, never in the query string."
    if fmt == "json":
        assert response.get_json() == [{"code": 400, "description": description}]
    else:
        assert ET.fromstring(response.data).find("error/description").text == description
    # Even with the same key in the body as well.
    both = client.post(
        f"/open311/v2/requests.{fmt}?api_key={key}",
        data={"api_key": key, "service_code": "road", "lat": NE[1], "long": NE[0]},
    )
    assert both.status_code == 400
    assert incidents(session) == 0


def test_an_unreachable_store_lets_requests_through_and_logs_it(app, session, world, caplog):
    from app import create_app
    from tests.conftest import FreshRequestClient

    cut_off = create_app(
        {
            "TESTING": True,
            "SQLALCHEMY_DATABASE_URI": app.config["SQLALCHEMY_DATABASE_URI"],
            "SECRET_KEY": "test-secret",
            "WANGGE_TILES": "none",
            "WANGGE_RATELIMIT_STORAGE_URL": "redis://127.0.0.1:1/0",  # nothing listens there
            "WANGGE_REPORT_LIMIT_CLIENT": "1 per hour",
        }
    )
    client = FreshRequestClient(cut_off, cut_off.response_class, use_cookies=True)
    assert [report(client).status_code for _ in range(2)] == [201, 201]
    assert incidents(session) == 2
    assert "rate-limit store unreachable; report_client not limited" in caplog.text
