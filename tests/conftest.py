"""Fixtures: a real PostGIS database built from the migrations, one rolled-back transaction
per test, the Flask app, its client and CLI runner, and logged-in users of every role."""

from __future__ import annotations

import functools
import os

import pytest
from flask import g
from flask.testing import FlaskClient
from flask_migrate import upgrade
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, scoped_session, sessionmaker
from werkzeug.security import generate_password_hash

from app import create_app
from app.extensions import db
from app.services import auth as auth_service


def test_database_url() -> str:
    if url := os.environ.get("TEST_DATABASE_URL"):
        return url
    base = make_url(
        os.environ.get("DATABASE_URL", "postgresql+psycopg://wangge:wangge@127.0.0.1:5432/wangge")
    )
    return base.set(database=f"{base.database}_test").render_as_string(hide_password=False)


def reset_schema(url: str) -> None:
    """Drop every table and function of ours so the migrations build the schema from
    nothing (the extensions' functions stay)."""
    engine = create_engine(url)
    with engine.begin() as conn:
        tables = conn.scalars(
            text(
                "SELECT tablename FROM pg_tables WHERE schemaname = 'public' "
                "AND tablename <> 'spatial_ref_sys'"
            )
        ).all()
        for table in tables:
            conn.execute(text(f'DROP TABLE IF EXISTS "{table}" CASCADE'))
        functions = conn.scalars(
            text(
                "SELECT p.oid::regprocedure::text FROM pg_proc p "
                "JOIN pg_namespace n ON n.oid = p.pronamespace WHERE n.nspname = 'public' "
                "AND NOT EXISTS (SELECT FROM pg_depend d WHERE d.objid = p.oid "
                "AND d.deptype = 'e')"
            )
        ).all()
        for function in functions:
            conn.execute(text(f"DROP FUNCTION IF EXISTS {function} CASCADE"))
    engine.dispose()


@pytest.fixture(scope="session")
def database_url() -> str:
    return test_database_url()


# Test runs sharing one database take turns: each resets the schema it runs on.
SUITE_LOCK = 7_400_511_381


@pytest.fixture(scope="session")
def suite_lock(database_url):
    engine = create_engine(database_url)
    with engine.connect() as conn:
        conn.execute(text("SELECT pg_advisory_lock(:key)"), {"key": SUITE_LOCK})
        try:
            yield
        finally:
            conn.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": SUITE_LOCK})
    engine.dispose()


@pytest.fixture(scope="session")
def app(database_url, tmp_path_factory, suite_lock):
    reset_schema(database_url)
    app = create_app(
        {
            "TESTING": True,
            "SQLALCHEMY_DATABASE_URI": database_url,
            "SECRET_KEY": "test-secret",
            "WANGGE_TILES": "none",
            "UPLOAD_FOLDER": str(tmp_path_factory.mktemp("uploads")),
            # Rate limits count in the real Redis, under keys of this test database only.
            "WANGGE_RATELIMIT_PREFIX": f"wangge-test-{make_url(database_url).database}",
        }
    )
    with app.app_context():
        upgrade()
    return app


def rolled_back_session(app, scopefunc=None):
    """Yield a session on one connection whose outer transaction is rolled back afterwards.

    A generator to drive by hand or to ``yield from``: service commits release savepoints
    inside the outer transaction, so nothing a test writes survives.
    """
    with app.app_context():
        connection = db.engine.connect()
        outer = connection.begin()
        factory = sessionmaker(
            bind=connection, class_=Session, join_transaction_mode="create_savepoint"
        )
        original = db.session
        db.session = scoped_session(factory, scopefunc=scopefunc)
        try:
            yield db.session
        finally:
            db.session.remove()
            db.session = original
            outer.rollback()
            connection.close()


@pytest.fixture(autouse=True)
def fresh_rate_limits(request):
    """Every test that has the app starts with no request counted against a rate limit."""
    if "app" not in request.fixturenames:
        yield
        return
    app = request.getfixturevalue("app")
    import redis

    store = redis.Redis.from_url(app.config["WANGGE_RATELIMIT_STORAGE_URL"])
    keys = list(store.scan_iter(match=app.config["WANGGE_RATELIMIT_PREFIX"] + ":*"))
    if keys:
        store.delete(*keys)
    store.close()
    yield


@pytest.fixture
def session(app):
    """The test's session; everything it writes is rolled back after the test."""
    yield from rolled_back_session(app)


class FreshRequestClient(FlaskClient):
    """A test client whose every request starts with an empty ``flask.g``, as in production.

    The ``session`` fixture keeps one app context pushed for the whole test, and a request
    reuses it: without this, Flask-Login's cached user and the cached scope of the first
    request would answer for every later request of the test.
    """

    def open(self, *args, **kwargs):
        vars(g._get_current_object()).clear()
        return super().open(*args, **kwargs)


@pytest.fixture
def client(app, session):
    return FreshRequestClient(app, app.response_class, use_cookies=True)


@pytest.fixture(autouse=True)
def quick_password_hashes(monkeypatch):
    """One PBKDF2 round instead of scrypt: test users are made in every test, not attacked."""
    monkeypatch.setattr(
        auth_service,
        "generate_password_hash",
        functools.partial(generate_password_hash, method="pbkdf2:sha256:1"),
    )


@pytest.fixture
def runner(app, session):
    return app.test_cli_runner()


def csrf_token(client, path: str = "/login") -> str:
    import re

    html = client.get(path).get_data(as_text=True)
    return re.search(r'name="csrf_token" value="([^"]+)"', html).group(1)


def login(client, username: str, password: str = "password-123"):
    """Log in through the form, CSRF token included, as a browser would."""
    response = client.post(
        "/login",
        data={"username": username, "password": password, "csrf_token": csrf_token(client)},
    )
    assert response.status_code == 302, response.get_data(as_text=True)[:500]
    return response
