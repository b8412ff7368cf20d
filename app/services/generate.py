"""Generating a community's grids: preview first, then commit (replacing its grids)."""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np
import shapely
from geoalchemy2.shape import from_shape, to_shape
from sqlalchemy import text
from sqlalchemy.orm import Session

from app.errors import Conflict, InvalidData, NotFound
from app.models import Area, default_area_name
from app.services.areas import (
    AreaChange,
    new_codes,
    reassign_if_grid,
    require_editable,
    wall_clock,
)
from app.store import areas as store
from geo import generate
from geo.assign import UNCOVERED, assign_points
from geo.geojson import mapping

KINDS = ("square", "hexagon", "balanced")
MAX_CELLS = 2_000


@dataclass
class GridPlan:
    community: str
    kind: str
    cells: list
    codes: list[str]
    households: list[int]
    seconds: float

    def to_dict(self) -> dict:
        counts = np.asarray(self.households) if self.households else np.zeros(1)
        return {
            "type": "FeatureCollection",
            "features": [
                {
                    "type": "Feature",
                    "id": code,
                    "geometry": mapping(cell),
                    "properties": {"code": code, "households": n},
                }
                for code, cell, n in zip(self.codes, self.cells, self.households)
            ],
            "summary": {
                "community": self.community,
                "kind": self.kind,
                "grids": len(self.cells),
                "households": int(counts.sum()),
                "min": int(counts.min()),
                "max": int(counts.max()),
                "mean": round(float(counts.mean()), 1),
                "seconds": round(self.seconds, 3),
            },
        }


def _community(session: Session, code: str) -> Area:
    area = store.live_area(session, code)
    if area is None:
        raise NotFound(f"No live area with code {code!r}.")
    if area.level != "community":
        raise InvalidData(f"Grids are generated inside a community; {code} is a {area.level}.")
    return area


def _household_points(session: Session, area: Area) -> np.ndarray:
    rows = session.execute(
        text(
            "SELECT ST_X(h.geom), ST_Y(h.geom) FROM households h "
            "WHERE ST_Intersects(h.geom, (SELECT geom FROM areas WHERE id = :id))"
        ),
        {"id": area.id},
    ).all()
    return np.asarray(rows, dtype=float).reshape(-1, 2)


def _number(value, name: str, low: float, high: float, integer: bool = False):
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise InvalidData(f"{name} must be a number from {low} to {high}.", details={"field": name})
    if integer and value != int(value) or not low <= value <= high:
        raise InvalidData(
            f"{name} must be a {'whole ' if integer else ''}number from {low} to {high}.",
            details={"field": name},
        )
    return int(value) if integer else float(value)


def plan_grids(session: Session, community_code: str, kind: str, options: dict) -> GridPlan:
    """Cells for a community by one of the generators, with households counted per cell."""
    started = time.perf_counter()
    community = _community(session, community_code)
    geom = to_shape(community.geom)
    points = _household_points(session, community)
    if kind == "square":
        cells = generate.square_cells(geom, _number(options.get("cell_m"), "cell_m", 50, 5000))
    elif kind == "hexagon":
        resolution = _number(options.get("resolution"), "resolution", 6, 11, integer=True)
        cells = generate.hexagon_cells(geom, resolution)
    elif kind == "balanced":
        target = _number(
            options.get("target_households"), "target_households", 20, 5000, integer=True
        )
        seed = _number(options.get("seed", 0), "seed", 0, 2**31, integer=True)
        cells = generate.balanced_cells(geom, points, target, np.random.default_rng(seed))
    else:
        raise InvalidData(
            f"Unknown generator {kind!r}; expected one of {', '.join(KINDS)}.",
            details={"field": "kind"},
        )
    if len(cells) > MAX_CELLS:
        raise InvalidData(f"That makes {len(cells)} grids; at most {MAX_CELLS}: use larger cells.")
    cells = [shapely.MultiPolygon(generate.partition.polygonal_parts_of(c)) for c in cells]
    index = assign_points(points, np.asarray(cells, dtype=object)) if len(points) else []
    counts = np.bincount(np.asarray(index)[np.asarray(index) != UNCOVERED], minlength=len(cells))
    codes = new_codes(session, community, "grid", cells)
    order = np.argsort(codes)
    return GridPlan(
        community_code,
        kind,
        [cells[i] for i in order],
        [codes[i] for i in order],
        [int(counts[i]) for i in order],
        time.perf_counter() - started,
    )


def commit_grids(
    session: Session, actor_id: int | None, community_code: str, kind: str, options: dict
) -> AreaChange:
    """Replace a community's grids by a generated set, in one transaction."""
    community = _community(session, community_code)
    require_editable(session, actor_id, community)
    store.lock_children_of(session, community.id)
    plan = plan_grids(session, community_code, kind, options)
    old = session.scalars(
        text("SELECT id FROM areas WHERE parent_id = :id AND level = 'grid' AND valid_to IS NULL"),
        {"id": community.id},
    ).all()
    if session.scalar(
        text("SELECT count(*) FROM areas WHERE parent_id = ANY(:ids) AND valid_to IS NULL"),
        {"ids": list(old)},
    ):
        raise Conflict("Some grids of this community have micro-grids; retire them first.")
    now = wall_clock(session)
    retired = session.scalars(
        text(
            "UPDATE areas SET valid_to = :now, updated_by = :actor WHERE id = ANY(:ids) "
            "RETURNING code"
        ),
        {"now": now, "actor": actor_id, "ids": list(old)},
    ).all()
    session.add_all(
        Area(
            code=code,
            name=default_area_name(code, "grid"),
            level="grid",
            parent_id=community.id,
            geom=from_shape(cell, srid=4326),
            updated_by=actor_id,
        )
        for code, cell in zip(plan.codes, plan.cells)
    )
    session.flush()
    moved = reassign_if_grid(session, "grid", to_shape(community.geom), actor_id)
    session.commit()
    return AreaChange(None, created=plan.codes, retired=sorted(retired), reassignment=moved)
