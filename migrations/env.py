"""Alembic environment, run by Flask-Migrate (`flask --app app db upgrade`)."""

import logging
from logging.config import fileConfig

from alembic import context
from flask import current_app
from geoalchemy2 import alembic_helpers

config = context.config
if config.config_file_name and not config.attributes.get("skip_logging_config"):
    fileConfig(config.config_file_name, disable_existing_loggers=False)
logger = logging.getLogger("alembic.env")

target_db = current_app.extensions["migrate"].db


def configure_args() -> dict:
    def skip_empty_autogenerate(context, revision, directives):
        if getattr(config.cmd_opts, "autogenerate", False) and directives[0].upgrade_ops.is_empty():
            directives[:] = []
            logger.info("No changes in schema detected.")

    def process_revision_directives(context, revision, directives):
        skip_empty_autogenerate(context, revision, directives)
        if directives:
            alembic_helpers.writer(context, revision, directives)

    return {
        "target_metadata": target_db.metadata,
        # geoalchemy2's helpers render Geometry columns and skip PostGIS's own tables.
        "include_object": alembic_helpers.include_object,
        "render_item": alembic_helpers.render_item,
        "process_revision_directives": process_revision_directives,
        **current_app.extensions["migrate"].configure_args,
    }


def run_migrations_offline() -> None:
    url = target_db.engine.url.render_as_string(hide_password=False)
    context.configure(url=url, literal_binds=True, **configure_args())
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    with target_db.engine.connect() as connection:
        context.configure(connection=connection, **configure_args())
        with context.begin_transaction():
            context.run_migrations()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
