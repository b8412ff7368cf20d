"""The migrations build the whole schema, tear it down and build it again."""

from __future__ import annotations

from flask_migrate import downgrade, upgrade
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from app import create_app
from app.models import Base

SCHEMA = "migration_cycle"


def tables_in(engine) -> set[str]:
    with engine.connect() as conn:
        return set(
            conn.scalars(
                text("SELECT tablename FROM pg_tables WHERE schemaname = :s"), {"s": SCHEMA}
            )
        )


def test_upgrade_downgrade_upgrade(database_url):
    """Run in a schema of its own so the rest of the suite keeps its database."""
    admin = create_engine(database_url)
    with admin.begin() as conn:
        conn.execute(text(f"DROP SCHEMA IF EXISTS {SCHEMA} CASCADE"))
        conn.execute(text(f"CREATE SCHEMA {SCHEMA}"))
    url = make_url(database_url).update_query_dict({"options": f"-csearch_path={SCHEMA},public"})
    app = create_app(
        {"SQLALCHEMY_DATABASE_URI": url.render_as_string(hide_password=False), "SECRET_KEY": "x"}
    )
    expected = set(Base.metadata.tables) | {"alembic_version"}
    # Alembic would otherwise find the suite's own version table in public.
    app.extensions["migrate"].configure_args["version_table_schema"] = SCHEMA
    try:
        with app.app_context():
            engine = app.extensions["sqlalchemy"].engine
            upgrade()
            assert tables_in(engine) == expected
            downgrade(revision="base")
            assert tables_in(engine) == {"alembic_version"}
            upgrade()
            assert tables_in(engine) == expected
            with engine.connect() as conn:
                checks = set(
                    conn.scalars(
                        text(
                            "SELECT conname FROM pg_constraint c JOIN pg_namespace n "
                            "ON n.oid = c.connamespace WHERE n.nspname = :s AND contype = 'c'"
                        ),
                        {"s": SCHEMA},
                    )
                )
                gist = set(
                    conn.scalars(
                        text(
                            "SELECT indexname FROM pg_indexes WHERE schemaname = :s "
                            "AND indexdef LIKE '%USING gist%'"
                        ),
                        {"s": SCHEMA},
                    )
                )
            assert {
                "ck_areas_geom_valid",
                "ck_households_geom_valid",
                "ck_hazards_geom_valid",
                "ck_sites_geom_valid",
            } <= checks
            assert {
                "ix_areas_geom",
                "ix_households_geom",
                "ix_incidents_geom",
                "ix_hazards_geom",
                "ix_sites_geom",
                "ix_area_versions_geom",
            } <= gist
            app.extensions["sqlalchemy"].engine.dispose()
    finally:
        with admin.begin() as conn:
            conn.execute(text(f"DROP SCHEMA IF EXISTS {SCHEMA} CASCADE"))
        admin.dispose()


def test_the_schema_enforces_srid_and_validity(session):
    """PostGIS refuses a wrong SRID and an invalid polygon at the database level."""
    import pytest
    from sqlalchemy.exc import DBAPIError

    bowtie = "MULTIPOLYGON(((0 0, 1 1, 1 0, 0 1, 0 0)))"
    for wkt, srid in ((bowtie, 4326), ("MULTIPOLYGON(((0 0, 1 0, 1 1, 0 0)))", 3857)):
        nested = session.begin_nested()
        with pytest.raises(DBAPIError) as caught:
            session.execute(
                text(
                    "INSERT INTO areas (code, name, level, geom) "
                    "VALUES ('999999', 'x', 'district', ST_GeomFromText(:w, :s))"
                ),
                {"w": wkt, "s": srid},
            )
        nested.rollback()
        assert ("ck_areas_geom_valid" in str(caught.value)) or ("SRID" in str(caught.value))
