"""Hazard fields as they arrive from forms, JSON and imported files: refused with the field
named, never an exception of Python's own."""

from __future__ import annotations

import pytest

from app.errors import InvalidData
from app.services.hazards import parse_severity


@pytest.mark.parametrize(("value", "expected"), [(3, 3), (4.0, 4), (" 2 ", 2), ("1", 1)])
def test_a_severity_from_1_to_4_is_read_in_any_of_its_forms(value, expected):
    assert parse_severity(value) == expected


@pytest.mark.parametrize(
    "value",
    ["²", "٣", "３", 10**400, float("inf"), float("nan"), 2.5, True, None, "", "5", 0, [3]],
)
def test_anything_else_is_refused_naming_the_field(value):
    with pytest.raises(InvalidData) as refused:
        parse_severity(value, field="properties.severity")
    assert refused.value.details == {"field": "properties.severity"}
