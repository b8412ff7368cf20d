"""Logging in and out: failed logins are limited per account and per client (counted in the
real Redis), a wrong login takes as long for an unknown user as for a known one, sessions
live on the server (a copied cookie dies with logout, a password change, a deactivation) and
are bounded in time, and cookies carry Secure/HttpOnly/SameSite as configured."""

from __future__ import annotations

import statistics
import time
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime

import pytest
from sqlalchemy import select, update
from werkzeug.security import generate_password_hash

from app import create_app
from app.models import User, UserSession
from tests.conftest import FreshRequestClient, csrf_token, login
from tests.factories import add_user, build_world


@pytest.fixture
def users(session):
    build_world(session)
    add_user(session, "wang", "worker")
    add_user(session, "leader", "leader")
    session.commit()


def post_login(client, username, password, address="127.0.0.1"):
    return client.post(
        "/login",
        data={"username": username, "password": password, "csrf_token": csrf_token(client)},
        environ_base={"REMOTE_ADDR": address},
    )


def logged_in_as(client) -> str | None:
    """The user the API sees behind this client's cookie, or None for a 401."""
    response = client.get("/api/v1/areas", query_string={"level": "district"})
    if response.status_code == 401:
        return None
    assert response.status_code == 200, response.get_data(as_text=True)[:200]
    return "yes"


def new_client(app, cookie: str):
    other = FreshRequestClient(app, app.response_class, use_cookies=True)
    other.set_cookie("session", cookie)
    return other


# --- rate limits ----------------------------------------------------------------------------


def test_failed_logins_for_one_account_are_limited_across_client_addresses(
    app, client, users, monkeypatch
):
    monkeypatch.setitem(app.config, "WANGGE_LOGIN_LIMIT_ACCOUNT", "3 per 15 minutes")
    for n in range(3):
        assert post_login(client, "wang", "wrong-password", f"10.0.0.{n}").status_code == 401
    # The right password from a fourth address: the account is locked for the window.
    refused = post_login(client, "wang", "password-123", "10.0.0.9")
    assert refused.status_code == 429
    assert 800 <= int(refused.headers["Retry-After"]) <= 900
    assert "尝试次数过多" in refused.get_data(as_text=True)
    assert logged_in_as(client) is None
    # Another account is not affected.
    assert post_login(client, "leader", "password-123", "10.0.0.9").status_code == 302


def test_failed_logins_from_one_client_are_limited_across_accounts(app, client, users, monkeypatch):
    monkeypatch.setitem(app.config, "WANGGE_LOGIN_LIMIT_CLIENT", "4 per 15 minutes")
    for name in ("a", "b", "c", "wang"):
        assert post_login(client, name, "wrong-password", "10.1.1.1").status_code == 401
    assert post_login(client, "leader", "password-123", "10.1.1.1").status_code == 429
    # Another client address still logs in.
    assert post_login(client, "leader", "password-123", "10.1.1.2").status_code == 302


def test_successful_logins_are_not_counted(app, client, users, monkeypatch):
    monkeypatch.setitem(app.config, "WANGGE_LOGIN_LIMIT_ACCOUNT", "2 per 15 minutes")
    for _ in range(4):
        assert post_login(client, "wang", "password-123").status_code == 302


def test_the_limit_is_counted_in_redis_shared_by_every_app(app, client, users, monkeypatch):
    """Two app instances (two workers or servers) count the same failures."""
    monkeypatch.setitem(app.config, "WANGGE_LOGIN_LIMIT_ACCOUNT", "2 per 15 minutes")
    other_app = create_app(
        {
            "TESTING": True,
            "SQLALCHEMY_DATABASE_URI": app.config["SQLALCHEMY_DATABASE_URI"],
            "SECRET_KEY": app.config["SECRET_KEY"],
            "WANGGE_TILES": "none",
            "WANGGE_RATELIMIT_PREFIX": app.config["WANGGE_RATELIMIT_PREFIX"],
            "WANGGE_LOGIN_LIMIT_ACCOUNT": "2 per 15 minutes",
        }
    )
    other = FreshRequestClient(other_app, other_app.response_class, use_cookies=True)
    assert post_login(client, "wang", "wrong-password").status_code == 401
    assert post_login(other, "wang", "wrong-password").status_code == 401
    assert post_login(client, "wang", "password-123").status_code == 429


# --- constant time --------------------------------------------------------------------------


def test_a_wrong_login_takes_as_long_for_an_unknown_user_as_for_a_known_one(client, session):
    build_world(session)
    # A real password hash, made the way create_user makes them outside the tests.
    session.add(
        User(
            username="known",
            display_name="known",
            password_hash=generate_password_hash("right-password-1"),
            role="leader",
        )
    )
    session.add(
        User(
            username="retired",
            display_name="retired",
            password_hash=generate_password_hash("right-password-1"),
            role="leader",
            active=False,
        )
    )
    session.commit()

    def median_time(username: str, tries: int = 5) -> float:
        times = []
        for _ in range(tries):
            token = csrf_token(client)
            started = time.perf_counter()
            response = client.post(
                "/login",
                data={"username": username, "password": "wrong-password", "csrf_token": token},
            )
            times.append(time.perf_counter() - started)
            assert response.status_code == 401
        return statistics.median(times)

    median_time("nobody", tries=1)  # warm-up: the unknown user's stand-in hash is made once
    known, unknown, inactive = median_time("known"), median_time("nobody"), median_time("retired")
    assert known > 0.005, "the password hash should cost real work"
    assert 0.5 < unknown / known < 2, (unknown, known)
    assert 0.5 < inactive / known < 2, (inactive, known)


def test_an_inactive_user_cannot_log_in_even_with_the_right_password(client, session, users):
    session.execute(update(User).where(User.username == "wang").values(active=False))
    session.commit()
    assert post_login(client, "wang", "password-123").status_code == 401


# --- server-side sessions -------------------------------------------------------------------


def test_a_cookie_captured_before_logout_no_longer_works_after_it(app, client, users, session):
    login(client, "wang")
    captured = client.get_cookie("session").value
    assert logged_in_as(new_client(app, captured)) == "yes"
    client.post("/logout", data={"csrf_token": csrf_token(client, "/")})
    assert logged_in_as(client) is None
    replay = new_client(app, captured)
    assert logged_in_as(replay) is None
    page = replay.get("/")
    assert page.status_code == 302 and "/login" in page.headers["Location"]
    revoked = session.scalars(select(UserSession.revoked_at)).all()
    assert len(revoked) == 1 and revoked[0] is not None


def test_logging_out_ends_only_that_session(app, client, users):
    login(client, "wang")
    phone = FreshRequestClient(app, app.response_class, use_cookies=True)
    login(phone, "wang")
    client.post("/logout", data={"csrf_token": csrf_token(client, "/")})
    assert logged_in_as(client) is None
    assert logged_in_as(phone) == "yes"


@pytest.mark.parametrize("command", ["set-password", "deactivate-user"])
def test_a_password_change_or_deactivation_ends_every_session_of_the_user(
    app, client, runner, users, command
):
    login(client, "wang")
    phone = FreshRequestClient(app, app.response_class, use_cookies=True)
    login(phone, "wang")
    other = FreshRequestClient(app, app.response_class, use_cookies=True)
    login(other, "leader")
    args = ["wangge", command, "wang"]
    if command == "set-password":
        args += ["--password", "a-new-password"]
    result = runner.invoke(args=args)
    assert result.exit_code == 0, result.output
    assert "2 login session(s) ended" in result.output
    assert logged_in_as(client) is None and logged_in_as(phone) is None
    assert logged_in_as(other) == "yes"
    if command == "set-password":
        assert post_login(client, "wang", "password-123").status_code == 401
        assert post_login(client, "wang", "a-new-password").status_code == 302
    else:
        assert post_login(client, "wang", "password-123").status_code == 401


def test_a_session_ends_after_the_idle_time_and_after_the_maximum_age(
    client, users, session, monkeypatch
):
    login(client, "wang")
    assert logged_in_as(client) == "yes"
    session.execute(update(UserSession).values(last_seen_at=UserSession.last_seen_at - _hours(13)))
    session.commit()
    assert logged_in_as(client) is None

    login(client, "wang")
    assert logged_in_as(client) == "yes"
    # Used a minute ago but opened four days ago: past the 3-day maximum.
    session.execute(
        update(UserSession)
        .where(UserSession.revoked_at.is_(None))
        .values(created_at=UserSession.created_at - _hours(96))
    )
    session.commit()
    assert logged_in_as(client) is None


def _hours(n: int):
    from datetime import timedelta

    return timedelta(hours=n)


def test_using_a_session_keeps_it_alive(client, users, session):
    login(client, "wang")
    session.execute(update(UserSession).values(last_seen_at=UserSession.last_seen_at - _hours(11)))
    session.commit()
    assert logged_in_as(client) == "yes"  # 11 h idle: still alive, and now touched
    session.expire_all()
    age = session.scalar(select(UserSession.last_seen_at))
    session.execute(update(UserSession).values(last_seen_at=age - _hours(11)))
    session.commit()
    assert logged_in_as(client) == "yes"


# --- cookies ---------------------------------------------------------------------------------


def set_cookie_headers(response) -> dict[str, str]:
    return {h.split("=", 1)[0]: h for h in response.headers.getlist("Set-Cookie")}


def test_cookies_are_httponly_and_samesite_and_expire_with_the_session_maximum(client, users):
    response = post_login(client, "wang", "password-123")
    cookie = set_cookie_headers(response)["session"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie
    assert "Secure" not in cookie  # plain HTTP in development
    expires = parsedate_to_datetime(cookie.split("Expires=")[1].split(";")[0])
    assert abs((expires - datetime.now(UTC)).total_seconds() - 3 * 86400) < 60  # 3 days
    assert "remember_token" not in set_cookie_headers(response)


def test_with_secure_cookies_every_cookie_is_secure_behind_a_tls_proxy(app, session, users):
    secure_app = create_app(
        {
            "TESTING": True,
            "SQLALCHEMY_DATABASE_URI": app.config["SQLALCHEMY_DATABASE_URI"],
            "SECRET_KEY": "test-secret",
            "WANGGE_TILES": "none",
            "WANGGE_RATELIMIT_PREFIX": app.config["WANGGE_RATELIMIT_PREFIX"],
            "WANGGE_SECURE_COOKIES": True,
            "SESSION_COOKIE_SECURE": True,
            "REMEMBER_COOKIE_SECURE": True,
            "WANGGE_PROXY_HOPS": 1,
        }
    )
    browser = FreshRequestClient(secure_app, secure_app.response_class, use_cookies=True)
    # The proxy terminated TLS: the app sees plain HTTP with X-Forwarded-Proto.
    proxy = {"X-Forwarded-Proto": "https", "X-Forwarded-For": "203.0.113.7"}
    page = browser.get("/login", headers=proxy)
    assert "Secure" in set_cookie_headers(page)["session"]
    # A browser sends Secure cookies back only over https.
    https = {
        "base_url": "https://localhost",
        "headers": proxy | {"Referer": "https://localhost/login"},
    }
    token = csrf_token_of(browser.get("/login", **https))
    response = browser.post(
        "/login",
        data={"username": "wang", "password": "password-123", "csrf_token": token},
        **https,
    )
    assert response.status_code == 302, response.get_data(as_text=True)[:300]
    cookie = set_cookie_headers(response)["session"]
    assert "Secure" in cookie and "HttpOnly" in cookie and "SameSite=Lax" in cookie
    language = set_cookie_headers(browser.get("/lang/en", **https))["wangge_lang"]
    assert "Secure" in language and "HttpOnly" in language


def csrf_token_of(page) -> str:
    return page.get_data(as_text=True).split('name="csrf_token" value="')[1].split('"')[0]


def test_the_client_address_behind_a_proxy_is_the_one_it_forwards(app, session, users):
    proxied_app = create_app(
        {
            "TESTING": True,
            "SQLALCHEMY_DATABASE_URI": app.config["SQLALCHEMY_DATABASE_URI"],
            "SECRET_KEY": "test-secret",
            "WANGGE_TILES": "none",
            "WANGGE_RATELIMIT_PREFIX": app.config["WANGGE_RATELIMIT_PREFIX"],
            "WANGGE_PROXY_HOPS": 1,
            "WANGGE_LOGIN_LIMIT_CLIENT": "2 per 15 minutes",
        }
    )
    browser = FreshRequestClient(proxied_app, proxied_app.response_class, use_cookies=True)

    def attempt(forwarded_for: str, password: str = "wrong-password"):
        token = csrf_token(browser)
        return browser.post(
            "/login",
            data={"username": "wang", "password": password, "csrf_token": token},
            headers={"X-Forwarded-For": forwarded_for},
        )

    assert attempt("198.51.100.1").status_code == 401
    assert attempt("198.51.100.1").status_code == 401
    assert attempt("198.51.100.1", "password-123").status_code == 429
    assert attempt("198.51.100.2", "password-123").status_code == 302
