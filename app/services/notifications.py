"""In-app notifications (the bell) and the webhook outbox for departments' outside systems.

Both are written in the caller's transaction, so a notice exists exactly when the change it
reports was committed.  Webhooks are delivered afterwards by ``deliver_webhooks`` (the
``deliver-webhooks`` command), retried with back-off, never inside a user's request.
"""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from app.models import Department, Notification, WebhookDelivery
from app.services.privacy import mask_free_text

WEBHOOK_TIMEOUT_S = 5
FREE_TEXT_FIELDS = frozenset({"description", "address", "note"})
MAX_ATTEMPTS = 8


def notify(
    session: Session,
    user_ids: Iterable[int | None],
    *,
    kind: str,
    message: str,
    incident_id: int | None = None,
) -> int:
    """Add one unread notice per distinct user; returns how many were added."""
    users = sorted({u for u in user_ids if u is not None})
    session.add_all(
        Notification(user_id=u, kind=kind, message=message, incident_id=incident_id) for u in users
    )
    return len(users)


def unread_count(session: Session, user_id: int) -> int:
    return session.scalar(
        select(func.count())
        .select_from(Notification)
        .where(Notification.user_id == user_id, Notification.read_at.is_(None))
    )


def recent(session: Session, user_id: int, *, limit: int = 30) -> list[Notification]:
    return list(
        session.scalars(
            select(Notification)
            .where(Notification.user_id == user_id)
            .order_by(Notification.id.desc())
            .limit(limit)
        )
    )


def mark_read(session: Session, user_id: int, ids: Iterable[int] | None = None) -> int:
    """Mark the user's notices read (all of them when ``ids`` is None); returns how many."""
    stmt = update(Notification).where(
        Notification.user_id == user_id, Notification.read_at.is_(None)
    )
    if ids is not None:
        stmt = stmt.where(Notification.id.in_(list(ids)))
    count = session.execute(stmt.values(read_at=func.now())).rowcount
    session.commit()
    return count


def queue_webhook(
    session: Session,
    department_id: int | None,
    *,
    event: str,
    payload: dict,
    incident_id: int | None = None,
) -> bool:
    """Queue a call to the department's webhook, if it has one; returns whether one was queued."""
    if department_id is None:
        return False
    url = session.scalar(select(Department.webhook_url).where(Department.id == department_id))
    if not url:
        return False
    # An outside system gets no personal data: numbers typed into free text are masked
    # before the payload is even stored in the outbox.
    payload = {
        key: mask_free_text(value) if key in FREE_TEXT_FIELDS and isinstance(value, str) else value
        for key, value in payload.items()
    }
    session.add(
        WebhookDelivery(
            department_id=department_id, incident_id=incident_id, event=event, payload=payload
        )
    )
    return True


def _post(url: str, body: dict) -> None:
    data = json.dumps(body, ensure_ascii=False, default=str).encode()
    request = urllib.request.Request(
        url, data=data, method="POST", headers={"Content-Type": "application/json"}
    )
    with urllib.request.urlopen(request, timeout=WEBHOOK_TIMEOUT_S) as response:
        response.read(1024)


def deliver_webhooks(session: Session, *, now: datetime | None = None, limit: int = 200) -> dict:
    """Send due deliveries; failures are retried with exponential back-off up to MAX_ATTEMPTS."""
    now = now or datetime.now(UTC)
    due = session.execute(
        select(WebhookDelivery, Department.webhook_url)
        .join(Department, Department.id == WebhookDelivery.department_id)
        .where(
            WebhookDelivery.delivered_at.is_(None),
            WebhookDelivery.attempts < MAX_ATTEMPTS,
            WebhookDelivery.next_attempt_at <= now,
        )
        .order_by(WebhookDelivery.id)
        .limit(limit)
        .with_for_update(of=WebhookDelivery, skip_locked=True)
    ).all()
    sent = failed = 0
    for delivery, url in due:
        delivery.attempts += 1
        try:
            if not url:
                raise ValueError("the department no longer has a webhook URL")
            _post(url, {"event": delivery.event, "id": delivery.id, **delivery.payload})
        except (OSError, ValueError, urllib.error.URLError) as exc:
            failed += 1
            delivery.last_error = str(exc)[:500]
            delivery.next_attempt_at = now + timedelta(minutes=2**delivery.attempts)
        else:
            sent += 1
            delivery.delivered_at = now
            delivery.last_error = None
    session.commit()
    return {"sent": sent, "failed": failed}


def set_department_webhook(session: Session, code: str, url: str | None) -> Department:
    """Set (or with None clear) where a department's outside system wants incident events."""
    from urllib.parse import urlsplit

    from app.errors import InvalidData, NotFound

    department = session.scalar(select(Department).where(Department.code == code))
    if department is None:
        raise NotFound(f"No department {code!r}.")
    if url is not None:
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname or len(url) > 500:
            raise InvalidData(
                f"A webhook must be an http(s) URL of at most 500 characters, got {url!r}.",
                details={"field": "url"},
            )
    department.webhook_url = url
    session.commit()
    return department
