"""Pooled connections the database kills: the next request still succeeds, and a request
whose connection is killed under it is the only one that fails.

These run against a real pool (not the rolled-back test session), in a database of their
own with a small demo city, dropped afterwards.
"""

from __future__ import annotations

import threading
import time

import pytest
from flask import jsonify
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from app.extensions import db
from tests.scratch import app_for, create_database, drop_database, invoke, scratch_url

APP_NAME = "wangge-pool-test"


@pytest.fixture(scope="module")
def city(database_url, tmp_path_factory):
    url = scratch_url(database_url, "pool")
    create_database(url)
    try:
        app = app_for(
            url,
            tmp_path_factory.mktemp("pool"),
            PROPAGATE_EXCEPTIONS=False,  # a failed request answers 500, as in production
            SQLALCHEMY_ENGINE_OPTIONS={
                "pool_pre_ping": False,  # the default: the checkout check alone
                "pool_recycle": 1800,
                "connect_args": {"application_name": APP_NAME},
            },
        )

        @app.get("/api/v1/slow-for-test")
        def slow_for_test():
            db.session.execute(text("SELECT pg_sleep(10)"))
            return jsonify({"slept": True})

        with app.app_context():
            from flask_migrate import upgrade

            upgrade()
            db.engine.dispose()
        built = invoke(app, "demo", "--households", "300", "--seed", "7")
        assert built.exit_code == 0, built.output
        token = invoke(app, "issue-token", "admin").stdout.strip().splitlines()[-1]
        admin = create_engine(url)
        with admin.connect() as conn:
            lon, lat, grid = conn.execute(
                text(
                    "SELECT ST_X(h.geom), ST_Y(h.geom), a.code FROM households h "
                    "JOIN household_grid hg ON hg.household_id = h.id "
                    "JOIN areas a ON a.id = hg.grid_id ORDER BY h.id LIMIT 1"
                )
            ).one()
        yield {
            "app": app,
            "url": url,
            "admin": admin,
            "token": token,
            "point": (lon, lat),
            "grid": grid,
        }
        admin.dispose()
        with app.app_context():
            db.engine.dispose()
    finally:
        drop_database(url)


def pool_pids(city) -> list[int]:
    with city["admin"].connect() as conn:
        return conn.scalars(
            text(
                "SELECT pid FROM pg_stat_activity WHERE datname = :db AND application_name = :app"
            ),
            {"db": make_url(city["url"]).database, "app": APP_NAME},
        ).all()


def kill(city, pids: list[int]) -> None:
    with city["admin"].connect() as conn:
        killed = conn.scalars(
            text("SELECT pg_terminate_backend(pid) FROM unnest(CAST(:pids AS int[])) pid"),
            {"pids": pids},
        ).all()
    assert killed and all(killed)
    deadline = time.monotonic() + 5
    while set(pids) & set(pool_pids(city)) and time.monotonic() < deadline:
        time.sleep(0.02)


def fill_pool(city, n: int = 3) -> list[int]:
    """Check out n connections at once and return them to the pool, idle."""
    with city["app"].app_context():
        connections = [db.engine.connect() for _ in range(n)]
        for connection in connections:
            connection.exec_driver_sql("SELECT 1")
        for connection in connections:
            connection.close()
    pids = pool_pids(city)
    assert len(pids) >= n
    return pids


def located_grid(client, city):
    lon, lat = city["point"]
    response = client.get(
        "/api/v1/locate",
        query_string={"lon": lon, "lat": lat},
        headers={"Authorization": f"Bearer {city['token']}"},
    )
    return response.status_code, (response.get_json() or {})


def household_count(city) -> int:
    with city["admin"].connect() as conn:
        return conn.scalar(text("SELECT count(*) FROM households"))


def add_household(client, city, name: str):
    lon, lat = city["point"]
    return client.post(
        "/api/v1/households",
        json={"lon": lon, "lat": lat, "head_name": name, "address": "1 Test Lane"},
        headers={"Authorization": f"Bearer {city['token']}"},
    )


def test_idle_connections_killed_by_the_database_do_not_fail_the_next_read(city):
    client = city["app"].test_client()
    assert located_grid(client, city)[1]["grid"]["code"] == city["grid"]
    kill(city, fill_pool(city))

    status, body = located_grid(client, city)

    assert status == 200, body
    assert body["grid"]["code"] == city["grid"]


def test_idle_connections_killed_by_the_database_do_not_fail_the_next_write(city):
    client = city["app"].test_client()
    before = household_count(city)
    kill(city, fill_pool(city))

    response = add_household(client, city, "池连接")

    assert response.status_code == 201, response.get_json()
    assert household_count(city) == before + 1


def test_a_connection_killed_in_flight_fails_that_request_only(city):
    app = city["app"]
    fill_pool(city)
    outcome = {}

    def slow_request():
        outcome["response"] = app.test_client().get("/api/v1/slow-for-test")

    thread = threading.Thread(target=slow_request)
    thread.start()
    sleeping = []
    deadline = time.monotonic() + 10
    while not sleeping and time.monotonic() < deadline:
        with city["admin"].connect() as conn:
            sleeping = conn.scalars(
                text(
                    "SELECT pid FROM pg_stat_activity WHERE application_name = :app "
                    "AND query LIKE 'SELECT pg_sleep%'"
                ),
                {"app": APP_NAME},
            ).all()
        time.sleep(0.02)
    assert len(sleeping) == 1
    # every connection of the pool dies: the one in use and the idle ones
    kill(city, pool_pids(city))
    thread.join(15)

    failed = outcome["response"]
    assert failed.status_code == 500
    assert failed.get_json()["error"]["code"] == "internal_error"
    assert "terminat" not in failed.get_data(as_text=True)  # no internals echoed
    client = app.test_client()
    status, body = located_grid(client, city)
    assert status == 200 and body["grid"]["code"] == city["grid"]
    before = household_count(city)
    assert add_household(client, city, "事后").status_code == 201
    assert household_count(city) == before + 1
