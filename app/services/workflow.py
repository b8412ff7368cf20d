"""The incident workflow: which step may follow which, and who may take it.

上报 submitted → 受理 accepted → 立案 registered → 派遣 dispatched → 处置 in progress →
反馈 reported back → 核查 verified → 结案 closed → 评价 rated, plus 退回 rejected (not a case
for us), 重复 duplicate (of another open case) and 重新打开 reopened (a low rating, or a
leader's decision).  Grid workers take the field steps in their own grids; the command
centre (admin) may take any step; leaders dispatch, close and reopen in their area.
"""

from __future__ import annotations

from app.errors import Conflict, Forbidden
from app.i18n import N_
from app.models import Status

S = Status
WORKER, LEADER, ADMIN = "worker", "leader", "admin"
FIELD = frozenset({WORKER, ADMIN})
COMMAND = frozenset({LEADER, ADMIN})

# (from, to) -> roles allowed to take the step.
TRANSITIONS: dict[tuple[Status, Status], frozenset[str]] = {
    (S.SUBMITTED, S.ACCEPTED): FIELD,
    (S.SUBMITTED, S.REJECTED): FIELD,
    (S.SUBMITTED, S.DUPLICATE): FIELD,
    (S.ACCEPTED, S.REGISTERED): FIELD,
    (S.ACCEPTED, S.REJECTED): FIELD,
    (S.ACCEPTED, S.DUPLICATE): FIELD,
    (S.REGISTERED, S.DISPATCHED): COMMAND | {WORKER},
    (S.DISPATCHED, S.IN_PROGRESS): FIELD,
    (S.IN_PROGRESS, S.REPORTED_BACK): FIELD,
    (S.REPORTED_BACK, S.VERIFIED): FIELD,
    (S.REPORTED_BACK, S.IN_PROGRESS): FIELD,  # the check failed: back to work
    (S.VERIFIED, S.CLOSED): COMMAND | {WORKER},
    (S.CLOSED, S.RATED): FIELD | COMMAND,
    (S.CLOSED, S.REOPENED): COMMAND,
    (S.RATED, S.REOPENED): COMMAND,
    (S.REOPENED, S.DISPATCHED): COMMAND | {WORKER},
    (S.REOPENED, S.IN_PROGRESS): FIELD,
}

STATUS_NAMES = {
    S.SUBMITTED: "上报",
    S.ACCEPTED: "受理",
    S.REGISTERED: "立案",
    S.DISPATCHED: "派遣",
    S.IN_PROGRESS: "处置",
    S.REPORTED_BACK: "反馈",
    S.VERIFIED: "核查",
    S.CLOSED: "结案",
    S.RATED: "评价",
    S.REJECTED: "退回",
    S.DUPLICATE: "重复",
    S.REOPENED: "重新打开",
}

# The same names as English message ids, for pages that follow the chosen language.
STATUS_LABELS = {
    S.SUBMITTED: N_("submitted"),
    S.ACCEPTED: N_("accepted"),
    S.REGISTERED: N_("registered"),
    S.DISPATCHED: N_("dispatched"),
    S.IN_PROGRESS: N_("in progress"),
    S.REPORTED_BACK: N_("reported back"),
    S.VERIFIED: N_("verified"),
    S.CLOSED: N_("closed"),
    S.RATED: N_("rated"),
    S.REJECTED: N_("rejected"),
    S.DUPLICATE: N_("duplicate"),
    S.REOPENED: N_("reopened"),
}

# Steps whose entry records when the case ended, or that it is running again.
CLOSING = frozenset({S.CLOSED, S.REJECTED, S.DUPLICATE})
REOPENING = frozenset({S.REOPENED})


def allowed_next(status: str, role: str) -> list[str]:
    """The steps ``role`` may take from ``status``, in workflow order."""
    return [to.value for (frm, to), roles in TRANSITIONS.items() if frm == status and role in roles]


def check_step(status: str, to: str, role: str) -> None:
    """Raise 409 for a step the workflow does not have, 403 for one the role may not take."""
    try:
        target = Status(to)
    except ValueError:
        raise Conflict(
            f"Unknown status {to!r}; the workflow has {', '.join(s.value for s in Status)}.",
            details={"field": "to"},
            code="illegal_transition",
        ) from None
    roles = TRANSITIONS.get((Status(status), target))
    if roles is None:
        allowed = sorted({t.value for (f, t) in TRANSITIONS if f == status})
        raise Conflict(
            f"An incident that is {status} cannot become {to}; it can become "
            f"{', '.join(allowed) or 'nothing else'}.",
            details={"from": status, "to": to, "allowed": allowed},
            code="illegal_transition",
        )
    if role not in roles:
        raise Forbidden(
            f"A {role} may not move an incident from {status} to {to}.",
            details={"from": status, "to": to, "roles": sorted(roles)},
        )
