"""Masking personal data for roles that do not need it, and logging every read of it."""

from __future__ import annotations

import re
from collections.abc import Iterable

from sqlalchemy.orm import Session

from app.models import PersonalDataRead
from app.store.scope import Scope


def mask_phone(phone: str | None) -> str:
    """``13812341234`` -> ``138****1234``; short numbers keep only their last two digits."""
    digits = re.sub(r"\D", "", phone or "")
    if len(digits) >= 7:
        return digits[:3] + "****" + digits[-4:]
    return "*" * max(len(digits) - 2, 0) + digits[-2:] if digits else ""


def mask_name(name: str | None) -> str:
    """``张三`` -> ``张*``, ``欧阳娜娜`` -> ``欧***``."""
    name = (name or "").strip()
    return name[:1] + "*" * (len(name) - 1) if name else ""


def log_personal_read(
    session: Session, scope: Scope, subject: str, ids: Iterable[int], purpose: str
) -> None:
    """Record who read whose personal data; the caller's transaction commits it."""
    ids = list(ids)
    if ids:
        session.add(
            PersonalDataRead(
                user_id=scope.user_id, subject=subject, subject_ids=ids, purpose=purpose
            )
        )
