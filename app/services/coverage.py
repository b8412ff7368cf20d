"""The coverage report: overlaps, gaps, children outside their parent, uncovered households
and grids without a worker, each fault with its geometry."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import shapely
from sqlalchemy.orm import Session

from app.errors import NotFound
from app.store import areas as area_store
from app.store import coverage as store
from app.store.scope import Scope, visible_area_ids
from geo import coverage as geocoverage
from geo import geojson

MIN_FAULT_AREA_M2 = 1.0
CHILD_TOLERANCE_M = 0.5


@dataclass
class CoverageReport:
    area: str | None
    areas_checked: int = 0
    overlaps: list[dict] = field(default_factory=list)
    gaps: list[dict] = field(default_factory=list)
    outside_parent: list[dict] = field(default_factory=list)
    uncovered_households: int = 0
    grids_without_worker: list[dict] = field(default_factory=list)

    @property
    def clean(self) -> bool:
        return not (
            self.overlaps
            or self.gaps
            or self.outside_parent
            or self.uncovered_households
            or self.grids_without_worker
        )

    def to_dict(self) -> dict:
        return {
            "area": self.area,
            "areas_checked": self.areas_checked,
            "overlaps": self.overlaps,
            "gaps": self.gaps,
            "outside_parent": self.outside_parent,
            "uncovered_households": self.uncovered_households,
            "grids_without_worker": self.grids_without_worker,
        }

    def summary_lines(self) -> list[str]:
        lines = [
            f"areas checked: {self.areas_checked}",
            f"overlaps: {len(self.overlaps)}",
            *(f"  {o['a']} x {o['b']}: {o['area_m2']:.1f} m2" for o in self.overlaps[:20]),
            f"gaps: {len(self.gaps)} ({sum(g['area_m2'] for g in self.gaps):.0f} m2)",
            *(
                f"  in {g['parent']}: {g['area_m2']:.0f} m2 near "
                f"{g['centroid'][0]:.5f},{g['centroid'][1]:.5f}"
                for g in self.gaps[:20]
            ),
            f"children outside their parent: {len(self.outside_parent)}",
            *(
                f"  {o['code']} outside {o['parent']}: {o['area_m2']:.1f} m2"
                for o in self.outside_parent[:20]
            ),
            f"households outside every grid: {self.uncovered_households}",
            f"grids without a worker: {len(self.grids_without_worker)}",
            *(f"  {g['code']} {g['name']}" for g in self.grids_without_worker[:20]),
        ]
        return lines


def coverage_report(
    session: Session, area_code: str | None = None, scope: Scope | None = None
) -> CoverageReport:
    """Check the live areas at and below ``area_code`` (or everything) that ``scope`` (or,
    without one, the CLI) may see."""
    area = area_store.live_area(session, area_code) if area_code is not None else None
    visible = visible_area_ids(session, scope.grid_ids) if scope is not None else None
    if area_code is not None and (area is None or (visible is not None and area.id not in visible)):
        raise NotFound(f"No live area with code {area_code!r}.")
    rows = store.live_areas_under(session, area_code)
    if visible is not None:
        rows = [r for r in rows if r.id in visible]
    report = CoverageReport(area=area_code, areas_checked=len(rows))
    if not rows:
        return report
    geoms = shapely.from_wkb([bytes(r.wkb) for r in rows])
    by_id = {r.id: (r, g) for r, g in zip(rows, geoms)}
    children: dict[int, list[int]] = {}
    for r in rows:
        if r.parent_id in by_id:
            children.setdefault(r.parent_id, []).append(r.id)

    for parent_id, child_ids in children.items():
        parent, parent_geom = by_id[parent_id]
        kids = np.array([by_id[c][1] for c in child_ids])
        codes = [by_id[c][0].code for c in child_ids]
        for o in geocoverage.find_overlaps(kids, codes, min_area_m2=MIN_FAULT_AREA_M2):
            report.overlaps.append(
                {
                    "parent": parent.code,
                    "a": o.a_id,
                    "b": o.b_id,
                    "area_m2": round(o.area_m2, 2),
                    "geometry": geojson.mapping(o.geometry),
                }
            )
        for o in geocoverage.children_outside(
            parent_geom, kids, codes, tolerance_m=CHILD_TOLERANCE_M
        ):
            report.outside_parent.append(
                {
                    "parent": parent.code,
                    "code": o.id,
                    "area_m2": round(o.area_m2, 2),
                    "geometry": geojson.mapping(o.geometry),
                }
            )
        # Grids should cover their community; elsewhere partial cover is normal (rural towns).
        if parent.level == "community":
            for g in geocoverage.find_gaps(parent_geom, kids, min_area_m2=MIN_FAULT_AREA_M2):
                report.gaps.append(
                    {
                        "parent": parent.code,
                        "area_m2": round(g.area_m2, 1),
                        "centroid": list(g.centroid),
                        "geometry": geojson.mapping(g.geometry),
                    }
                )

    grid_ids = [r.id for r in rows if r.level == "grid"]
    report.grids_without_worker = [
        {"code": code, "name": name} for code, name in store.grids_without_worker(session, grid_ids)
    ]
    report.uncovered_households = store.uncovered_household_count(session, area_code, visible)
    return report
