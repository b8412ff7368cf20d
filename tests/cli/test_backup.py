"""Backup and restore, drilled for real: a small city is built in a database of its own,
backed up, restored into a new database, and compared table by table.

The two databases are created for this module (with PostGIS, as scripts/provision-db.sh
makes any database) and dropped afterwards; nothing is left in the test database.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import tarfile

import pytest
from flask_migrate import upgrade
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from app.extensions import db
from tests.factories import image_bytes
from tests.scratch import app_for, create_database, drop_database, invoke, scratch_url


def primary_key_order(conn, table: str) -> str:
    columns = conn.scalars(
        text(
            "SELECT a.attname FROM pg_index i JOIN pg_attribute a "
            "ON a.attrelid = i.indrelid AND a.attnum = ANY(i.indkey) "
            "WHERE i.indrelid = ('public.' || quote_ident(:t))::regclass AND i.indisprimary "
            "ORDER BY array_position(i.indkey, a.attnum)"
        ),
        {"t": table},
    ).all()
    return ", ".join(f'"{c}"' for c in columns) or "t::text"


def snapshot(url: str) -> dict:
    """Every table of ours: row count and md5 of its rows in primary-key order; every
    geometry column: how many geometries and how many invalid; every photo's bytes' hash."""
    engine = create_engine(url)
    with engine.connect() as conn:
        conn.execute(text("SET TimeZone = 'UTC'"))
        tables = conn.scalars(
            text(
                "SELECT c.relname FROM pg_class c WHERE c.relnamespace = 'public'::regnamespace "
                "AND c.relkind = 'r' AND NOT EXISTS (SELECT FROM pg_depend d "
                "WHERE d.objid = c.oid AND d.deptype = 'e') ORDER BY 1"
            )
        ).all()
        contents = {}
        for table in tables:
            order = primary_key_order(conn, table)
            contents[table] = tuple(
                conn.execute(
                    text(
                        f"SELECT count(*), md5(coalesce(string_agg(t::text, E'\\n' "
                        f"ORDER BY {order}), '')) FROM public.\"{table}\" t"
                    )
                ).one()
            )
        geometries = {}
        for table, column in conn.execute(
            text(
                "SELECT f_table_name, f_geometry_column FROM geometry_columns "
                "WHERE f_table_schema = 'public' ORDER BY 1, 2"
            )
        ):
            geometries[f"{table}.{column}"] = tuple(
                conn.execute(
                    text(
                        f'SELECT count("{column}"), count(*) FILTER (WHERE NOT '
                        f'ST_IsValid("{column}")) FROM public."{table}"'
                    )
                ).one()
            )
        photos = {
            table: conn.execute(
                text(f"SELECT id, encode(sha256(data), 'hex') FROM {table} ORDER BY id")
            ).all()
            for table in ("incident_photos", "site_photos")
        }
    engine.dispose()
    return {"tables": contents, "geometries": geometries, "photos": photos}


def add_photos(url: str) -> dict[str, list[str]]:
    """Photos on a few of the demo's incidents and progress reports; their sha256s."""
    engine = create_engine(url)
    digests: dict[str, list[str]] = {"incident_photos": [], "site_photos": []}
    with engine.begin() as conn:
        incidents = conn.scalars(text("SELECT id FROM incidents ORDER BY id LIMIT 3")).all()
        reports = conn.scalars(text("SELECT id FROM site_progress ORDER BY id LIMIT 2")).all()
        for table, column, owners in (
            ("incident_photos", "incident_id", incidents),
            ("site_photos", "progress_id", reports),
        ):
            for n, owner in enumerate(owners):
                data = image_bytes("PNG", (16 + n, 16)) + os.urandom(2048)
                digest = hashlib.sha256(data).hexdigest()
                conn.execute(
                    text(
                        f"INSERT INTO {table} ({column}, content_type, size, sha256, data) "
                        "VALUES (:owner, 'image/png', :size, :sha, :data)"
                    ),
                    {"owner": owner, "size": len(data), "sha": digest, "data": data},
                )
                digests[table].append(digest)
    engine.dispose()
    return digests


@pytest.fixture(scope="module")
def drill(database_url, tmp_path_factory):
    """A 300-household demo city with photos in a database of its own, its backup, and an
    empty database (PostGIS only) to restore into."""
    tmp = tmp_path_factory.mktemp("drill")
    source_url = scratch_url(database_url, "drill_source")
    target_url = scratch_url(database_url, "drill_target")
    create_database(source_url)
    create_database(target_url)
    try:
        source = app_for(source_url, tmp)
        with source.app_context():
            upgrade()
            db.engine.dispose()
        built = invoke(source, "demo", "--households", "300", "--seed", "7")
        assert built.exit_code == 0, built.output
        photos = add_photos(source_url)
        backup_file = tmp / "city.wangge-backup"
        backed_up = invoke(source, "backup", str(backup_file))
        assert backed_up.exit_code == 0, backed_up.output
        yield {
            "source_url": source_url,
            "target_url": target_url,
            "source": source,
            "target": app_for(target_url, tmp),
            "file": backup_file,
            "photos": photos,
            "backup_output": backed_up.output,
            "tmp": tmp,
        }
    finally:
        drop_database(source_url)
        drop_database(target_url)


def test_restore_drill_gives_back_every_table_geometry_and_photo(drill):
    assert "backed up" in drill["backup_output"]
    assert drill["file"].stat().st_mode & 0o077 == 0  # personal data: owner only
    before = snapshot(drill["source_url"])
    assert before["tables"]["households"][0] == 300
    assert sum(1 for rows, _ in before["tables"].values() if rows) >= 15
    assert [d for _, d in before["photos"]["incident_photos"]] == drill["photos"]["incident_photos"]
    assert len(drill["photos"]["site_photos"]) == 2

    result = invoke(drill["target"], "restore", "--yes", str(drill["file"]))

    assert result.exit_code == 0, result.output
    assert "restored and checked" in result.output
    after = snapshot(drill["target_url"])
    assert after["tables"] == before["tables"]
    assert after["geometries"] == before["geometries"]
    assert sum(count for count, _ in after["geometries"].values()) > 300
    assert all(invalid == 0 for _, invalid in after["geometries"].values())
    assert after["photos"] == before["photos"]


def test_manifest_describes_the_dump(drill):
    with tarfile.open(drill["file"]) as tar:
        assert tar.getnames() == ["manifest.json", "database.pgdump"]
        manifest = json.loads(tar.extractfile("manifest.json").read())
        dump = tar.extractfile("database.pgdump").read()
    assert manifest["format"] == "wangge-backup/1"
    assert manifest["revision"] == snapshot_revision(drill["source_url"])
    assert manifest["tables"]["households"]["rows"] == 300
    assert manifest["tables"]["incident_photos"]["rows"] == 3
    assert manifest["dump"]["sha256"] == hashlib.sha256(dump).hexdigest()
    assert dump.startswith(b"PGDMP")  # pg_dump's custom format


def snapshot_revision(url: str) -> str:
    engine = create_engine(url)
    with engine.connect() as conn:
        revision = conn.scalar(text("SELECT version_num FROM alembic_version"))
    engine.dispose()
    return revision


def rewrite(source, target, *, manifest_change=None, dump_change=None) -> None:
    """A copy of a backup file with its manifest and/or dump altered."""
    with tarfile.open(source) as tar:
        manifest = json.loads(tar.extractfile("manifest.json").read())
        dump = tar.extractfile("database.pgdump").read()
    if manifest_change:
        manifest_change(manifest)
    if dump_change:
        dump = dump_change(dump)
    with tarfile.open(target, "w") as tar:
        for name, data in (
            ("manifest.json", json.dumps(manifest).encode()),
            ("database.pgdump", dump),
        ):
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))


def households_in(url: str) -> int:
    engine = create_engine(url)
    with engine.connect() as conn:
        count = conn.scalar(text("SELECT count(*) FROM households"))
    engine.dispose()
    return count


def test_restore_refuses_a_newer_schema_revision_and_changes_nothing(drill):
    newer = drill["tmp"] / "newer.tar"
    rewrite(drill["file"], newer, manifest_change=lambda m: m.update(revision="9999_future"))
    before = snapshot(drill["target_url"])["tables"]

    result = invoke(drill["target"], "restore", "--yes", str(newer))

    assert result.exit_code == 1
    assert "schema revision 9999_future" in result.output
    assert "Traceback" not in result.output and len(result.output.strip().splitlines()) == 1
    assert snapshot(drill["target_url"])["tables"] == before


def test_restore_that_fails_its_check_is_rolled_back(drill, tmp_path):
    # A manifest that expects one household more than the dump holds: the restore runs, its
    # check fails, and the whole transaction (clearing included) is undone.
    wrong = drill["tmp"] / "wrong-count.tar"

    def one_more(manifest):
        manifest["tables"]["households"]["rows"] += 1

    rewrite(drill["file"], wrong, manifest_change=one_more)
    engine = create_engine(drill["target_url"])
    with engine.begin() as conn:  # mark the target so an unchanged one can be recognised
        conn.execute(text("CREATE TABLE marker (note text)"))
    engine.dispose()
    try:
        result = invoke(drill["target"], "restore", "--yes", str(wrong))

        assert result.exit_code == 1
        assert "the database is unchanged" in result.output
        assert "table households has 300 rows (expected 301)" in result.output
        engine = create_engine(drill["target_url"])
        with engine.connect() as conn:
            assert conn.scalar(text("SELECT to_regclass('public.marker')::text")) == "marker"
        engine.dispose()
    finally:
        engine = create_engine(drill["target_url"])
        with engine.begin() as conn:
            conn.execute(text("DROP TABLE IF EXISTS marker"))
        engine.dispose()


def test_restore_refuses_a_damaged_file_before_touching_the_database(drill):
    damaged = drill["tmp"] / "damaged.tar"
    rewrite(
        drill["file"],
        damaged,
        dump_change=lambda d: (
            d[: len(d) // 2] + bytes([d[len(d) // 2] ^ 0xFF]) + d[len(d) // 2 + 1 :]
        ),
    )
    not_a_backup = drill["tmp"] / "notes.txt"
    not_a_backup.write_text("hello")
    incomplete = drill["tmp"] / "incomplete.tar"
    rewrite(drill["file"], incomplete, manifest_change=lambda m: m["tables"]["areas"].pop("md5"))

    damaged_result = invoke(drill["target"], "restore", "--yes", str(damaged))
    other_result = invoke(drill["target"], "restore", "--yes", str(not_a_backup))

    assert damaged_result.exit_code == 1
    assert "damaged" in damaged_result.output and "checksum" in damaged_result.output
    assert other_result.exit_code == 1
    assert "is not a Wangge backup" in other_result.output
    incomplete_result = invoke(drill["target"], "restore", "--yes", str(incomplete))
    assert incomplete_result.exit_code == 1
    assert "the manifest is incomplete" in incomplete_result.output
    assert "Traceback" not in incomplete_result.output
    for result in (damaged_result, other_result):
        assert "Traceback" not in result.output


def test_restore_asks_before_replacing_the_database(drill):
    households = households_in(drill["target_url"]) if _has_schema(drill["target_url"]) else None

    result = invoke(drill["target"], "restore", str(drill["file"]), input="n\n")

    assert result.exit_code == 1
    assert "This replaces everything in the database" in result.output
    assert "Aborted" in result.output
    if households is not None:
        assert households_in(drill["target_url"]) == households


def _has_schema(url: str) -> bool:
    engine = create_engine(url)
    with engine.connect() as conn:
        found = conn.scalar(text("SELECT to_regclass('public.households') IS NOT NULL"))
    engine.dispose()
    return found


def test_backup_of_an_unreachable_database_is_one_line(drill, tmp_path):
    wrong = make_url(drill["source_url"]).set(database="wangge_no_such_database")
    app = app_for(wrong.render_as_string(hide_password=False), tmp_path)

    result = invoke(app, "backup", str(tmp_path / "x.tar"))

    assert result.exit_code == 1
    assert result.output.startswith("Error: Cannot reach the database")
    assert "wangge_no_such_database" in result.output
    assert len(result.output.strip().splitlines()) == 1
    assert not (tmp_path / "x.tar").exists()


def test_the_tools_get_the_connection_in_their_environment(monkeypatch):
    from app.services.backups import libpq_environment

    monkeypatch.setenv("PGSERVICE", "somewhere-else")
    monkeypatch.setenv("PGPASSWORD", "stale")
    env = libpq_environment(
        make_url("postgresql+psycopg://city:s%40cret%20pw@db.example:5433/wangge?sslmode=require")
    )

    assert env["PGPASSWORD"] == "s@cret pw"
    assert (env["PGHOST"], env["PGPORT"], env["PGUSER"], env["PGDATABASE"]) == (
        "db.example",
        "5433",
        "city",
        "wangge",
    )
    assert env["PGSSLMODE"] == "require"
    assert "PGSERVICE" not in env  # nothing from the caller's PG* variables
    assert env["PATH"] == os.environ["PATH"]
