"""The bell: my notifications and marking them read."""

from __future__ import annotations

from flask import jsonify, request
from flask_login import current_user

from app.api import bp, schemas
from app.api.openapi import documented
from app.extensions import db
from app.services import notifications


@bp.get("/notifications")
@documented()
def notifications_view():
    """My latest notifications and how many are unread."""
    items = notifications.recent(db.session, current_user.id)
    return jsonify(
        {
            "unread": notifications.unread_count(db.session, current_user.id),
            "items": [
                {
                    "id": n.id,
                    "kind": n.kind,
                    "message": n.message,
                    "incident_id": n.incident_id,
                    "created_at": n.created_at.isoformat(),
                    "read": n.read_at is not None,
                }
                for n in items
            ],
        }
    )


@bp.post("/notifications/read")
@documented(body=schemas.NotificationsRead)
def notifications_read_view():
    """Mark some (ids) or all of my notifications read."""
    body = schemas.parse_body(schemas.NotificationsRead) if request.content_length else None
    count = notifications.mark_read(db.session, current_user.id, body.ids if body else None)
    return jsonify(
        {"marked": count, "unread": notifications.unread_count(db.session, current_user.id)}
    )
