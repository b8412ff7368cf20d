"""The workflow table: every status reachable, steps by role, illegal steps refused."""

from __future__ import annotations

import pytest

from app.errors import Conflict, Forbidden
from app.models import Status
from app.services import workflow


def test_the_main_path_is_walkable_by_the_worker_and_the_command_centre():
    path = [
        ("submitted", "accepted", "worker"),
        ("accepted", "registered", "worker"),
        ("registered", "dispatched", "leader"),
        ("dispatched", "in_progress", "worker"),
        ("in_progress", "reported_back", "worker"),
        ("reported_back", "verified", "worker"),
        ("verified", "closed", "leader"),
        ("closed", "rated", "worker"),
    ]
    for frm, to, role in path:
        workflow.check_step(frm, to, role)
        assert to in workflow.allowed_next(frm, role)
        workflow.check_step(frm, to, "admin")


def test_every_status_can_be_reached():
    reached = {to for (_, to) in workflow.TRANSITIONS} | {Status.SUBMITTED}
    assert reached == set(Status)


@pytest.mark.parametrize(
    ("frm", "to"),
    [
        ("submitted", "closed"),
        ("closed", "in_progress"),
        ("rejected", "accepted"),
        ("rated", "rated"),
    ],
)
def test_steps_the_workflow_lacks_are_conflicts_that_name_the_allowed_ones(frm, to):
    with pytest.raises(Conflict) as caught:
        workflow.check_step(frm, to, "admin")
    assert caught.value.code == "illegal_transition"
    assert caught.value.details["allowed"] == sorted(
        t.value for (f, t) in workflow.TRANSITIONS if f == frm
    )


def test_unknown_status_is_refused():
    with pytest.raises(Conflict, match="Unknown status 'done'"):
        workflow.check_step("submitted", "done", "admin")


def test_roles_are_enforced():
    with pytest.raises(Forbidden):
        workflow.check_step("closed", "reopened", "worker")
    with pytest.raises(Forbidden):
        workflow.check_step("submitted", "accepted", "planner")
    assert workflow.allowed_next("closed", "worker") == ["rated"]
    assert workflow.allowed_next("closed", "leader") == ["rated", "reopened"]
    assert workflow.allowed_next("submitted", "planner") == []


def test_every_status_has_a_chinese_name():
    assert set(workflow.STATUS_NAMES) == set(Status)
