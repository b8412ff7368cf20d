"""API tokens expire, can be revoked by id or per user, die with their user's deactivation,
and a refused token gets 401 with ``WWW-Authenticate: Bearer error="invalid_token"``."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select, update

from app.models import ApiToken
from tests.factories import add_user, build_world


@pytest.fixture
def users(session):
    build_world(session)
    add_user(session, "ops", "leader")
    add_user(session, "gis", "planner")
    session.commit()


def invoke(runner, *args):
    return runner.invoke(args=["wangge", *args])


def issue(runner, *args) -> tuple[str, int]:
    """(token, id) from issue-token: the token alone on stdout, its id on stderr."""
    result = invoke(runner, "issue-token", *args)
    assert result.exit_code == 0, result.output
    token = result.stdout.strip()
    assert re.fullmatch(r"wg_[A-Za-z0-9_-]{43}", token), result.stdout
    token_id = int(re.search(r"token id (\d+)", result.stderr).group(1))
    return token, token_id


def read_with(client, token: str):
    return client.get(
        "/api/v1/areas",
        query_string={"level": "grid"},
        headers={"Authorization": f"Bearer {token}"},
    )


def assert_invalid_token(response) -> None:
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"].startswith(
        'Bearer realm="wangge", error="invalid_token"'
    )
    assert response.get_json()["error"] == {
        "code": "unauthorized",
        "message": "The bearer token is unknown, expired or revoked.",
        "details": None,
    }


def test_a_token_expires_after_the_default_lifetime(runner, client, session, users):
    token, token_id = issue(runner, "ops")
    expires = session.scalar(select(ApiToken.expires_at).where(ApiToken.id == token_id))
    assert abs(expires - (datetime.now(UTC) + timedelta(days=90))) < timedelta(minutes=1)
    assert read_with(client, token).get_json()["total"] == 4
    session.execute(
        update(ApiToken)
        .where(ApiToken.id == token_id)
        .values(expires_at=datetime.now(UTC) - timedelta(seconds=1))
    )
    session.commit()
    assert_invalid_token(read_with(client, token))


def test_issue_token_takes_a_lifetime_in_days(runner, session, users):
    _, token_id = issue(runner, "ops", "--expires-days", "7")
    expires = session.scalar(select(ApiToken.expires_at).where(ApiToken.id == token_id))
    assert abs(expires - (datetime.now(UTC) + timedelta(days=7))) < timedelta(minutes=1)
    assert invoke(runner, "issue-token", "ops", "--expires-days", "0").exit_code == 2
    unknown = invoke(runner, "issue-token", "nobody")
    assert unknown.exit_code == 1 and "No user 'nobody'" in unknown.output


def test_revoke_token_by_id_revokes_only_that_token(runner, client, users):
    first, first_id = issue(runner, "ops")
    second, _ = issue(runner, "ops")
    result = invoke(runner, "revoke-token", str(first_id))
    assert (result.exit_code, result.output.strip()) == (0, "revoked 1 token")
    assert_invalid_token(read_with(client, first))
    assert read_with(client, second).status_code == 200
    again = invoke(runner, "revoke-token", str(first_id))
    assert again.exit_code == 1 and f"No live token with id {first_id}" in again.output


def test_revoke_token_for_a_user_revokes_all_of_theirs_and_no_one_elses(runner, client, users):
    tokens = [issue(runner, "ops")[0] for _ in range(2)]
    other, _ = issue(runner, "gis")
    result = invoke(runner, "revoke-token", "--user", "ops")
    assert (result.exit_code, result.output.strip()) == (0, "revoked 2 tokens")
    for token in tokens:
        assert_invalid_token(read_with(client, token))
    assert read_with(client, other).status_code == 200
    assert invoke(runner, "revoke-token").exit_code == 2


def test_a_deactivated_user_s_tokens_are_revoked(runner, client, session, users):
    token, token_id = issue(runner, "ops")
    result = invoke(runner, "deactivate-user", "ops")
    assert result.exit_code == 0, result.output
    assert_invalid_token(read_with(client, token))
    assert session.scalar(select(ApiToken.revoked_at).where(ApiToken.id == token_id)) is not None


def test_a_made_up_token_gets_invalid_token_and_no_token_gets_a_plain_challenge(client, users):
    assert_invalid_token(read_with(client, "wg_made-up"))
    bare = client.get("/api/v1/areas")
    assert bare.status_code == 401
    assert bare.headers["WWW-Authenticate"] == 'Bearer realm="wangge"'
