"""Outside systems' Open311 keys: issued once, stored only as their SHA-256, revocable."""

from __future__ import annotations

import hashlib
import secrets
from datetime import UTC, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.errors import BadRequest, Conflict, Forbidden, NotFound
from app.models import Open311Client

KEY_BYTES = 32


def key_digest(api_key: str) -> str:
    return hashlib.sha256(api_key.encode("utf-8")).hexdigest()


def issue_key(session: Session, name: str) -> str:
    """A new random key for the client ``name`` (created, or re-enabled after revocation).

    The key is returned once and never stored; an active client keeps its key until it is
    revoked, so a live integration is not cut off by mistake.
    """
    name = name.strip()
    if not name:
        raise BadRequest("A client name is required.", details={"field": "name"})
    key = secrets.token_urlsafe(KEY_BYTES)
    client = session.scalar(select(Open311Client).where(Open311Client.name == name))
    if client is None:
        session.add(Open311Client(name=name, key_sha256=key_digest(key)))
    elif client.revoked_at is None:
        raise Conflict(
            f"Open311 client {name!r} already has an active key; revoke it first to replace it.",
            details={"field": "name"},
        )
    else:
        client.key_sha256 = key_digest(key)
        client.revoked_at = None
    session.commit()
    return key


def revoke_key(session: Session, name: str, now: datetime | None = None) -> Open311Client:
    client = session.scalar(select(Open311Client).where(Open311Client.name == name))
    if client is None:
        raise NotFound(f"No Open311 client named {name!r}.", details={"field": "name"})
    if client.revoked_at is None:
        client.revoked_at = now or datetime.now(UTC)
        session.commit()
    return client


def authenticate(session: Session, api_key: object) -> Open311Client:
    """The active client holding ``api_key``; 403 for a missing, unknown or revoked key."""
    if not isinstance(api_key, str) or not api_key:
        raise Forbidden("An api_key is required to submit a service request.")
    client = session.scalar(
        select(Open311Client).where(
            Open311Client.key_sha256 == key_digest(api_key),
            Open311Client.revoked_at.is_(None),
        )
    )
    if client is None:
        raise Forbidden("The api_key is not valid or has been revoked.")
    return client
