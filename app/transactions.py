"""How a request's transaction ends: read-only ones commit, so they keep prepared statements.

Flask-SQLAlchemy ends every request by closing its session, which rolls back. psycopg
forgets every prepared statement on a ROLLBACK (an object they depend on may have been
dropped), so each request would plan its queries again: planning locate's one-statement
lookup takes 1.5-2 ms, more than running it. A transaction that wrote nothing (PostgreSQL
gave it no transaction id) and did not fail is ended with COMMIT instead, which is the same
thing to the database and keeps the statements. Anything that wrote, failed, or holds
unflushed ORM changes is rolled back as before.
"""

from __future__ import annotations

from flask import Flask
from psycopg.pq import TransactionStatus

from app.extensions import db


def commit_if_read_only(exc: BaseException | None = None) -> bool:
    """End the session's transaction with COMMIT if it only read; True if it did."""
    if exc is not None or not db.session.registry.has():
        return False
    session = db.session()
    if not session.in_transaction():
        return False
    if session.new or session.dirty or session.deleted:
        return False  # a commit would flush them
    driver = session.connection().connection.driver_connection  # psycopg's, for one check
    if driver.info.transaction_status != TransactionStatus.INTRANS:
        return False  # failed (INERROR) or not in a transaction at all
    if driver.execute("SELECT txid_current_if_assigned()").fetchone()[0] is not None:
        return False  # it wrote something: leave it to the rollback
    session.commit()
    return True


def init_app(app: Flask) -> None:
    # Teardown functions run in reverse order of registration: this one runs before
    # Flask-SQLAlchemy's (registered by db.init_app), which closes the session.
    app.teardown_appcontext(commit_if_read_only)
