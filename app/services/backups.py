"""Backups: the whole database in one file, and putting one back.

A backup is a tar file (mode 0600: it holds personal data) with two members:

- ``manifest.json``: the format, when it was made, the schema revision, the server and
  PostGIS versions, and for every table its row count and a checksum of its contents;
- ``database.pgdump``: ``pg_dump`` in custom format, with its size and SHA-256 in the manifest.

Photos (incident and site photos) are stored in the database, so the dump holds them, and
the table checksums cover their bytes.

The counts and checksums are read in the same snapshot that ``pg_dump`` dumps (the dump is
given the snapshot of the transaction that counted), so they describe exactly what the dump
holds.

A restore runs as one transaction through ``psql``: it clears the configured database (every
table, view, sequence, function and type that does not belong to an extension), replays the
dump, then checks every table's count and checksum against the manifest and raises an error
if one differs. Any error rolls the whole transaction back and leaves the database as it
was. A file from a newer schema revision than this code knows is refused before anything
is touched.

The password travels to the PostgreSQL tools in the environment (PGPASSWORD), never on a
command line other users could read. The tools used are those of the server's major version.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import re
import shutil
import subprocess
import tarfile
import tempfile
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import create_engine, text
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.pool import NullPool

from app.errors import BadRequest, Conflict, InvalidData, WanggeError
from app.spool import private_folder

FORMAT = "wangge-backup/1"
MANIFEST = "manifest.json"
DUMP = "database.pgdump"
CHUNK = 1 << 20

# progress(step, done, total): a step's name and how far along it is
Progress = Callable[[str, int, int], None]


def _no_progress(step: str, done: int, total: int) -> None:
    pass


class BackupFailed(WanggeError):
    """A PostgreSQL tool or the file system failed; the message says which and why."""

    code = "backup_failed"


@dataclass(frozen=True)
class BackupSummary:
    path: Path
    size: int
    revision: str
    tables: int
    rows: int


@dataclass(frozen=True)
class RestoreSummary:
    revision: str
    created_at: str
    tables: int
    rows: int
    upgrade_needed: bool


# Settings under which a row's text is the same on every server and in every session.
CANONICAL_SETTINGS = (
    "SET TimeZone = 'UTC'",
    "SET DateStyle = 'ISO, YMD'",
    "SET IntervalStyle = 'postgres'",
    "SET extra_float_digits = 1",
    "SET bytea_output = 'hex'",
)

# Tables of ours: every table in public that no extension owns (spatial_ref_sys is PostGIS's).
TABLES_SQL = """
SELECT c.relname FROM pg_class c
 WHERE c.relnamespace = 'public'::regnamespace AND c.relkind IN ('r', 'p')
   AND NOT EXISTS (SELECT FROM pg_depend d WHERE d.classid = 'pg_class'::regclass
                   AND d.objid = c.oid AND d.deptype = 'e')
 ORDER BY c.relname
"""


def table_digest_sql(table: str) -> str:
    """Row count and checksum of a table: md5 over the sorted md5s of its rows' text, so it
    needs no primary key and little memory, and two tables with the same rows agree."""
    name = '"' + table.replace('"', '""') + '"'
    return (
        "SELECT count(*), md5(coalesce(string_agg(h, '' ORDER BY h), '')) "
        f"FROM (SELECT md5(t::text) AS h FROM public.{name} t) rows"
    )


# --- connection and tools ---------------------------------------------------------------


LIBPQ_QUERY_KEYS = {
    "host": "PGHOST",
    "sslmode": "PGSSLMODE",
    "sslrootcert": "PGSSLROOTCERT",
    "sslcert": "PGSSLCERT",
    "sslkey": "PGSSLKEY",
    "connect_timeout": "PGCONNECT_TIMEOUT",
    "options": "PGOPTIONS",
}


def libpq_environment(url: URL) -> dict[str, str]:
    """The environment for psql/pg_dump/pg_restore to reach the URL's database: the
    caller's environment without its PG* variables, plus ours (the password among them)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("PG")}
    env.update(PGAPPNAME="wangge-backup", PGCONNECT_TIMEOUT="10")
    for key, value in {
        "PGHOST": url.host,
        "PGPORT": str(url.port) if url.port else None,
        "PGUSER": url.username,
        "PGPASSWORD": url.password,
        "PGDATABASE": url.database,
    }.items():
        if value:
            env[key] = value
    for key, var in LIBPQ_QUERY_KEYS.items():
        value = url.query.get(key)
        if isinstance(value, tuple):
            value = value[0] if value else None
        if value:
            env[var] = str(value)
    return env


def tool_major(path: str) -> int | None:
    try:
        out = subprocess.run(
            [path, "--version"], capture_output=True, text=True, timeout=10, check=False
        ).stdout
    except OSError:
        return None
    match = re.search(r"\)\s*(\d+)", out)  # "pg_dump (PostgreSQL) 15.20 (Debian ...)"
    return int(match.group(1)) if match else None


def find_tool(name: str, server_major: int) -> str:
    """The PostgreSQL tool of the server's major version (Debian keeps every installed
    version under /usr/lib/postgresql/N/bin); else one from pg_config or the PATH that is at
    least as new as the server, which dump and restore support."""
    exact = Path(f"/usr/lib/postgresql/{server_major}/bin/{name}")
    if os.access(exact, os.X_OK):
        return str(exact)
    candidates = []
    if pg_config := shutil.which("pg_config"):
        try:
            bindir = subprocess.run(
                [pg_config, "--bindir"], capture_output=True, text=True, timeout=10, check=True
            ).stdout.strip()
            candidates.append(str(Path(bindir) / name))
        except (OSError, subprocess.SubprocessError):
            pass
    if found := shutil.which(name):
        candidates.append(found)
    for candidate in candidates:
        major = tool_major(candidate) if os.access(candidate, os.X_OK) else None
        if major is not None and major >= server_major:
            return candidate
    raise BackupFailed(
        f"{name} for PostgreSQL {server_major} not found: install postgresql-client-"
        f"{server_major} (or a newer client)."
    )


def _engine(url: URL):
    """An engine that keeps no connection once it is done with it."""
    return create_engine(url, poolclass=NullPool)


def _connect_error(url: URL, exc: SQLAlchemyError) -> BackupFailed:
    reason = str(getattr(exc, "orig", exc)).strip().splitlines()[0]
    where = f"{url.database} on {url.host or 'the local socket'}"
    return BackupFailed(f"Cannot reach the database {where}: {reason}")


def _last_error(stderr: str) -> str:
    """The line of a tool's stderr that says what went wrong."""
    lines = [line.strip() for line in stderr.splitlines() if line.strip()]
    for line in lines:
        if "ERROR:" in line or "FATAL:" in line or "error:" in line:
            return re.sub(r"^psql:[^ ]*: ", "", line)
    return lines[-1] if lines else "no message"


# --- backup ----------------------------------------------------------------------------


def backup(database_url: str, target: Path, *, progress: Progress = _no_progress) -> BackupSummary:
    """Write a backup of the database to ``target`` (replaced only when complete)."""
    url = make_url(database_url)
    target = Path(target)
    if target.is_dir():
        raise BadRequest(f"{target} is a folder; give a file name.")
    if not target.parent.is_dir():
        raise BadRequest(f"The folder {target.parent} does not exist.")
    env = libpq_environment(url)
    engine = _engine(url)
    try:
        with engine.connect() as conn:
            conn.exec_driver_sql("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")
            snapshot = conn.exec_driver_sql("SELECT pg_export_snapshot()").scalar_one()
            manifest = _describe(conn, progress)
            pg_dump = find_tool("pg_dump", manifest["server_major"])
            work = Path(tempfile.mkdtemp(prefix=".wangge-backup-", dir=target.parent))
            try:
                dump = work / DUMP
                _run_pg_dump(pg_dump, env, snapshot, dump, len(manifest["tables"]), progress)
                conn.exec_driver_sql("COMMIT")
                manifest["dump"] = {"size": dump.stat().st_size, "sha256": _sha256(dump)}
                partial = work / "backup.tar"
                _write_tar(partial, manifest, dump, progress)
                os.replace(partial, target)
            finally:
                shutil.rmtree(work, ignore_errors=True)
    except SQLAlchemyError as exc:
        raise _connect_error(url, exc) from None
    except OSError as exc:
        raise BackupFailed(f"Cannot write {target}: {exc.strerror or exc}") from None
    finally:
        engine.dispose()
    return BackupSummary(
        path=target,
        size=target.stat().st_size,
        revision=manifest["revision"],
        tables=len(manifest["tables"]),
        rows=sum(t["rows"] for t in manifest["tables"].values()),
    )


def _describe(conn, progress: Progress) -> dict:
    for statement in CANONICAL_SETTINGS:
        conn.exec_driver_sql(statement)
    tables = list(conn.scalars(text(TABLES_SQL)))
    if "alembic_version" not in tables:
        raise InvalidData("The database has no schema yet (run `flask --app app db upgrade`).")
    revision = conn.exec_driver_sql("SELECT version_num FROM alembic_version").scalar()
    server_num = int(conn.exec_driver_sql("SHOW server_version_num").scalar_one())
    postgis = conn.exec_driver_sql(
        "SELECT extversion FROM pg_extension WHERE extname = 'postgis'"
    ).scalar()
    digests = {}
    for done, table in enumerate(tables):
        progress("counting and checksumming tables", done, len(tables))
        rows, checksum = conn.exec_driver_sql(table_digest_sql(table)).one()
        digests[table] = {"rows": rows, "md5": checksum}
    progress("counting and checksumming tables", len(tables), len(tables))
    return {
        "format": FORMAT,
        "created_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "revision": revision,
        "server_version": conn.exec_driver_sql("SHOW server_version").scalar_one(),
        "server_major": server_num // 10000,
        "postgis": postgis,
        "database": conn.engine.url.database,
        "tables": digests,
    }


def _run_pg_dump(pg_dump, env, snapshot, dump: Path, tables: int, progress: Progress) -> None:
    command = [pg_dump, "--format=custom", "--verbose", f"--snapshot={snapshot}"]
    command += ["--file", str(dump)]
    done = 0
    progress("dumping", 0, tables)
    with subprocess.Popen(
        command, env=env, stdin=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True
    ) as proc:
        messages = []
        for line in proc.stderr:
            messages.append(line)
            if "dumping contents of table" in line:
                done += 1
                progress("dumping", min(done, tables), tables)
        proc.wait()
    if proc.returncode != 0:
        raise BackupFailed(f"pg_dump failed: {_last_error(''.join(messages))}")
    progress("dumping", tables, tables)


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while chunk := handle.read(CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


class _Counting:
    """A file reader that reports how many bytes have been read."""

    def __init__(self, handle, report: Callable[[int], None]):
        self.handle, self.report, self.done = handle, report, 0

    def read(self, size: int = -1) -> bytes:
        data = self.handle.read(size)
        self.done += len(data)
        self.report(self.done)
        return data


def _write_tar(path: Path, manifest: dict, dump: Path, progress: Progress) -> None:
    body = json.dumps(manifest, indent=2, ensure_ascii=False).encode()
    created = int(datetime.now(UTC).timestamp())
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    size = dump.stat().st_size
    with (
        os.fdopen(fd, "wb") as out,
        tarfile.open(fileobj=out, mode="w", format=tarfile.PAX_FORMAT) as tar,
    ):
        info = tarfile.TarInfo(MANIFEST)
        info.size, info.mtime, info.mode = len(body), created, 0o600
        tar.addfile(info, _bytes_reader(body))
        info = tarfile.TarInfo(DUMP)
        info.size, info.mtime, info.mode = size, created, 0o600
        with open(dump, "rb") as handle:
            tar.addfile(info, _Counting(handle, lambda n: progress("writing the file", n, size)))
        out.flush()
        os.fsync(out.fileno())


def _bytes_reader(data: bytes):
    return io.BytesIO(data)


# --- restore ---------------------------------------------------------------------------


def read_manifest(path: Path) -> dict:
    """The manifest of a backup file, checked for its format."""
    try:
        with tarfile.open(path, mode="r:") as tar:
            member = tar.getmember(MANIFEST)
            manifest = json.loads(tar.extractfile(member).read())
    except FileNotFoundError:
        raise BadRequest(f"{path}: no such file.") from None
    except (tarfile.TarError, KeyError, json.JSONDecodeError, UnicodeDecodeError):
        raise InvalidData(f"{path} is not a Wangge backup (no readable manifest).") from None
    except OSError as exc:
        raise BackupFailed(f"Cannot read {path}: {exc.strerror or exc}") from None
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        raise InvalidData(f"{path} is not a Wangge backup of a format this version reads.")
    tables = manifest.get("tables")
    well_formed = (
        isinstance(tables, dict)
        and isinstance(manifest.get("dump"), dict)
        and isinstance(manifest.get("revision"), str)
        and all(
            isinstance(t, dict) and isinstance(t.get("rows"), int) and isinstance(t.get("md5"), str)
            for t in tables.values()
        )
    )
    if not well_formed:
        raise InvalidData(f"{path}: the manifest is incomplete.")
    return manifest


def check_revision(manifest: dict, migrations: Path) -> bool:
    """Refuse a backup whose schema revision this code does not know (a newer version
    made it); True if it is older than the code's, so the restored database needs
    ``flask db upgrade``."""
    from alembic.config import Config
    from alembic.script import ScriptDirectory

    config = Config()
    config.set_main_option("script_location", str(migrations))
    scripts = ScriptDirectory.from_config(config)
    heads = scripts.get_heads()
    revision = manifest.get("revision")
    known = {script.revision for script in scripts.walk_revisions()}
    if revision not in known:
        raise Conflict(
            f"The backup is of schema revision {revision}, which this version of Wangge does "
            f"not know (it knows up to {', '.join(heads)}): restore it with the version that "
            "made it."
        )
    return revision not in heads


def restore(
    database_url: str,
    source: Path,
    migrations: Path,
    *,
    progress: Progress = _no_progress,
) -> RestoreSummary:
    """Replace the database's contents with the backup's, all or nothing, then verified."""
    source = Path(source)
    manifest = read_manifest(source)
    upgrade_needed = check_revision(manifest, migrations)
    url = make_url(database_url)
    env = libpq_environment(url)
    engine = _engine(url)
    try:
        with engine.connect() as conn:
            server_major = int(conn.exec_driver_sql("SHOW server_version_num").scalar_one())
            server_major //= 10000
    except SQLAlchemyError as exc:
        raise _connect_error(url, exc) from None
    finally:
        engine.dispose()
    pg_restore = find_tool("pg_restore", max(server_major, int(manifest.get("server_major", 0))))
    psql = find_tool("psql", server_major)
    work = Path(tempfile.mkdtemp(prefix="wangge-restore-", dir=private_folder()))
    try:
        dump = work / DUMP
        _extract_dump(source, manifest, dump, progress)
        listing = work / "list"
        entries = _restore_list(pg_restore, env, dump, listing)
        (work / "clear.sql").write_text(CLEAR_SQL)
        (work / "verify.sql").write_text(verify_sql(manifest["tables"]))
        _run_restore(pg_restore, psql, env, work, entries, progress)
    except OSError as exc:
        raise BackupFailed(f"Restore failed: {exc.strerror or exc}") from None
    finally:
        shutil.rmtree(work, ignore_errors=True)
    tables = manifest["tables"]
    return RestoreSummary(
        revision=manifest["revision"],
        created_at=manifest.get("created_at", ""),
        tables=len(tables),
        rows=sum(t["rows"] for t in tables.values()),
        upgrade_needed=upgrade_needed,
    )


def _extract_dump(source: Path, manifest: dict, dump: Path, progress: Progress) -> None:
    expected = manifest["dump"]
    digest = hashlib.sha256()
    try:
        with tarfile.open(source, mode="r:") as tar:
            member = tar.getmember(DUMP)
            reader = tar.extractfile(member)
            fd = os.open(dump, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "wb") as out:
                done = 0
                while chunk := reader.read(CHUNK):
                    digest.update(chunk)
                    out.write(chunk)
                    done += len(chunk)
                    progress("checking the file", done, member.size)
    except (tarfile.TarError, KeyError):
        raise InvalidData(f"{source} is damaged: its database dump cannot be read.") from None
    if dump.stat().st_size != expected.get("size") or digest.hexdigest() != expected.get("sha256"):
        raise InvalidData(f"{source} is damaged: its database dump does not match its checksum.")


def _restore_list(pg_restore: str, env: dict, dump: Path, listing: Path) -> int:
    """Write the dump's table of contents without the comments on extensions and PostGIS's
    spatial_ref_sys rows (only a superuser may write them; the target's PostGIS has its own,
    and Wangge adds none). Returns how many entries will be restored."""
    result = subprocess.run(
        [pg_restore, "--list", str(dump)], env=env, capture_output=True, text=True, check=False
    )
    if result.returncode != 0:
        raise InvalidData(f"The database dump cannot be read: {_last_error(result.stderr)}")
    kept = [
        line
        for line in result.stdout.splitlines()
        if not re.search(r"\bCOMMENT - EXTENSION\b|\bTABLE DATA public spatial_ref_sys\b", line)
    ]
    listing.write_text("\n".join(kept) + "\n")
    return sum(1 for line in kept if line and not line.startswith(";"))


# Clears the database for the restore: every relation, routine and type in public that no
# extension owns. The statements are all built before the first one runs.
CLEAR_SQL = r"""
SET lock_timeout = '30s';
SET client_min_messages = warning;
DO $clear$
DECLARE
    statements text[];
    statement text;
BEGIN
    SELECT coalesce(array_agg(s), '{}') INTO statements FROM (
        SELECT format('DROP %s IF EXISTS public.%I CASCADE',
                      CASE c.relkind WHEN 'v' THEN 'VIEW' WHEN 'm' THEN 'MATERIALIZED VIEW'
                                     WHEN 'S' THEN 'SEQUENCE' WHEN 'f' THEN 'FOREIGN TABLE'
                                     ELSE 'TABLE' END, c.relname) AS s
          FROM pg_class c
         WHERE c.relnamespace = 'public'::regnamespace
           AND c.relkind IN ('r', 'p', 'v', 'm', 'S', 'f')
           AND NOT EXISTS (SELECT FROM pg_depend d WHERE d.classid = 'pg_class'::regclass
                           AND d.objid = c.oid AND d.deptype = 'e')
        UNION ALL
        SELECT format('DROP ROUTINE IF EXISTS public.%I(%s) CASCADE', p.proname,
                      pg_get_function_identity_arguments(p.oid))
          FROM pg_proc p
         WHERE p.pronamespace = 'public'::regnamespace
           AND NOT EXISTS (SELECT FROM pg_depend d WHERE d.classid = 'pg_proc'::regclass
                           AND d.objid = p.oid AND d.deptype = 'e')
        UNION ALL
        SELECT format('DROP TYPE IF EXISTS public.%I CASCADE', t.typname)
          FROM pg_type t
         WHERE t.typnamespace = 'public'::regnamespace AND t.typtype IN ('e', 'd', 'r', 'm')
           AND NOT EXISTS (SELECT FROM pg_depend d WHERE d.classid = 'pg_type'::regclass
                           AND d.objid = t.oid AND d.deptype = 'e')
    ) statements_to_run;
    FOREACH statement IN ARRAY statements LOOP
        EXECUTE statement;
    END LOOP;
END
$clear$;
RESET lock_timeout;
RESET client_min_messages;
"""


def _literal(value: str) -> str:
    return "'" + str(value).replace("'", "''") + "'"


def verify_sql(tables: dict) -> str:
    """A block that raises (and so rolls the restore back) unless the restored tables are
    exactly the backup's, each with the backup's row count and checksum."""
    lines = [*(s + ";" for s in CANONICAL_SETTINGS), "DO $verify$", "DECLARE", "    n bigint;"]
    lines += ["    digest text;", "    found text[];", "BEGIN"]
    expected = "ARRAY[" + ", ".join(_literal(t) for t in sorted(tables)) + "]::text[]"
    lines.append(
        "    SELECT coalesce(array_agg(relname::text ORDER BY relname), '{}') INTO found FROM ("
        + TABLES_SQL.replace("ORDER BY c.relname", "")
        + ") tables;"
    )
    lines.append(
        f"    IF found IS DISTINCT FROM (SELECT array_agg(x ORDER BY x) FROM unnest({expected}) x) THEN"
    )
    lines.append(
        "        RAISE EXCEPTION 'restore check: the restored tables are not the backup''s';"
    )
    lines.append("    END IF;")
    for table, digest in sorted(tables.items()):
        rows, md5 = int(digest["rows"]), str(digest["md5"])
        if not re.fullmatch(r"[0-9a-f]{32}", md5):
            raise InvalidData(f"The manifest's checksum of {table} is malformed.")
        lines.append(f"    {table_digest_sql(table)} INTO n, digest;")
        lines.append(f"    IF n <> {rows} OR digest <> '{md5}' THEN")
        lines.append(
            f"        RAISE EXCEPTION 'restore check: table % has % rows (expected {rows})"
            f" or different contents', {_literal(table)}, n;"
        )
        lines.append("    END IF;")
    lines += ["END", "$verify$;", ""]
    return "\n".join(lines)


MARK = b"@@wangge-restore-entry"
ENTRY_STARTS = (b"-- Name: ", b"-- Data for Name: ")


def _marked(lines, marker: bytes):
    """The dump's SQL with a ``SELECT`` of ``marker`` before each of its entries (never inside
    COPY data), so psql prints it as it reaches each entry. (Not ``\\echo``: pg_restore
    forbids backslash commands in its script.)"""
    in_copy = False
    for line in lines:
        if in_copy:
            in_copy = line != b"\\.\n"
        elif line.startswith(ENTRY_STARTS):
            yield b"SELECT '" + marker + b"';\n"
        elif line.startswith(b"COPY ") and line.rstrip().endswith(b"FROM stdin;"):
            in_copy = True
        yield line


def _run_restore(pg_restore, psql, env, work: Path, entries: int, progress: Progress) -> None:
    """psql runs the clearing, the dump as SQL (from pg_restore) and the check as one
    transaction, stopping at the first error. The check is sent only once pg_restore has
    finished well; if anything fails, psql is stopped before it can commit. psql echoes a
    mark as it reaches each entry of the dump, which drives the progress."""
    restore_command = [pg_restore, "--no-owner", "--no-privileges"]
    restore_command += [f"--use-list={work / 'list'}", "--file=-", str(work / DUMP)]
    psql_command = [psql, "--no-psqlrc", "--quiet", "--single-transaction", "--file=-"]
    psql_command += ["--set=ON_ERROR_STOP=1", "--tuples-only", "--no-align"]
    step = "restoring"
    progress(step, 0, entries)
    restore_messages: list[bytes] = []

    def follow_psql(stream) -> None:
        done = 0
        for line in stream:
            if line.startswith(MARK):
                done += 1
                progress(step, min(done, entries), entries)
            elif line.startswith(b"@@wangge-restore-check"):
                progress(step, entries, entries)
                progress("checking every table", 0, 1)

    with open(work / "psql.err", "w+b") as psql_errors:
        psql_proc = subprocess.Popen(
            psql_command,
            env=env,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=psql_errors,
        )
        restore_proc = subprocess.Popen(
            restore_command,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        followers = [
            threading.Thread(target=follow_psql, args=(psql_proc.stdout,)),
            threading.Thread(target=lambda: restore_messages.extend(restore_proc.stderr)),
        ]
        for follower in followers:
            follower.start()
        try:
            psql_proc.stdin.write(CLEAR_SQL.encode())
            for line in _marked(restore_proc.stdout, MARK):
                psql_proc.stdin.write(line)
            restore_proc.wait()
            if restore_proc.returncode == 0:
                psql_proc.stdin.write(b"SELECT '@@wangge-restore-check';\n")
                psql_proc.stdin.write((work / "verify.sql").read_bytes())
                psql_proc.stdin.close()
                psql_proc.wait()
        except BrokenPipeError:
            pass  # psql stopped at an error: its message says which
        finally:
            if restore_proc.poll() is None:
                restore_proc.kill()
                restore_proc.wait()
            if psql_proc.poll() is None:
                psql_proc.kill()  # never commit a restore that did not finish
            psql_proc.wait()
            for follower in followers:
                follower.join()
        psql_errors.seek(0)
        psql_stderr = psql_errors.read().decode(errors="replace")
    psql_reason = _last_error(psql_stderr)
    if psql_proc.returncode != 0 and "ERROR" in psql_reason:
        if "lock timeout" in psql_reason:
            psql_reason += " (stop the app's server and workers, then try again)"
        if "permission denied to create extension" in psql_reason:
            psql_reason += " (create it as a superuser: scripts/provision-db.sh DATABASE_URL)"
        raise BackupFailed(f"Restore failed, the database is unchanged: {psql_reason}")
    if restore_proc.returncode != 0:
        reason = _last_error(b"".join(restore_messages).decode(errors="replace"))
        raise BackupFailed(f"pg_restore failed, the database is unchanged: {reason}")
    if psql_proc.returncode != 0:
        raise BackupFailed(f"Restore failed, the database is unchanged: {psql_reason}")
    progress("checking every table", 1, 1)
