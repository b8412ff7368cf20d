"""What area and household imports share: progress callbacks and all-or-nothing refusal."""

from __future__ import annotations

from collections.abc import Callable

from app.errors import InvalidData

Progress = Callable[[int, int], None]
MAX_REPORTED_FAULTS = 200


def no_progress(done: int, total: int) -> None:
    pass


def _number(fault: dict) -> int:
    """Which row, feature or item of the input a fault is about."""
    return fault.get("row") or fault.get("feature") or fault.get("item") or 0


def refuse(faults: list[dict], total: int, unit: str) -> None:
    """Raise one error listing every fault (the first MAX_REPORTED_FAULTS) if there are any."""
    if faults:
        raise InvalidData(
            f"{len({_number(f) for f in faults})} of {total} {unit} are invalid; "
            "nothing was imported.",
            details=sorted(faults, key=_number)[:MAX_REPORTED_FAULTS],
        )
