"""What the coverage map shows, gathered for one user's scope."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.orm import Session

from app.store import coverage as store
from app.store.scope import Scope

MAX_UNCOVERED_MARKERS = 5_000


@dataclass(frozen=True)
class CoverageMapData:
    grids: list[dict]  # GeoJSON features
    communities: list[dict]
    uncovered: list[tuple[float, float]]
    uncovered_total: int
    bounds: tuple[float, float, float, float] | None

    @property
    def households(self) -> int:
        return sum(f["properties"]["households"] for f in self.grids)

    @property
    def grids_without_worker(self) -> list[dict]:
        return [f for f in self.grids if not f["properties"]["has_worker"]]


def coverage_map_data(session: Session, scope: Scope) -> CoverageMapData:
    grids = store.grid_features(session, scope.grid_ids)
    communities = store.community_features(session, scope.grid_ids)
    if scope.restricted:
        # Uncovered households are, by definition, outside any restricted user's grids.
        uncovered, total = [], 0
    else:
        uncovered, total = store.uncovered_points(session, MAX_UNCOVERED_MARKERS)
    bounds = store.live_bounds(session, scope.grid_ids)
    return CoverageMapData(grids, communities, uncovered, total, bounds)
