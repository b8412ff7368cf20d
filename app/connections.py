"""Pooled connections the database has closed are replaced before a request gets them.

When PostgreSQL ends a session (pg_terminate_backend, a restart, idle_session_timeout), it
sends the client an error and closes the socket; an idle pooled connection then has bytes
(or end-of-file) waiting where nothing should be. Checking the socket for that at checkout
is one poll() system call, a few microseconds, where SQLAlchemy's pre-ping is a round trip
to the server (a SELECT 1) on every checkout. A connection found readable is discarded and
the pool hands out a fresh one, so the request that follows the kill succeeds.

What the check cannot see, a connection silently lost on the network, pool_recycle bounds;
WANGGE_DB_PRE_PING=1 adds the full pre-ping for networks that drop idle connections. A
connection killed while a request is using it fails that request only: SQLAlchemy marks it
invalid and does not return it to the pool.
"""

from __future__ import annotations

import select

from flask import Flask
from sqlalchemy import event
from sqlalchemy.exc import DisconnectionError

from app.extensions import db


def closed_by_server(dbapi_connection) -> bool:
    """True if the idle connection is closed, or the server has sent it something unasked
    (which for an idle session is its termination notice or end-of-file)."""
    if dbapi_connection.closed:
        return True
    try:
        fd = dbapi_connection.pgconn.socket
    except Exception:  # psycopg raises when the connection has no socket any more
        return True
    poller = select.poll()
    poller.register(fd, select.POLLIN | select.POLLPRI)
    return bool(poller.poll(0))


def _on_checkout(dbapi_connection, connection_record, connection_proxy) -> None:
    if closed_by_server(dbapi_connection):
        # The pool closes this one and retries the checkout with a new connection.
        raise DisconnectionError("connection closed by the server while idle in the pool")


def init_app(app: Flask) -> None:
    with app.app_context():
        for engine in db.engines.values():
            if engine.dialect.driver == "psycopg" and not event.contains(
                engine, "checkout", _on_checkout
            ):
                event.listen(engine, "checkout", _on_checkout)
