"""Assigning households (and re-routing open incidents) to grids."""

from __future__ import annotations

import time
from dataclasses import dataclass, field

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.errors import NotFound
from app.models import Area, AssignmentRun
from app.store import assignment as store
from app.store.assignment import AssignmentResult, Move


@dataclass(frozen=True)
class Reassignment:
    households: AssignmentResult
    incidents: list[Move] = field(default_factory=list)

    @property
    def incidents_moved(self) -> int:
        return sum(m.households for m in self.incidents)


def _record(session: Session, kind: str, result: AssignmentResult, started: float, **kw) -> None:
    session.add(
        AssignmentRun(
            kind=kind,
            assigned=result.assigned,
            uncovered=result.uncovered,
            moved=result.moved,
            seconds=time.perf_counter() - started,
            **kw,
        )
    )


def assign_all(session: Session, *, actor_id: int | None = None) -> AssignmentResult:
    """(Re)assign every household to its grid, in one transaction."""
    started = time.perf_counter()
    now = session.scalar(select(func.now()))
    result = store.assign_everything(session, now)
    _record(session, "bulk", result, started, created_by=actor_id)
    session.commit()
    return result


def reassign_region(
    session: Session, region_ewkt: str, *, actor_id: int | None = None, area_id: int | None = None
) -> Reassignment:
    """Reassign only the households, and re-route only the open incidents, in a region.

    For use inside a service that changed grid boundaries: the caller owns the transaction
    and passes the region that changed (old and new geometry's symmetric difference).
    """
    started = time.perf_counter()
    now = session.scalar(select(func.now()))
    store.compute_in_region(session, region_ewkt)
    households = store.apply_fresh_assignment(session, now=now)
    incidents = store.reroute_open_incidents(session, region_ewkt)
    _record(session, "incremental", households, started, created_by=actor_id, area_id=area_id)
    return Reassignment(households, incidents)


def assign_area(session: Session, area_code: str, *, actor_id: int | None = None) -> Reassignment:
    """Reassign the households inside one area (of any level), in one transaction."""
    area = session.scalar(select(Area).where(Area.code == area_code, Area.valid_to.is_(None)))
    if area is None:
        raise NotFound(f"No live area with code {area_code!r}.")
    region = session.scalar(select(func.ST_AsEWKT(area.geom)))
    result = reassign_region(session, region, actor_id=actor_id, area_id=area.id)
    session.commit()
    return result


def assign_households(session: Session, ids_sql: str, params: dict) -> AssignmentResult:
    """Assign a given set of households (e.g. just imported); the caller commits."""
    now = session.scalar(select(func.now()))
    store.compute_for_households(session, ids_sql, params)
    return store.apply_fresh_assignment(session, now=now)
