"""Locating a point in any supported coordinate system."""

from __future__ import annotations

from sqlalchemy.orm import Session

from app.errors import InvalidData
from app.store.locate import Location, locate_point
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


def locate(session: Session, lon: object, lat: object, crs: str | None = None) -> Location:
    x, y = parse_lon_lat(lon, lat, crs)
    return locate_point(session, x, y)
