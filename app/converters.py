"""URL converters that accept only what the database column can hold.

Werkzeug's ``int`` matches any Unicode digit (``٣``) and any length; a value past the
column's range then fails in PostgreSQL.  These match ASCII digits only, within the range of
the column (BIGINT for ``int``, INTEGER for ``int4``), and anything else is a 404 from the
router, before a view runs.
"""

from __future__ import annotations

from flask import Flask
from werkzeug.routing import IntegerConverter

BIGINT_MAX = 2**63 - 1
INT4_MAX = 2**31 - 1


class BigintConverter(IntegerConverter):
    """Ids of BIGINT columns: 0 to 2^63-1, ASCII digits."""

    regex = r"[0-9]{1,19}"
    column_max = BIGINT_MAX

    def __init__(self, map, fixed_digits=0, min=0, max=None, signed=False):  # noqa: A002
        super().__init__(map, fixed_digits, min, self.column_max if max is None else max)


class Int4Converter(BigintConverter):
    """Ids of INTEGER columns: 0 to 2^31-1, ASCII digits."""

    regex = r"[0-9]{1,10}"
    column_max = INT4_MAX


def init_app(app: Flask) -> None:
    """Register before any blueprint, so every rule compiles with these."""
    app.url_map.converters["int"] = BigintConverter
    app.url_map.converters["int4"] = Int4Converter
