"""What the coverage map shows, gathered for one user's scope."""

from __future__ import annotations

from dataclasses import dataclass

from flask_babel import gettext as _
from sqlalchemy.orm import Session

from app.errors import BadRequest, NotFound
from app.store import coverage as store
from app.store import tiles as tiles_store
from app.store.scope import Scope

LEVELS = ("street", "community", "grid")
# Beyond this many grids the table lists the busiest grids only (the map shows them all).
MAX_GRID_ROWS = 300
# Beyond this many grids (more than a few streets' worth) the map opens on the communities:
# at the zoom that shows them all, grids are a few pixels wide. One click shows the grids.
GRID_LEVEL_MAX_GRIDS = 2000


def choose_level(requested: str | None, grid_count: int) -> str:
    """The level the map opens on: the one asked for (``?level=``), else by the scope's size."""
    if requested is None or requested == "":
        return "grid" if grid_count <= GRID_LEVEL_MAX_GRIDS else "community"
    if requested not in LEVELS:
        raise BadRequest(
            _(
                "Unknown level: %(level)s; expected street, community or grid.",
                level=repr(requested[:40]),
            ),
            details={"field": "level"},
        )
    return requested


@dataclass(frozen=True)
class CoverageMapData:
    """Figures per unit at each level (no geometry: the map draws vector tiles)."""

    units: dict[str, list[dict]]  # level -> rows (code, name, households, workers, ...)
    grid_count: int
    uncovered_total: int
    bounds: tuple[float, float, float, float] | None

    @property
    def households(self) -> int:
        return sum(row["households"] for row in self.units["grid"])

    @property
    def grids_without_worker(self) -> int:
        return sum(1 for row in self.units["grid"] if row["workers"] == 0)

    def per_worker(self, level: str) -> list[float]:
        """Households per worker of the units of a level that have a worker."""
        return [
            row["households_per_worker"]
            for row in self.units[level]
            if row["households_per_worker"] is not None
        ]

    def table_rows(self, level: str) -> list[dict]:
        """The rows of the table; for many grids, the busiest and those without a worker."""
        rows = self.units[level]
        if len(rows) <= MAX_GRID_ROWS:
            return rows
        return sorted(
            rows,
            key=lambda r: (r["workers"] > 0, -(r["households_per_worker"] or r["households"])),
        )[:MAX_GRID_ROWS]


def coverage_map_data(session: Session, scope: Scope) -> CoverageMapData:
    units = tiles_store.unit_figures(session, scope.grid_ids)
    if scope.restricted:
        # Uncovered households are, by definition, outside any restricted user's grids.
        total = 0
    else:
        total = store.uncovered_household_count(session, None)
    bounds = store.live_bounds(session, scope.grid_ids)
    return CoverageMapData(units, len(units["grid"]), total, bounds)


# ----------------------------------------------------------------------------- vector tiles

TILE_LAYERS = ("grids", "communities", "streets", "households")
MAX_TILE_ZOOM = 22


def tile_address(z: str, x: str, y: str) -> tuple[int, int, int]:
    """Parse and check a tile address: integers, 0 <= z <= 22, 0 <= x, y < 2**z.

    Raises BadRequest for what is not a whole number and NotFound for a tile that does not
    exist.
    """
    values = {}
    for name, raw in (("z", z), ("x", x), ("y", y)):
        if not raw.isascii() or not raw.isdigit() or len(raw) > 9:
            raise BadRequest(
                f"The tile's {name} must be a whole number, not {raw[:20]!r}.",
                details={"field": name},
            )
        values[name] = int(raw)
    z_, x_, y_ = values["z"], values["x"], values["y"]
    if z_ > MAX_TILE_ZOOM:
        raise NotFound(
            f"No tiles beyond zoom {MAX_TILE_ZOOM}; asked for {z_}.", details={"field": "z"}
        )
    size = 2**z_
    for name, value in (("x", x_), ("y", y_)):
        if value >= size:
            raise NotFound(
                f"At zoom {z_} the tile {name} runs from 0 to {size - 1}; asked for {value}.",
                details={"field": name},
            )
    return z_, x_, y_


def coverage_tile(session: Session, scope: Scope, layer: str, z: str, x: str, y: str) -> bytes:
    """The Mapbox vector tile of ``layer`` at z/x/y within the scope (empty bytes: nothing)."""
    if layer not in TILE_LAYERS:
        raise NotFound(
            f"No tile layer {layer[:40]!r}; the layers are {', '.join(TILE_LAYERS)}.",
            details={"field": "layer"},
        )
    z_, x_, y_ = tile_address(z, x, y)
    if layer == "households":
        return tiles_store.household_tile(session, z_, x_, y_, scope.grid_ids)
    return tiles_store.area_tile(session, layer, z_, x_, y_, scope.grid_ids)
