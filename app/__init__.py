"""Wangge: grid-governance maps on PostGIS.

``create_app`` is the only entry point: configuration -> extensions -> blueprints -> CLI.
Nothing happens at import time.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from flask import Flask

ROOT = Path(__file__).resolve().parent.parent


def create_app(config: dict[str, Any] | None = None) -> Flask:
    app = Flask(
        __name__,
        static_folder=str(ROOT / "static"),
        instance_path=str(ROOT / "instance"),
    )
    from app.config import from_environment

    app.config.update(from_environment(app.instance_path))
    if config:
        app.config.update(config)

    from app import (  # noqa: F401  (models: tables)
        auth,
        cli,
        connections,
        extensions,
        headers,
        models,
        spool,
        transactions,
    )
    from app.api import bp as api_bp
    from app.api.errors import register_error_handlers
    from app.api.ogc import bp as ogc_bp
    from app.open311 import bp as open311_bp
    from app.public import bp as public_bp
    from app.tiles import bp as tiles_bp
    from app.web import bp as web_bp

    spool.init_app(app)
    extensions.db.init_app(app)
    transactions.init_app(app)  # after db.init_app: see app.transactions
    connections.init_app(app)
    extensions.migrate.init_app(app, extensions.db, directory=str(ROOT / "migrations"))
    extensions.csrf.init_app(app)
    from app.i18n import select_locale

    extensions.babel.init_app(app, locale_selector=select_locale)
    auth.init_app(app)
    from app import converters, input_guard, security_headers

    converters.init_app(app)  # before the blueprints: their rules compile with these
    input_guard.init_app(app)
    security_headers.init_app(app)

    app.register_blueprint(api_bp)
    app.register_blueprint(ogc_bp)
    app.register_blueprint(open311_bp)
    app.register_blueprint(public_bp)
    app.register_blueprint(tiles_bp)
    app.register_blueprint(web_bp)
    register_error_handlers(app)
    headers.init_app(app)
    app.cli.add_command(cli.wangge)
    return app
