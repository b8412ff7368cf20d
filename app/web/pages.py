"""Login, logout and the home page."""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import current_app, redirect, render_template, request, url_for
from flask_babel import gettext as _

from app import ratelimit
from app.auth import end_session, start_session
from app.errors import TooManyRequests
from app.extensions import db
from app.i18n import COOKIE, LANGUAGES
from app.services import auth as auth_service
from app.services.summary import district_summary
from app.web import bp


@bp.route("/login", methods=["GET", "POST"])
def login():
    error = None
    if request.method == "POST":
        username = request.form.get("username", "")
        try:
            ratelimit.check_login(username)
        except TooManyRequests as exc:
            return render_template("login.html", error=exc.page_message), 429, exc.headers
        user = auth_service.authenticate(db.session, username, request.form.get("password", ""))
        if user is not None:
            start_session(user)
            return redirect(local_path(request.args.get("next", "")))
        ratelimit.count_failed_login(username)
        error = _("Wrong user name or password.")
    return render_template("login.html", error=error), (401 if error else 200)


def local_path(target: str) -> str:
    """``target`` if it is a path on this site, else the home page: never redirect away."""
    if not target.startswith("/") or target.startswith("//") or urlsplit(target).netloc:
        return url_for("web.index")
    return target


@bp.get("/lang/<code>")
def set_language(code: str):
    """Switch the interface language (kept for a year in a cookie) and go back."""
    if code not in LANGUAGES:
        return render_template("error.html", status=404, message=_("No such language.")), 404
    response = redirect(local_path(request.args.get("next", "")))
    response.set_cookie(
        COOKIE,
        code,
        max_age=365 * 86400,
        samesite="Lax",
        httponly=True,
        secure=current_app.config["WANGGE_SECURE_COOKIES"],
    )
    return response


@bp.post("/logout")
def logout():
    end_session()
    return redirect(url_for("web.login"))


@bp.get("/")
def index():
    from app.auth import current_scope

    return render_template("index.html", summary=district_summary(db.session, current_scope()))


@bp.get("/api/v1/docs")
def api_docs():
    return render_template("api_docs.html")
