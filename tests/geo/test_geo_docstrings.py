"""The examples in the docstrings of geo/ run and give what they show."""

from __future__ import annotations

import doctest
import importlib
from pathlib import Path

import pytest

GEO = Path(__file__).resolve().parents[2] / "geo"
MODULES = sorted(f"geo.{p.stem}" for p in GEO.glob("*.py") if p.stem != "__init__")


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples(name: str) -> None:
    module = importlib.import_module(name)
    result = doctest.testmod(module, optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    assert result.failed == 0
