"""Open311 service requests: posting one (an incident through the intake) and reading them.

Reading is public, as GeoReport v2 intends: the output is built from an explicit list of
columns that leaves out the contact's name and phone and the reporter, and phone or ID
numbers that someone typed into a description are masked.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.errors import BadRequest, InvalidData, NotFound
from app.models import OPEN_STATUSES, Department, Incident, IncidentCategory
from app.open311 import catalog
from app.open311.clients import authenticate
from app.services.calendar import SHANGHAI
from app.services.incidents import submit_incident
from app.services.locate import parse_lon_lat
from app.services.privacy import mask_free_text
from app.services.workflow import STATUS_NAMES
from app.store import address as address_store
from geo import crs as geocrs

DEFAULT_DAYS = 90
MAX_DESCRIPTION = 4000  # GeoReport v2: "free form text limited to 4,000 characters"
# An address_string that matches several household addresses still locates the request when
# they all lie this close to the best match (one building's units and rooms).
ADDRESS_SPREAD_M = 100
DEFAULT_LIMIT = 1000
MAX_IDS = 1000
MAX_ID = 2**63 - 1  # incidents.id is a bigint
OPEN311_STATUSES = ("open", "closed")
_ATTRIBUTE_KEY = re.compile(r"^attribute\[(.*)\]$")
_FROM_WGS84 = {
    "wgs84": lambda x, y: (x, y),
    "cgcs2000": lambda x, y: (x, y),
    "gcj02": geocrs.wgs84_to_gcj02,
    "bd09": geocrs.wgs84_to_bd09,
}


# --- posting ------------------------------------------------------------------------------


TEXT_FIELDS = (
    "service_code",
    "description",
    "address_string",
    "address_id",
    "first_name",
    "last_name",
    "phone",
    "crs",
)
NUMBER_FIELDS = ("lat", "long")


def _checked_fields(form: Mapping) -> dict:
    """The posted fields with their types checked: text is text, coordinates text or numbers.

    A JSON body could carry objects where text belongs, and NUL characters cannot be stored.
    """
    fields = dict(form)
    for field in TEXT_FIELDS + NUMBER_FIELDS:
        value = fields.get(field)
        allowed = (str, int, float) if field in NUMBER_FIELDS else (str,)
        if value is None:
            continue
        if isinstance(value, bool) or not isinstance(value, allowed):
            kind = "a number" if field in NUMBER_FIELDS else "text"
            raise BadRequest(f"{field} must be {kind}.", details={"field": field})
        if isinstance(value, str) and "\x00" in value:
            raise BadRequest(f"{field} contains a NUL character.", details={"field": field})
    return fields


def _required(form: Mapping, field: str) -> str:
    value = form.get(field)
    if value is None or not str(value).strip():
        raise BadRequest(f"{field} is required.", details={"field": field})
    return str(value).strip()


def _service_code(session: Session, form: Mapping) -> str:
    """The posted service_code: 400 when missing, 404 when no service has it (GeoReport)."""
    code = _required(form, "service_code")
    known = catalog.known_service_codes(session)
    if code not in known:
        raise NotFound(
            f"Unknown service_code {code!r}; known service codes: {', '.join(known)}.",
            details={"field": "service_code"},
        )
    return code


def _location(session: Session, form: Mapping) -> tuple[float, float]:
    """WGS84 lon/lat of the request: from ``lat``/``long``, else ``address_id``, else
    ``address_string`` (GeoReport: one of the three is required)."""
    if any(str(form.get(f) or "").strip() for f in NUMBER_FIELDS):
        return _point(form)
    if address_id := str(form.get("address_id") or "").strip():
        found = address_store.household_point(session, address_id[:64])
        if found is None:
            raise BadRequest(
                f"No address with address_id {address_id[:64]!r}.",
                details={"field": "address_id"},
            )
        return found
    if address := str(form.get("address_string") or "").strip():
        return _address_point(session, address)
    raise BadRequest(
        "A location is required: lat and long, address_string or address_id.",
        details={"field": "lat"},
    )


def _address_point(session: Session, address: str) -> tuple[float, float]:
    """The point of a household address: the one equal to ``address``, or the matches
    containing it when they are one place (within ``ADDRESS_SPREAD_M``)."""
    match = address_store.address_point(session, address) if len(address) >= 2 else None
    if match is None:
        raise BadRequest(
            "address_string matches no known address; send lat and long instead.",
            details={"field": "address_string"},
        )
    if not match.exact and match.spread_m > ADDRESS_SPREAD_M:
        raise BadRequest(
            f"address_string matches {match.addresses} addresses in different places; "
            "give the full address, or lat and long.",
            details={"field": "address_string"},
        )
    return match.lon, match.lat


def _point(form: Mapping) -> tuple[float, float]:
    """WGS84 lon/lat from ``long``/``lat`` in the system named by ``crs``; 400 when bad."""
    lon, lat = _required(form, "long"), _required(form, "lat")
    try:
        return parse_lon_lat(lon, lat, form.get("crs"))
    except InvalidData as exc:
        field = {"lon": "long"}.get(exc.details["field"], exc.details["field"])
        message = exc.message.replace("lon ", "long ", 1) if field == "long" else exc.message
        raise BadRequest(message, details={"field": field}) from None


def _attributes(form: Mapping) -> dict[str, str]:
    """``attribute[code]`` fields (form) or an ``attribute`` object (JSON), checked by code."""
    given = form.get("attribute")
    if given is not None and not isinstance(given, dict):
        raise BadRequest(
            "attribute must be an object of attribute codes and values.",
            details={"field": "attribute"},
        )
    values = dict(given or {})
    for key, value in form.items():
        if match := _ATTRIBUTE_KEY.match(key):
            values[match.group(1)] = value
    unknown = sorted(set(values) - catalog.VARIABLE_ATTRIBUTES)
    if unknown:
        raise BadRequest(
            f"Unknown attribute {unknown[0]!r}; accepted: "
            f"{', '.join(sorted(catalog.VARIABLE_ATTRIBUTES))}.",
            details={"field": f"attribute[{unknown[0]}]"},
        )
    for code, value in values.items():
        if not isinstance(value, str) or "\x00" in value:
            raise BadRequest(
                f"attribute[{code}] must be text without NUL characters.",
                details={"field": f"attribute[{code}]"},
            )
    return {k: v.strip() for k, v in values.items() if v.strip()}


def _contact_name(first: str | None, last: str | None) -> str | None:
    """Family name first for Chinese names (张 + 三), given name first otherwise."""
    first, last = (first or "").strip(), (last or "").strip()
    if not (first and last):
        return first or last or None
    if any("\u4e00" <= ch <= "\u9fff" for ch in first + last):
        return last + first
    return f"{first} {last}"


def _address(form: Mapping, attributes: Mapping[str, str]) -> str | None:
    parts = [str(form.get("address_string") or "").strip(), attributes.get(catalog.ADDRESS_DETAIL)]
    return " ".join(p for p in parts if p) or None


def _local(instant: datetime | None) -> str | None:
    return instant.astimezone(SHANGHAI).isoformat(timespec="seconds") if instant else None


def _notice(incident: Incident, duplicates) -> str:
    notice = "已受理。Received."
    if incident.deadline_at:
        day = incident.deadline_at.astimezone(SHANGHAI).strftime("%Y-%m-%d %H:%M")
        notice = f"已受理，预计 {day} 前办结。Received; expected by {day} (Asia/Shanghai)."
    if duplicates:
        ids = ", ".join(f"#{d.id}" for d in duplicates[:3])
        notice += f" 附近已有同类事件 {ids}。A similar open request is nearby: {ids}."
    return notice


def submit_request(session: Session, api_key: str | None, form: Mapping) -> list[dict]:
    """Check the key and the fields, take the incident in, and answer as GeoReport does.

    ``media_url`` is not fetched; ``email``, ``device_id`` and ``account_id`` are not kept.
    """
    client = authenticate(session, api_key)
    form = _checked_fields(form)
    code = _service_code(session, form)
    lon, lat = _location(session, form)
    attributes = _attributes(form)
    intake = submit_incident(
        session,
        category_code=code,
        description=form.get("description"),
        description_required=False,
        max_description=MAX_DESCRIPTION,
        lon=lon,
        lat=lat,
        crs="wgs84",
        channel="open311",
        address=_address(form, attributes),
        contact_name=_contact_name(form.get("first_name"), form.get("last_name")),
        contact_phone=form.get("phone"),
        open311_client_id=client.id,
    )
    incident = intake.incident
    return [
        {
            "service_request_id": str(incident.id),
            "service_notice": _notice(incident, intake.duplicates),
            "account_id": None,
        }
    ]


# --- reading ------------------------------------------------------------------------------


@dataclass(frozen=True)
class RequestFilter:
    ids: tuple[int, ...] = ()
    service_codes: tuple[str, ...] = ()
    start: datetime | None = None
    end: datetime | None = None
    statuses: tuple[str, ...] = ()
    crs: str = "wgs84"
    limit: int = DEFAULT_LIMIT


def _comma_list(args: Mapping, field: str) -> list[str]:
    return [part.strip() for part in str(args.get(field) or "").split(",") if part.strip()]


def _ids(args: Mapping) -> tuple[int, ...]:
    parts = _comma_list(args, "service_request_id")
    if len(parts) > MAX_IDS:
        raise BadRequest(
            f"At most {MAX_IDS} service_request_id values at once.",
            details={"field": "service_request_id"},
        )
    try:
        ids = tuple(int(p) for p in parts)
    except ValueError:
        ids = (-1,)
    if any(not 0 < i <= MAX_ID for i in ids):
        raise BadRequest(
            "service_request_id must be a comma-separated list of request numbers.",
            details={"field": "service_request_id"},
        )
    return ids


def _datetime(args: Mapping, field: str) -> datetime | None:
    """A W3C date-time (``2026-11-30T08:00:00Z``, ``...+08:00`` or a date); local if naive."""
    raw = str(args.get(field) or "").strip()
    if not raw:
        return None
    try:
        value = datetime.fromisoformat(raw)
    except ValueError:
        raise BadRequest(
            f"{field} must be a W3C date-time such as 2026-11-30T08:00:00+08:00, got {raw!r}.",
            details={"field": field},
        ) from None
    return value if value.tzinfo else value.replace(tzinfo=SHANGHAI)


def _statuses(args: Mapping) -> tuple[str, ...]:
    statuses = tuple(s.lower() for s in _comma_list(args, "status"))
    for status in statuses:
        if status not in OPEN311_STATUSES:
            raise BadRequest(
                f"Unknown status {status!r}: use open, closed or both (comma-separated).",
                details={"field": "status"},
            )
    return statuses


def _crs(args: Mapping) -> str:
    try:
        return geocrs.parse_crs(args.get("crs"))
    except ValueError as exc:
        raise BadRequest(f"crs: {exc}.", details={"field": "crs"}) from None


def parse_filter(args: Mapping, now: datetime | None = None) -> RequestFilter:
    """Query parameters as GeoReport defines them; without dates, the last 90 days."""
    ids = _ids(args)
    start, end = _datetime(args, "start_date"), _datetime(args, "end_date")
    if start and end and start > end:
        raise BadRequest("start_date is after end_date.", details={"field": "start_date"})
    if not ids and start is None:
        start = (end or now or datetime.now(UTC)) - timedelta(days=DEFAULT_DAYS)
    return RequestFilter(
        ids=ids,
        service_codes=tuple(_comma_list(args, "service_code")),
        start=None if ids else start,
        end=None if ids else end,
        statuses=_statuses(args),
        crs=_crs(args),
    )


# Only these columns are ever read for public output: no contact, no reporter.
_PUBLIC_COLUMNS = (
    Incident.id,
    Incident.status,
    Incident.description,
    Incident.address,
    Incident.created_at,
    Incident.updated_at,
    Incident.deadline_at,
    Incident.duplicate_of_id,
    Incident.needs_review,
    func.ST_X(Incident.geom).label("lon"),
    func.ST_Y(Incident.geom).label("lat"),
    IncidentCategory.code.label("service_code"),
    IncidentCategory.name.label("service_name"),
    Department.name.label("agency"),
)


# Requests residents made (the web form, the 12345 hotline, Open311 clients) are public;
# workers' patrol reports and internal API reports are not listed.
PUBLIC_CHANNELS = ("web", "hotline", "open311")


def _query(selection: RequestFilter):
    query = (
        select(*_PUBLIC_COLUMNS)
        .join(IncidentCategory, IncidentCategory.id == Incident.category_id)
        .outerjoin(Department, Department.id == Incident.department_id)
        .where(Incident.channel.in_(PUBLIC_CHANNELS))
        .order_by(Incident.created_at.desc(), Incident.id.desc())
        .limit(selection.limit)
    )
    if selection.ids:
        # GeoReport: a list of ids overrides every other filter.
        return query.where(Incident.id.in_(selection.ids))
    if selection.service_codes:
        query = query.where(IncidentCategory.code.in_(selection.service_codes))
    if selection.start:
        query = query.where(Incident.created_at >= selection.start)
    if selection.end:
        query = query.where(Incident.created_at <= selection.end)
    if set(selection.statuses) == {"open"}:
        query = query.where(Incident.status.in_(OPEN_STATUSES))
    elif set(selection.statuses) == {"closed"}:
        query = query.where(Incident.status.not_in(OPEN_STATUSES))
    return query


def public_description(text: str | None) -> str | None:
    """Mask the phone and ID numbers a reporter typed into a description, however spelt.

    >>> public_description("请联系 13812345678，身份证 51138119800101123X")
    '请联系 138****5678，身份证 511***********123X'
    """
    return mask_free_text(text)


def _status_notes(row) -> str:
    notes = f"{row.status.replace('_', ' ')} {STATUS_NAMES.get(row.status, row.status)}"
    if row.duplicate_of_id:
        notes += f"; duplicate of {row.duplicate_of_id} 与 #{row.duplicate_of_id} 重复"
    if row.needs_review:
        notes += "; awaiting routing 待人工分派"
    return notes


def _as_request(row, lon: float, lat: float) -> dict:
    return {
        "service_request_id": str(row.id),
        "status": "open" if row.status in OPEN_STATUSES else "closed",
        "status_notes": _status_notes(row),
        "service_name": row.service_name,
        "service_code": row.service_code,
        "description": public_description(row.description),
        "agency_responsible": row.agency,
        "service_notice": None,
        "requested_datetime": _local(row.created_at),
        "updated_datetime": _local(row.updated_at),
        "expected_datetime": _local(row.deadline_at),
        "address": public_description(row.address),
        "address_id": None,
        "zipcode": None,
        "lat": round(lat, 7),
        "long": round(lon, 7),
        # Photos are not published (they may show people); no public URL exists for them.
        "media_url": None,
    }


def list_requests(session: Session, selection: RequestFilter) -> list[dict]:
    """Service requests matching ``selection``, newest first, in the ``crs`` asked for."""
    rows = session.execute(_query(selection)).all()
    if not rows:
        return []
    xs, ys = _FROM_WGS84[selection.crs]([r.lon for r in rows], [r.lat for r in rows])
    return [_as_request(row, float(x), float(y)) for row, x, y in zip(rows, xs, ys, strict=True)]


def get_request(session: Session, request_id: str, crs: str | None = None) -> list[dict]:
    """One service request as a one-element list; 404 when there is none."""
    crs = _crs({"crs": crs})
    number = int(request_id) if request_id.isascii() and request_id.isdigit() else 0
    found = []
    if 0 < number <= MAX_ID:
        found = list_requests(session, RequestFilter(ids=(number,), crs=crs))
    if not found:
        raise NotFound(
            f"No service request {request_id!r}.", details={"field": "service_request_id"}
        )
    return found


__all__ = ["RequestFilter", "parse_filter", "submit_request", "list_requests", "get_request"]
