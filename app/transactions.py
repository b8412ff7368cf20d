"""How a request's transactions begin and end.

**Autocommit views.** A view marked ``@autocommit`` reads with statements that each stand
alone (locate: the token check, then one statement). Its request runs in autocommit: no
BEGIN, COMMIT or check round trips, three of the five a request would otherwise make.

**Read-only requests commit.** Flask-SQLAlchemy ends every request by closing its session,
which rolls back. psycopg forgets every prepared statement on a ROLLBACK (an object they
depend on may have been dropped), so each request would plan its queries again: planning
locate's one-statement lookup takes 1.5-2 ms, more than running it. A transaction that wrote
nothing (PostgreSQL gave it no transaction id) and did not fail is ended with COMMIT instead,
which is the same thing to the database and keeps the statements. Anything that wrote,
failed, or holds unflushed ORM changes is rolled back as before.
"""

from __future__ import annotations

from collections.abc import Callable

from flask import Flask, current_app, request
from psycopg.pq import TransactionStatus
from sqlalchemy.engine import Connection

from app.extensions import db


def autocommit(view: Callable) -> Callable:
    """Mark a view whose statements each stand alone: its request runs in autocommit.

    Only for views that read, or whose every write is one statement complete in itself; a
    view that needs several statements to agree (one snapshot) must not be marked.
    """
    view.autocommit = True
    return view


def begin_autocommit_if_marked() -> None:
    """Before any statement of the request (the token check included): put the session's
    connection in autocommit if the view is marked. A session already inside a transaction
    that someone else began (bound to a Connection, as in the tests) is left alone."""
    view = current_app.view_functions.get(request.endpoint or "")
    if not getattr(view, "autocommit", False) or isinstance(db.session.get_bind(), Connection):
        return
    db.session.connection(execution_options={"isolation_level": "AUTOCOMMIT"})


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
    # The app's before_request functions run before its blueprints' (where the API checks
    # the login, and so the token).
    app.before_request(begin_autocommit_if_marked)
    # Teardown functions run in reverse order of registration: this one runs before
    # Flask-SQLAlchemy's (registered by db.init_app), which closes the session.
    app.teardown_appcontext(commit_if_read_only)
