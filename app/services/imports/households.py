"""Importing households from files or JSON rows: every row checked, all or nothing."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
from sqlalchemy.orm import Session

from app.errors import BadRequest, InvalidData
from app.models import HOUSEHOLD_TAGS
from app.services.assignment import assign_households
from app.services.imports.common import Progress, no_progress, refuse
from app.services.readers import file_kind, read_vector
from app.services.write_scope import OUTSIDE_DISTRICT, OUTSIDE_REGION, point_write_faults
from app.store import households as household_store
from app.store.scope import Scope
from geo import crs as geocrs
from geo.validate import point_faults

HOUSEHOLD_COLUMNS = (
    "external_id",
    "lon",
    "lat",
    "address",
    "head_name",
    "phone",
    "members",
    "tags",
)
POINT_FAULTS = {
    "malformed": "lon and lat must be numbers",
    "nan_coordinate": "lon and lat are missing or not finite",
    "out_of_range": "lon must be in [-180, 180] and lat in [-90, 90]",
    "outside_bounds": "the point lies outside the district",
}
PHONE = re.compile(r"^[0-9+\- ]{0,20}$")
TAG_SEPARATORS = re.compile(r"[;|；]")


@dataclass(frozen=True)
class HouseholdImport:
    imported: int
    assigned: int
    uncovered: int


def _read_household_table(path: Path) -> tuple[pd.DataFrame, str]:
    """The rows as strings, and what a row number counts ('row' = line in a CSV file)."""
    if file_kind(path) == "csv":
        for encoding in ("utf-8-sig", "gb18030"):
            try:
                frame = pd.read_csv(path, dtype=str, keep_default_na=False, encoding=encoding)
                break
            except UnicodeDecodeError:
                continue
            except (pd.errors.ParserError, pd.errors.EmptyDataError) as exc:
                raise BadRequest(f"{path.name} is not a readable CSV file: {exc}") from None
        else:
            raise BadRequest(f"{path.name} is neither UTF-8 nor GB18030 text.")
        frame.columns = [str(c).strip().lower() for c in frame.columns]
        missing = [c for c in HOUSEHOLD_COLUMNS if c not in frame.columns]
        if missing:
            raise InvalidData(
                f"{path.name} lacks the column(s) {', '.join(missing)}; expected "
                f"{','.join(HOUSEHOLD_COLUMNS)}.",
                details={"missing": missing},
            )
        frame.index = frame.index + 2  # line numbers: the header is line 1
        return frame, "row"
    vector = read_vector(path)
    if vector.crs is not None and vector.crs.to_epsg() not in (4326, 4490):
        vector = vector.to_crs(4326)
    kinds = set(vector.geom_type.dropna().unique())
    if not kinds <= {"Point"}:
        raise InvalidData(f"Household features must be points, not {', '.join(sorted(kinds))}.")
    frame = pd.DataFrame(vector.drop(columns="geometry")).astype(str).replace("None", "")
    frame["lon"] = vector.geometry.x.astype(str).values
    frame["lat"] = vector.geometry.y.astype(str).values
    for column in HOUSEHOLD_COLUMNS:
        if column not in frame.columns:
            frame[column] = ""
    frame.index = frame.index + 1
    return frame, "feature"


def _household_faults(session, frame: pd.DataFrame, unit: str, system: str, scope: Scope):
    faults: list[dict] = []

    def fault(rows, field: str, message: str) -> None:
        faults.extend({unit: int(r), "field": field, "message": message} for r in rows)

    reasons = point_faults(frame["lon"].values, frame["lat"].values)
    for reason in {r for r in reasons if r}:
        fault(frame.index[reasons == reason], "lon/lat", POINT_FAULTS[reason])
    good = reasons == None  # noqa: E711  (element-wise)
    lon = pd.to_numeric(frame["lon"], errors="coerce").to_numpy()
    lat = pd.to_numeric(frame["lat"], errors="coerce").to_numpy()
    x, y = lon.copy(), lat.copy()
    writable = good.copy()
    if good.any():
        x[good], y[good] = geocrs.to_wgs84(lon[good], lat[good], system)
        where = np.full(len(frame), None, dtype=object)
        where[good] = point_write_faults(session, scope, x[good], y[good])
        for reason in (OUTSIDE_DISTRICT, OUTSIDE_REGION):
            fault(frame.index[where == reason], "lon/lat", f"the point {reason}")
        writable &= where == None  # noqa: E711  (element-wise)
    members = pd.to_numeric(frame["members"].replace("", "1"), errors="coerce")
    bad = members.isna() | (members % 1 != 0) | (members < 1) | (members > 100)
    fault(frame.index[bad.to_numpy()], "members", "members must be a whole number from 1 to 100")
    bad_phone = ~frame["phone"].str.fullmatch(PHONE)
    fault(
        frame.index[bad_phone.to_numpy()],
        "phone",
        "the phone number has characters other than digits, +, - and spaces, or more than 20",
    )
    tags = frame["tags"].map(lambda s: [t.strip() for t in TAG_SEPARATORS.split(s) if t.strip()])
    unknown = tags.map(lambda ts: [t for t in ts if t not in HOUSEHOLD_TAGS])
    for row, names in unknown[unknown.map(bool)].items():
        fault(
            [row], "tags", f"unknown tag(s) {', '.join(names)}; known: {', '.join(HOUSEHOLD_TAGS)}"
        )
    ids = frame["external_id"].str.strip()
    duplicated = ids.ne("") & ids.duplicated(keep="first")
    fault(
        frame.index[duplicated.to_numpy()], "external_id", "the external_id repeats an earlier row"
    )
    # A taken id is named only to a writer who may see its household; to anyone else the row
    # is a conflict without a reason, so that an import cannot probe for ids beyond its scope.
    # Rows the writer may not write at all have their fault already and say nothing more.
    taken = household_store.existing_external_ids(session, [i for i in ids.unique() if i])
    seen = {i for i, grid_id in taken.items() if scope.allows_grid(grid_id)}
    is_taken = ids.isin(taken).to_numpy() & writable
    is_seen = ids.isin(seen).to_numpy()
    fault(
        frame.index[is_taken & is_seen],
        "external_id",
        "a household with this external_id already exists",
    )
    fault(frame.index[is_taken & ~is_seen], "row", "the row conflicts with existing data")
    for column in ("address", "head_name"):
        too_long = frame[column].str.len() > (500 if column == "address" else 100)
        fault(frame.index[too_long.to_numpy()], column, f"{column} is too long")
    return faults, x, y, members, tags, ids


def import_households(
    session: Session,
    path: Path,
    *,
    scope: Scope,
    crs: str = "wgs84",
    progress: Progress = no_progress,
) -> HouseholdImport:
    """Check every row and import them all, or none (listing each bad row and why).

    ``scope`` is the writer's (``Scope.everything()`` for the CLI): every point must lie where
    they may write."""
    result = load_households(session, path, scope=scope, crs=crs, progress=progress)
    session.commit()
    return result


def load_households(
    session: Session,
    path: Path,
    *,
    scope: Scope,
    crs: str = "wgs84",
    progress: Progress = no_progress,
) -> HouseholdImport:
    """Check every row and add them all, or none; the caller commits."""
    frame, unit = _read_household_table(Path(path))
    return load_household_frame(session, frame, unit=unit, scope=scope, crs=crs, progress=progress)


def load_household_frame(
    session: Session,
    frame: pd.DataFrame,
    *,
    unit: str,
    scope: Scope,
    crs: str = "wgs84",
    progress: Progress = no_progress,
) -> HouseholdImport:
    """Check rows of strings (HOUSEHOLD_COLUMNS) and add them all, or none; the caller commits.

    The index numbers the rows in faults (``unit`` says what a number counts).
    """
    try:
        system = geocrs.parse_crs(crs)
    except ValueError as exc:
        raise InvalidData(str(exc), details={"field": "crs"}) from None
    if frame.empty:
        raise InvalidData("The file has no households.")
    faults, x, y, members, tags, ids = _household_faults(session, frame, unit, system, scope)
    refuse(faults, len(frame), f"{unit}s")
    rows = zip(
        [i or None for i in ids],
        x,
        y,
        frame["address"].str.strip(),
        frame["head_name"].str.strip(),
        frame["phone"].str.strip(),
        members.astype(int),
        tags,
    )
    imported = household_store.copy_households(session, rows, len(frame), progress)
    result = assign_households(session, "SELECT household_id FROM imported_households", {})
    return HouseholdImport(imported, result.assigned, result.uncovered)
