"""TileJSON 3.0.0 for each vector-tile layer, so MapLibre, QGIS and other clients can open it.

One document per layer (``/tiles/{layer}.json``): the tile URL template, the zooms served, the
bounds and centre of what the caller may see, and the layer's fields as the tiles carry them.
"""

from __future__ import annotations

import math

from sqlalchemy.orm import Session

from app.errors import NotFound
from app.services.coverage_map import MAX_TILE_ZOOM, TILE_LAYERS
from app.store import coverage as coverage_store
from app.store.scope import Scope
from app.store.tiles import POINT_ZOOM

TILEJSON_VERSION = "3.0.0"
AREA_FIELDS = {
    "id": "Number",
    "code": "String",
    "name": "String",
    "grids": "Number",
    "households": "Number",
    "workers": "Number",
    "households_per_worker": "Number",
    "vulnerable": "Number",
    "grids_without_worker": "Number",
}
HOUSEHOLD_FIELDS = {"count": "Number", "vulnerable": "Number", "uncovered": "Number"}
DESCRIPTIONS = {
    "grids": "Grids (网格) with households, vulnerable households and workers.",
    "communities": "Communities (社区/村) with their grids' figures summed.",
    "streets": "Streets and towns (街道/镇) with their grids' figures summed.",
    "households": (
        f"Households without personal data: counts per cell below zoom {POINT_ZOOM}, "
        "anonymous points from there on."
    ),
}
WORLD = (-180.0, -85.051129, 180.0, 85.051129)


def _center(bounds: tuple[float, float, float, float]) -> list[float]:
    """The middle of the bounds and the zoom at which they fill about one 512-pixel tile."""
    west, south, east, north = bounds
    span = max(east - west, north - south, 1e-9)
    zoom = max(0, min(MAX_TILE_ZOOM, math.floor(math.log2(360.0 / span))))
    return [round((west + east) / 2, 7), round((south + north) / 2, 7), zoom]


def tilejson(session: Session, scope: Scope, layer: str, tile_url: str) -> dict:
    """The TileJSON document of ``layer``; ``tile_url`` is the absolute ``{z}/{x}/{y}``
    template of its tiles."""
    if layer not in TILE_LAYERS:
        raise NotFound(
            f"No tile layer {layer[:40]!r}; the layers are {', '.join(TILE_LAYERS)}.",
            details={"field": "layer"},
        )
    found = coverage_store.live_bounds(session, scope.grid_ids)
    bounds = tuple(round(v, 7) for v in found) if found else WORLD
    fields = HOUSEHOLD_FIELDS if layer == "households" else AREA_FIELDS
    return {
        "tilejson": TILEJSON_VERSION,
        "name": f"Wangge {layer}",
        "description": DESCRIPTIONS[layer],
        "version": "1.0.0",
        "attribution": "Wangge 网格",
        "scheme": "xyz",
        "tiles": [tile_url],
        "minzoom": 0,
        "maxzoom": MAX_TILE_ZOOM,
        "bounds": list(bounds),
        "center": _center(bounds),
        "vector_layers": [
            {
                "id": layer,
                "description": DESCRIPTIONS[layer],
                "minzoom": 0,
                "maxzoom": MAX_TILE_ZOOM,
                "fields": dict(fields),
            }
        ],
    }
