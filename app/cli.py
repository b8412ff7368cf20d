"""The `flask --app app wangge` command group: thin wrappers that call one service each."""

from __future__ import annotations

import json
import sys
from contextlib import contextmanager
from dataclasses import asdict
from functools import wraps
from pathlib import Path

import click
from flask import current_app
from tqdm import tqdm

from app.errors import WanggeError
from app.extensions import db
from app.models import LEVEL_VALUES, Role
from geo.crs import SUPPORTED_CRS

MAX_DETAIL_LINES = 50


def reports_errors(command):
    """Turn a service's error into a CLI error with its reason and every listed fault."""

    @wraps(command)
    def wrapped(*args, **kwargs):
        try:
            return command(*args, **kwargs)
        except WanggeError as exc:
            db.session.rollback()
            lines = [exc.message]
            details = exc.details if isinstance(exc.details, list) else []
            for fault in details[:MAX_DETAIL_LINES]:
                lines.append("  " + describe_fault(fault))
            if len(details) > MAX_DETAIL_LINES:
                lines.append(f"  … and {len(details) - MAX_DETAIL_LINES} more")
            raise click.ClickException("\n".join(lines)) from None

    return wrapped


def describe_fault(fault: dict) -> str:
    where = ", ".join(f"{k} {fault[k]}" for k in ("row", "feature", "field") if k in fault)
    location = (
        f" at {fault['location'][0]:.6f},{fault['location'][1]:.6f}"
        if fault.get("location")
        else ""
    )
    return f"{where}: {fault.get('message', fault.get('reason'))}{location}"


@contextmanager
def progress_bar(description: str):
    """A tqdm bar driven by services' ``progress(done, total)`` callbacks."""
    bar = tqdm(desc=description, unit="", file=sys.stderr, dynamic_ncols=True)

    def update(done: int, total: int) -> None:
        bar.total = total
        bar.n = done
        bar.refresh()

    try:
        yield update
    finally:
        bar.close()


def print_moves(moves, limit: int = 20) -> None:
    for move in moves[:limit]:
        click.echo(
            f"  {move.from_grid or '(uncovered)'} -> {move.to_grid or '(uncovered)'}: "
            f"{move.households}"
        )
    if len(moves) > limit:
        click.echo(f"  … {len(moves) - limit} more grid pairs")


@click.group()
def wangge() -> None:
    """Wangge grid-governance commands."""


@wangge.command("assign")
@click.option("--all", "all_", is_flag=True, help="Reassign every household.")
@click.option("--area", "area_code", help="Reassign the households inside this area only.")
@reports_errors
def assign_command(all_: bool, area_code: str | None) -> None:
    """(Re)assign households to the grids that cover them."""
    from app.services import assignment

    if all_ == bool(area_code):
        raise click.UsageError("Give exactly one of --all or --area CODE.")
    if all_:
        result = assignment.assign_all(db.session)
    else:
        result = assignment.assign_area(db.session, area_code).households
    click.echo(
        f"assigned {result.assigned}, uncovered {result.uncovered}, moved {result.moved} "
        f"(of {result.candidates} households)"
    )
    print_moves(result.moves)


@wangge.command("import-areas")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--level", required=True, type=click.Choice(LEVEL_VALUES))
@click.option("--crs", default="wgs84", type=click.Choice(SUPPORTED_CRS, case_sensitive=False))
@click.option("--parent", "parent_code", help="Code of the parent area of every feature.")
@click.option("--code-field", help="Property holding each area's code (else codes are generated).")
@click.option("--name-field", help="Property holding each area's name.")
@reports_errors
def import_areas_command(file, level, crs, parent_code, code_field, name_field) -> None:
    """Import areas from GeoJSON, GeoPackage or a zipped Shapefile; all or nothing."""
    from app.services.imports import import_areas

    with progress_bar("checking and importing areas") as progress:
        result = import_areas(
            db.session,
            file,
            level=level,
            crs=crs,
            parent_code=parent_code,
            code_field=code_field,
            name_field=name_field,
            progress=progress,
            max_vertices=current_app.config["WANGGE_MAX_VERTICES"],
        )
    click.echo(
        f"imported {len(result.codes)} {level} areas: {', '.join(result.codes[:10])}"
        + (" …" if len(result.codes) > 10 else "")
    )
    if result.reassignment:
        h = result.reassignment.households
        click.echo(f"households reassigned: {h.moved} moved, {h.uncovered} uncovered")


@wangge.command("import-households")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--crs", default="wgs84", type=click.Choice(SUPPORTED_CRS, case_sensitive=False))
@reports_errors
def import_households_command(file, crs) -> None:
    """Import households from CSV, GeoPackage or GeoJSON; bad rows are listed, none imported."""
    from app.services.imports import import_households
    from app.store.scope import Scope

    # The operator at the console writes as the district does: anywhere inside it.
    with progress_bar("importing households") as progress:
        result = import_households(
            db.session, file, scope=Scope.everything(), crs=crs, progress=progress
        )
    click.echo(
        f"imported {result.imported} households: {result.assigned} assigned to grids, "
        f"{result.uncovered} in no grid"
    )


@wangge.command("coverage")
@click.option("--area", "area_code", help="Only this area (and what lies below it).")
@click.option("--json", "as_json", is_flag=True, help="Print the full report as JSON.")
@reports_errors
def coverage_command(area_code: str | None, as_json: bool) -> None:
    """Overlaps, gaps, children outside parents, uncovered households, grids without a worker."""
    from app.services.coverage import coverage_report

    report = coverage_report(db.session, area_code)
    if as_json:
        click.echo(json.dumps(report.to_dict(), ensure_ascii=False, indent=2))
        return
    for line in report.summary_lines():
        click.echo(line)


@wangge.command("create-user")
@click.argument("username")
@click.option("--role", required=True, type=click.Choice([r.value for r in Role]))
@click.option("--area", "area_code", help="Area the user is responsible for.")
@click.option("--password", required=True, prompt=True, hide_input=True)
@click.option("--name", "display_name", help="Display name (defaults to the username).")
@reports_errors
def create_user_command(username, role, area_code, password, display_name) -> None:
    """Create a user with a role."""
    from app.services.auth import create_user

    user = create_user(
        db.session,
        username,
        role=role,
        password=password,
        area_code=area_code,
        display_name=display_name,
    )
    db.session.commit()
    click.echo(f"created {user.role} {user.username}")


@wangge.command("issue-token")
@click.argument("username")
@click.option(
    "--expires-days",
    type=click.IntRange(1, 3650),
    help="Days until the token expires (default: WANGGE_TOKEN_DAYS, 90).",
)
@reports_errors
def issue_token_command(username: str, expires_days: int | None) -> None:
    """Issue an API bearer token (shown once, on stdout); its id and expiry go to stderr."""
    from app.services.auth import create_token

    days = expires_days or current_app.config["WANGGE_TOKEN_DAYS"]
    row, token = create_token(db.session, username, days=days)
    db.session.commit()
    click.echo(token)
    click.echo(
        f"token id {row.id} for {username}, expires {row.expires_at:%Y-%m-%d %H:%M %Z} "
        f"(revoke with: revoke-token {row.id})",
        err=True,
    )


@wangge.command("revoke-token")
@click.argument("token_id", required=False, type=click.IntRange(1, 2**31 - 1))
@click.option("--user", "username", help="Revoke every token of this user.")
@reports_errors
def revoke_token_command(token_id: int | None, username: str | None) -> None:
    """Revoke an API token by the id issue-token printed, or every token of --user."""
    from app.services.auth import revoke_tokens

    if token_id is None and username is None:
        raise click.UsageError("Give a token id or --user NAME.")
    revoked = revoke_tokens(db.session, token_id=token_id, username=username)
    click.echo(f"revoked {revoked} token{'s' if revoked != 1 else ''}")


@wangge.command("set-password")
@click.argument("username")
@click.option("--password", required=True, prompt=True, hide_input=True, confirmation_prompt=True)
@reports_errors
def set_password_command(username: str, password: str) -> None:
    """Change a user's password; every login session of theirs ends."""
    from app.services.auth import set_password

    ended = set_password(db.session, username, password)
    click.echo(f"password of {username} changed; {ended} login session(s) ended")


@wangge.command("deactivate-user")
@click.argument("username")
@reports_errors
def deactivate_user_command(username: str) -> None:
    """Lock a user out: sessions end, tokens are revoked, logins are refused."""
    from app.services.auth import deactivate_user

    ended = deactivate_user(db.session, username)
    click.echo(f"deactivated {username}; {ended} login session(s) ended, tokens revoked")


@wangge.command("demo")
@click.option(
    "--households", default=50_000, show_default=True, type=click.IntRange(100, 1_000_000)
)
@click.option("--seed", default=20220905, show_default=True, type=int)
@reports_errors
def demo_command(households: int, seed: int) -> None:
    """Build the Langzhong demo city (idempotent) and print the demo accounts."""
    from app.services.demo import DEMO_PASSWORD, build_demo

    with progress_bar("building the demo city") as progress:
        summary = build_demo(db.session, households=households, seed=seed, progress=progress)
    if summary.created:
        click.echo("demo city built:")
    else:
        click.echo("demo city already present (nothing changed):")
    for key, value in asdict(summary).items():
        if key not in ("created", "accounts"):
            click.echo(f"  {key}: {value}")
    click.echo(f"demo accounts (password: {DEMO_PASSWORD}):")
    for username, role in summary.accounts:
        click.echo(f"  {username:<12} {role}")


@wangge.command("set-webhook")
@click.argument("department")
@click.argument("url", required=False)
@click.option("--clear", is_flag=True, help="Remove the department's webhook.")
@reports_errors
def set_webhook_command(department: str, url: str | None, clear: bool) -> None:
    """Send a department's incident events (created, status changes) to URL."""
    from app.services.notifications import set_department_webhook

    if bool(url) == clear:
        raise click.UsageError("Give a URL, or --clear.")
    set_department_webhook(db.session, department, None if clear else url)
    click.echo(f"{department}: " + (f"webhook {url}" if url else "webhook removed"))


@wangge.command("deliver-webhooks")
@reports_errors
def deliver_webhooks_command() -> None:
    """Send queued webhook calls that are due (run it every minute from cron or a timer)."""
    from app.services.notifications import deliver_webhooks

    result = deliver_webhooks(db.session)
    click.echo(f"sent {result['sent']}, failed {result['failed']} (failures are retried)")


@wangge.command("load-holidays")
@click.argument("files", nargs=-1, type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option(
    "--year", type=click.IntRange(1950, 2199), help="Only this year (data/holidays/YEAR.json)."
)
@reports_errors
def load_holidays_command(files: tuple[Path, ...], year: int | None) -> None:
    """Load statutory holidays and make-up working days (default: every file in data/holidays).

    Every file is checked before anything is stored; one bad entry stores nothing.
    """
    from app.services.calendar import read_year_files, shipped_year_files
    from app.store.calendar import replace_year

    paths = list(files) or shipped_year_files(year)
    if not paths:
        raise click.ClickException("No holiday files found in data/holidays.")
    try:
        years = read_year_files(paths, year=year)
    except ValueError as exc:
        raise click.ClickException(f"nothing loaded: {exc}") from None
    for holiday_year in years:
        replace_year(db.session, holiday_year.year, holiday_year.entries)
    db.session.commit()
    for y in years:
        click.echo(
            f"{y.year}: {y.holidays} days off, {y.makeup_workdays} make-up working days "
            f"({y.source})"
        )


@wangge.command("escalate")
@click.option(
    "--now", "now_text", help="As of this ISO time (Asia/Shanghai unless it has an offset)."
)
@reports_errors
def escalate_command(now_text: str | None) -> None:
    """Escalate overdue incidents to community, street and district (run it from cron)."""
    from datetime import datetime

    from app.services.calendar import SHANGHAI
    from app.services.escalation import escalate_overdue

    now = None
    if now_text:
        try:
            now = datetime.fromisoformat(now_text)
        except ValueError:
            raise click.BadParameter(
                f"not an ISO date-time: {now_text!r}", param_hint="--now"
            ) from None
        if now.tzinfo is None:
            now = now.replace(tzinfo=SHANGHAI)
    result = escalate_overdue(db.session, now)
    click.echo(f"overdue open incidents: {result['overdue']}")
    click.echo(
        f"escalated {result['escalated']}: community {result['community']}, "
        f"street {result['street']}, district {result['district']}"
    )
    click.echo(f"notices: {result['notified']}")


@wangge.command("issue-open311-key")
@click.argument("name")
@click.option("--revoke", is_flag=True, help="Revoke the client's key instead of issuing one.")
@reports_errors
def issue_open311_key_command(name: str, revoke: bool) -> None:
    """Issue an Open311 api_key for an outside system (shown once), or revoke it."""
    from app.open311.clients import issue_key, revoke_key

    if revoke:
        client = revoke_key(db.session, name)
        click.echo(f"revoked the Open311 key of {client.name}")
        return
    click.echo(issue_key(db.session, name))


@contextmanager
def stage_bars():
    """One tqdm bar per step of a long job, driven by ``progress(step, done, total)``."""
    bars: dict[str, tqdm] = {}

    def update(step: str, done: int, total: int) -> None:
        if step not in bars:
            for bar in bars.values():
                bar.close()
            bytes_ = step.startswith(("writing", "checking the file"))
            bars[step] = tqdm(
                desc=step,
                total=total,
                file=sys.stderr,
                dynamic_ncols=True,
                unit="B" if bytes_ else "",
                unit_scale=bytes_,
            )
        bar = bars[step]
        bar.total = total
        bar.update(done - bar.n)  # redraws at most every tenth of a second

    try:
        yield update
    finally:
        for bar in bars.values():
            bar.close()


@wangge.command("backup")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@reports_errors
def backup_command(file: Path) -> None:
    """Back up the whole database (photos included) into FILE, with a manifest of counts."""
    from app.services.backups import backup

    url = current_app.config["SQLALCHEMY_DATABASE_URI"]
    db.session.remove()
    with stage_bars() as progress:
        summary = backup(url, file, progress=progress)
    click.echo(
        f"backed up {summary.rows:,} rows in {summary.tables} tables "
        f"(schema revision {summary.revision}) to {summary.path}: {summary.size / 1e6:.1f} MB"
    )


@wangge.command("restore")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
@reports_errors
def restore_command(file: Path, yes: bool) -> None:
    """Replace the database's contents with a backup's, then check every table."""
    from sqlalchemy.engine import make_url

    from app import ROOT
    from app.services.backups import check_revision, read_manifest, restore

    url = current_app.config["SQLALCHEMY_DATABASE_URI"]
    manifest = read_manifest(file)
    check_revision(manifest, ROOT / "migrations")
    target = make_url(url)
    rows = sum(t["rows"] for t in manifest["tables"].values())
    click.echo(
        f"{file}: made {manifest.get('created_at')}, schema revision {manifest['revision']}, "
        f"{rows:,} rows in {len(manifest['tables'])} tables"
    )
    if not yes:
        click.confirm(
            f"This replaces everything in the database {target.database} on "
            f"{target.host or 'the local socket'}. Continue?",
            abort=True,
        )
    db.session.remove()
    db.engine.dispose()
    with stage_bars() as progress:
        summary = restore(url, file, ROOT / "migrations", progress=progress)
    click.echo(
        f"restored and checked {summary.rows:,} rows in {summary.tables} tables "
        f"(schema revision {summary.revision}, backed up {summary.created_at})"
    )
    if summary.upgrade_needed:
        click.echo("the backup's schema is older: run `flask --app app db upgrade` now")
