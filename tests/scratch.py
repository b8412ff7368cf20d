"""Databases of their own for tests that must commit: created with PostGIS as
scripts/provision-db.sh makes any database, and dropped afterwards."""

from __future__ import annotations

import subprocess

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from app import ROOT, create_app
from app.extensions import db


def scratch_url(base_url: str, suffix: str) -> str:
    url = make_url(base_url)
    return url.set(database=f"{url.database}_{suffix}").render_as_string(hide_password=False)


def drop_database(url: str) -> None:
    """Drop a database this role owns (connected to another one)."""
    name = make_url(url).database
    admin = create_engine(make_url(url).set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


def create_database(url: str) -> None:
    drop_database(url)
    subprocess.run(
        [str(ROOT / "scripts" / "provision-db.sh"), url],
        check=True,
        capture_output=True,
        text=True,
    )


def app_for(url: str, tmp_path, **config):
    return create_app(
        {
            "TESTING": True,
            "SQLALCHEMY_DATABASE_URI": url,
            "SECRET_KEY": "test-secret",
            "WANGGE_TILES": "none",
            "WANGGE_UPLOAD_TMP": str(tmp_path / "uploads-tmp"),
            **config,
        }
    )


def invoke(app, *args, input=None):
    """Run a `wangge` command on the app, leaving no connection behind."""
    with app.app_context():
        result = app.test_cli_runner().invoke(args=["wangge", *args], input=input)
        db.session.remove()
        db.engine.dispose()
    return result
