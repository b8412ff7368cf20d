"""Chinese by default, English on request, and a Chinese catalogue that covers every message."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from tests.conftest import csrf_token, login
from tests.factories import add_user

ROOT = Path(__file__).resolve().parents[2]


def test_pages_are_in_chinese_by_default(client):
    html = client.get("/login").get_data(as_text=True)
    assert '<html lang="zh-CN">' in html
    assert "<h1>登录</h1>" in html and "用户名" in html
    assert 'hreflang="en">English</a>' in html


def test_english_is_kept_in_a_cookie(client):
    response = client.get("/lang/en?next=/login")
    assert response.status_code == 302 and response.headers["Location"] == "/login"
    assert "wangge_lang=en" in response.headers["Set-Cookie"]
    html = client.get("/login").get_data(as_text=True)
    assert '<html lang="en">' in html
    assert "<h1>Log in</h1>" in html and "User name" in html
    assert 'hreflang="zh-CN">中文</a>' in html
    client.get("/lang/zh_Hans_CN")
    assert "<h1>登录</h1>" in client.get("/login").get_data(as_text=True)


def test_a_wrong_password_is_told_in_the_chosen_language(client, session):
    add_user(session, "wang", "worker")

    def refused() -> str:
        bad = {"username": "wang", "password": "nope", "csrf_token": csrf_token(client)}
        response = client.post("/login", data=bad)
        assert response.status_code == 401
        return response.get_data(as_text=True)

    assert "用户名或密码错误。" in refused()
    client.get("/lang/en")
    assert "Wrong user name or password." in refused()


def test_role_names_follow_the_language(client, session):
    add_user(session, "boss", "leader")
    login(client, "boss")
    assert "boss（领导）" in client.get("/").get_data(as_text=True)
    client.get("/lang/en")
    assert "boss（leader）" in client.get("/").get_data(as_text=True)


def test_the_switch_never_redirects_to_another_site(client):
    for target in ("https://evil.example/", "//evil.example/x", "login"):
        response = client.get("/lang/en", query_string={"next": target})
        assert response.headers["Location"] == "/"
    assert client.get("/lang/fr").status_code == 404


def test_every_message_has_a_chinese_translation():
    result = subprocess.run(
        [sys.executable, "scripts/translations.py", "--check"],
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stdout + result.stderr
