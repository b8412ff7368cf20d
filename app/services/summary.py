"""Headline figures for the home page."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import text
from sqlalchemy.orm import Session

from app.store.scope import Scope


@dataclass(frozen=True)
class Summary:
    district: str | None
    streets: int
    communities: int
    grids: int
    households: int
    uncovered: int
    grids_without_worker: int


def district_summary(session: Session, scope: Scope) -> Summary:
    grid_filter = "" if scope.grid_ids is None else "AND a.id = ANY(:grid_ids)"
    params = {} if scope.grid_ids is None else {"grid_ids": list(scope.grid_ids)}
    row = session.execute(
        text(
            f"""
            SELECT
              (SELECT name FROM areas WHERE level = 'district' AND valid_to IS NULL
               ORDER BY code LIMIT 1) AS district,
              (SELECT count(*) FROM areas WHERE level = 'street' AND valid_to IS NULL) AS streets,
              (SELECT count(*) FROM areas WHERE level = 'community' AND valid_to IS NULL)
                AS communities,
              (SELECT count(*) FROM areas a WHERE level = 'grid' AND valid_to IS NULL
               {grid_filter}) AS grids,
              (SELECT count(*) FROM household_grid hg JOIN areas a ON a.id = hg.grid_id
               WHERE true {grid_filter}) AS households,
              (SELECT count(*) FROM households h WHERE NOT EXISTS (
                 SELECT 1 FROM household_grid hg WHERE hg.household_id = h.id)) AS uncovered,
              (SELECT count(*) FROM areas a WHERE level = 'grid' AND valid_to IS NULL
               {grid_filter}
               AND NOT EXISTS (SELECT 1 FROM worker_grids w WHERE w.grid_id = a.id))
                AS grids_without_worker
            """
        ),
        params,
    ).one()
    uncovered = row.uncovered if scope.grid_ids is None else 0
    return Summary(**{**row._mapping, "uncovered": uncovered})
