"""Locating a point in any supported coordinate system."""

from __future__ import annotations

from dataclasses import asdict

from sqlalchemy.orm import Session

from app.errors import BadRequest, InvalidData
from app.services.privacy import mask_free_text
from app.store.address import search_addresses
from app.store.locate import Location, locate_point
from app.store.scope import Scope
from geo import crs as geocrs


def parse_lon_lat(lon: object, lat: object, crs: str | None) -> tuple[float, float]:
    """Validate a coordinate pair named in ``crs`` and convert it to WGS84."""
    try:
        system = geocrs.parse_crs(crs)
    except ValueError as exc:
        raise InvalidData(str(exc), details={"field": "crs"}) from None
    values = {}
    for name, raw in (("lon", lon), ("lat", lat)):
        try:
            values[name] = float(raw)  # type: ignore[arg-type]
        except (TypeError, ValueError):
            raise InvalidData(
                f"{name} must be a number, got {raw!r}.", details={"field": name}
            ) from None
        if values[name] != values[name] or values[name] in (float("inf"), float("-inf")):
            raise InvalidData(f"{name} must be a finite number.", details={"field": name}) from None
    if not -180 <= values["lon"] <= 180:
        raise InvalidData("lon must be between -180 and 180.", details={"field": "lon"}) from None
    if not -90 <= values["lat"] <= 90:
        raise InvalidData("lat must be between -90 and 90.", details={"field": "lat"}) from None
    x, y = geocrs.to_wgs84(values["lon"], values["lat"], system)
    return float(x), float(y)


def parse_bbox(raw: str | None) -> tuple[float, float, float, float] | None:
    """A ``minlon,minlat,maxlon,maxlat`` filter (WGS84), or None when absent; 400 if malformed."""
    if not raw:
        return None
    try:
        x0, y0, x1, y1 = (float(v) for v in raw.split(","))
    except ValueError:
        raise BadRequest(
            "bbox must be four numbers: minlon,minlat,maxlon,maxlat.", details={"field": "bbox"}
        ) from None
    if not (-180 <= x0 < x1 <= 180 and -90 <= y0 < y1 <= 90):
        raise BadRequest(
            "bbox must satisfy -180 <= minlon < maxlon <= 180 and -90 <= minlat < maxlat <= 90.",
            details={"field": "bbox"},
        )
    return x0, y0, x1, y1


def locate(session: Session, lon: object, lat: object, crs: str | None = None) -> Location:
    x, y = parse_lon_lat(lon, lat, crs)
    return locate_point(session, x, y)


def find_addresses(session: Session, scope: Scope, query: str, *, limit: int) -> list[dict]:
    """Household addresses containing ``query`` anywhere in the district, to locate them.

    An address is free text a phone or ID number may have been typed into: it is shown as
    typed only to a role with personal data, inside its own scope.  Anyone else finds an
    address only by what they are shown of it, so that the search cannot confirm a number.
    """
    items = []
    for match in search_addresses(session, query, limit=limit):
        item = asdict(match)
        grid_id = item.pop("grid_id")
        if not (scope.sees_personal_data and scope.allows_grid(grid_id)):
            item["address"] = mask_free_text(item["address"])
            if query.lower() not in item["address"].lower():  # as ILIKE compares
                continue
        items.append(item)
    return items
