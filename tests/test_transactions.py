"""How requests begin and end their transactions (app.transactions): a view marked
``@autocommit`` runs without a transaction; otherwise a request that only read commits
(psycopg keeps its prepared statements), anything that wrote or failed is rolled back.

These requests run outside the per-test rolled-back transaction (whose writes would make
every request look like a writer): a second app on the same database, with probe routes,
and a scratch table dropped afterwards.
"""

from __future__ import annotations

import pytest
from sqlalchemy import create_engine, event, text
from sqlalchemy.exc import ProgrammingError

from app import create_app
from app.errors import BadRequest
from app.extensions import db
from app.transactions import autocommit


@pytest.fixture
def probe(app, database_url):
    """(client, endings, count_rows): endings lists 'commit' / 'rollback' per transaction."""
    admin = create_engine(database_url)
    with admin.begin() as conn:
        conn.execute(text("CREATE TABLE probe_writes (n integer NOT NULL)"))
    probe_app = create_app({**app.config, "SQLALCHEMY_DATABASE_URI": database_url})

    @probe_app.get("/probe/read")
    def read():
        return {"n": db.session.scalar(text("SELECT count(*) FROM probe_writes"))}

    @probe_app.get("/probe/write-then-refuse")  # GET: no CSRF token needed
    def write_then_refuse():
        db.session.execute(text("INSERT INTO probe_writes VALUES (1)"))
        raise BadRequest("refused after writing")

    @probe_app.get("/probe/failed-statement")
    def failed_statement():
        try:
            db.session.execute(text("SELECT no_such_column FROM probe_writes"))
        except ProgrammingError:
            raise BadRequest("the statement failed") from None

    @probe_app.get("/probe/unflushed")
    def unflushed():
        from app.models import User

        db.session.add(User(username="never-stored", role="worker", display_name="x"))
        return {"ok": True}

    def driver():
        return db.session.connection().connection.driver_connection

    @probe_app.get("/probe/autocommit")
    @autocommit
    def autocommitted():
        n = db.session.scalar(text("SELECT count(*) FROM probe_writes"))
        return {"autocommit": driver().autocommit, "n": n}

    @probe_app.get("/probe/autocommit-write")
    @autocommit
    def autocommitted_write():
        db.session.execute(text("INSERT INTO probe_writes VALUES (2)"))
        raise BadRequest("refused after a statement that stands alone")

    @probe_app.get("/probe/mode")
    def mode():
        return {"autocommit": driver().autocommit}

    endings: list[str] = []
    with probe_app.app_context():
        engine = db.engine
    event.listen(engine, "commit", lambda conn: endings.append("commit"))
    event.listen(engine, "rollback", lambda conn: endings.append("rollback"))

    def count_rows(sql: str) -> int:
        with admin.connect() as conn:
            return conn.scalar(text(sql))

    try:
        yield probe_app.test_client(), endings, count_rows
    finally:
        engine.dispose()
        with admin.begin() as conn:
            conn.execute(text("DROP TABLE probe_writes"))
        admin.dispose()


def test_a_request_that_only_read_commits(probe):
    client, endings, _ = probe
    response = client.get("/probe/read")
    assert response.get_json() == {"n": 0}
    assert endings == ["commit"]


def test_a_request_that_wrote_and_was_refused_is_rolled_back(probe):
    client, endings, count_rows = probe
    response = client.get("/probe/write-then-refuse")
    assert response.status_code == 400
    assert "refused after writing" in response.get_data(as_text=True)
    assert endings == ["rollback"]
    assert count_rows("SELECT count(*) FROM probe_writes") == 0


def test_a_request_whose_statement_failed_is_rolled_back(probe):
    client, endings, _ = probe
    response = client.get("/probe/failed-statement")
    assert response.status_code == 400
    assert endings == ["rollback"]
    assert client.get("/probe/read").get_json() == {"n": 0}  # the connection is usable


def test_unflushed_changes_are_not_committed(probe):
    client, endings, count_rows = probe
    assert client.get("/probe/unflushed").get_json() == {"ok": True}
    assert "commit" not in endings  # (no statement ran: no connection to roll back either)
    assert count_rows("SELECT count(*) FROM users WHERE username = 'never-stored'") == 0


def test_a_view_marked_autocommit_runs_without_a_transaction(probe):
    client, endings, _ = probe
    assert client.get("/probe/autocommit").get_json() == {"autocommit": True, "n": 0}
    assert "commit" not in endings
    # the pooled connection goes back to transactions for the next request
    assert client.get("/probe/mode").get_json() == {"autocommit": False}


def test_in_autocommit_each_statement_stands_alone(probe):
    client, _, count_rows = probe
    response = client.get("/probe/autocommit-write")
    assert response.status_code == 400
    # what the marker promises: a statement is kept at once, whatever the view does next
    assert count_rows("SELECT count(*) FROM probe_writes") == 1


def test_locate_is_marked_autocommit(app):
    assert app.view_functions["api.locate_view"].autocommit is True
