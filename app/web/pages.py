"""Login, logout and the home page."""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import redirect, render_template, request, url_for
from flask_login import login_user, logout_user

from app.extensions import db
from app.services import auth as auth_service
from app.services.summary import district_summary
from app.web import bp


@bp.route("/login", methods=["GET", "POST"])
def login():
    error = None
    if request.method == "POST":
        user = auth_service.authenticate(
            db.session, request.form.get("username", ""), request.form.get("password", "")
        )
        if user is not None:
            login_user(user)
            target = request.args.get("next", "")
            # Only local paths: never redirect to another site after login.
            if not target.startswith("/") or target.startswith("//") or urlsplit(target).netloc:
                target = url_for("web.index")
            return redirect(target)
        error = "用户名或密码错误。"
    return render_template("login.html", error=error), (401 if error else 200)


@bp.post("/logout")
def logout():
    logout_user()
    return redirect(url_for("web.login"))


@bp.get("/")
def index():
    from app.auth import current_scope

    return render_template("index.html", summary=district_summary(db.session, current_scope()))


@bp.get("/api/v1/docs")
def api_docs():
    return render_template("api_docs.html")
