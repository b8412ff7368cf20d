"""Listing households: scoped by the data layer, masked by role, reads of personal data logged."""

from __future__ import annotations

from dataclasses import asdict

from sqlalchemy.orm import Session

from app.services.privacy import log_personal_read, mask_name, mask_phone
from app.store import households as store
from app.store.scope import Scope


def list_households(
    session: Session, scope: Scope, *, grid_code: str | None, limit: int, offset: int
) -> tuple[list[dict], int]:
    rows, total = store.households_in_scope(
        session, scope, grid_code=grid_code, limit=limit, offset=offset
    )
    items = [asdict(row) for row in rows]
    if scope.sees_personal_data:
        log_personal_read(session, scope, "households", [r.id for r in rows], "household list")
        session.commit()
    else:
        for item in items:
            item["head_name"] = mask_name(item["head_name"])
            item["phone"] = mask_phone(item["phone"])
    return items, total
