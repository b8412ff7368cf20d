"""Schemathesis over the OpenAPI document, in process (WSGI), as an admin and as a worker.

Every operation gets a bounded, deterministic number of generated requests, valid per the
document and deliberately invalid ones; none may answer 5xx, and every answer must match the
status codes, content types and schemas the document declares.  Writes happen inside the
test's rolled-back transaction (see ``tests/conftest.py``): nothing outlives the test.
"""

from __future__ import annotations

import os
import time
from collections import Counter

import pytest
import schemathesis
from flask import g
from hypothesis import HealthCheck, Phase, given, settings
from schemathesis.checks import not_a_server_error
from schemathesis.generation import GenerationMode
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from app.services.auth import issue_token
from tests.factories import add_category, add_incident, add_user, build_world

EXAMPLES = int(os.environ.get("WANGGE_FUZZ_EXAMPLES", "20"))
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]


def fuzz_operation(
    operation, mode, headers, statuses: Counter, failures: list[str], refused: Counter
):
    """``EXAMPLES`` generated requests to one operation; failures are collected, not shrunk.

    ``refused`` counts, per operation, requests valid per the document (positive mode) that
    the server refused as invalid (400/422): each one is a rule the document does not state.
    403/404 are not counted: ids and scope are legitimately the server's to refuse.
    """

    @given(case=operation.as_strategy(generation_mode=mode))
    @settings(
        max_examples=EXAMPLES,
        derandomize=True,
        database=None,
        deadline=None,
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    def run(case):
        vars(g._get_current_object()).clear()  # a fresh request, as in production
        response = case.call(headers=headers)
        statuses[response.status_code] += 1
        if mode is GenerationMode.POSITIVE and response.status_code in (400, 422):
            refused[operation.label] += 1
        try:
            case.validate_response(response, checks=CHECKS, headers=headers)
        except (AssertionError, BaseExceptionGroup) as exc:  # check failures, one or more
            found = getattr(exc, "exceptions", (exc,))
            failures.extend(
                f"{operation.label} [{mode}] -> {response.status_code}: "
                f"{' '.join(str(e).split())[:300]}"
                for e in found
            )

    run()


def fuzz(app, token: str) -> tuple[Counter, list[str], int, Counter]:
    """Every operation, valid then invalid cases.

    Returns (statuses, failures, operations, valid-per-document requests refused per operation).
    """
    headers = {"Authorization": f"Bearer {token}"}
    schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app, headers=headers)
    statuses: Counter = Counter()
    failures: list[str] = []
    refused: Counter = Counter()
    operations = 0
    for result in schema.get_all_operations():
        operations += 1
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
            fuzz_operation(result.ok(), mode, headers, statuses, failures, refused)
    return statuses, failures, operations, refused


@pytest.fixture
def world(session):
    world = build_world(session)
    category = add_category(session)
    add_incident(session, world, "NW", category)
    add_user(session, "fuzz-admin", "admin")
    add_user(session, "fuzz-worker", "worker", grids=[world.grids["NW"]])
    tokens = {role: issue_token(session, f"fuzz-{role}") for role in ("admin", "worker")}
    session.commit()
    return tokens


@pytest.mark.parametrize("role", ["admin", "worker"])
def test_schemathesis_finds_no_server_error_and_no_schema_violation(app, world, role, capsys):
    started = time.monotonic()
    statuses, failures, operations, refused = fuzz(app, world[role])
    requests = sum(statuses.values())
    with capsys.disabled():
        print(
            f"\nfuzz as {role}: {operations} operations, {requests} requests in "
            f"{time.monotonic() - started:.0f} s, statuses {dict(sorted(statuses.items()))}"
        )
        print(
            f"fuzz as {role}: {sum(refused.values())} valid-per-schema requests refused "
            f"400/422 in {len(refused)} operations; worst: "
            + (", ".join(f"{label} {n}" for label, n in refused.most_common(8)) or "none")
        )
    assert operations >= 45
    assert requests >= operations * EXAMPLES
    assert failures == [], f"{len(failures)} failures:\n" + "\n".join(sorted(set(failures))[:60])
    assert not [s for s in statuses if s >= 500]
