"""Ids, numbers and times read from URLs and forms: one definition of a well-formed value.

Every view, form, queue filter and cursor parses through here, so none does it its own way.
Why it matters:

- ``str.isdigit()`` is true for ``²`` and ``١٢``: ``int()`` then refuses the first (a 500)
  and reads the second as 12 (a second address for the same ticket). Only ASCII digits count.
- PostgreSQL's INTEGER ends at 2**31 - 1 and it refuses a larger number with an error rather
  than finding nothing (SQLite overflows at 2**63). A number past the range names nothing.
- Times are stored and compared in UTC; a time sent without a zone is read as UTC.

Each parser answers None for anything else; the caller decides whether that means "ignore the
parameter", a 404 or a message beside the field.
"""

import re
from datetime import UTC, datetime

from werkzeug.routing import IntegerConverter

MAX_ID = 2**31 - 1  # the top of a PostgreSQL INTEGER (and SERIAL) column
_ASCII_DIGITS = re.compile(r"[0-9]{1,18}")  # at most 18: no int() of a 5,000-digit string


def parse_int(text, *, minimum=0, maximum=MAX_ID):
    """``text`` as an int in ``minimum..maximum``, or None: ASCII digits only, no sign.

    An int passes through the same range check (form coercion may already hold one).
    """
    if isinstance(text, bool):
        return None
    if isinstance(text, int):
        value = text
    elif isinstance(text, str) and _ASCII_DIGITS.fullmatch(text):
        value = int(text)
    else:
        return None
    return value if minimum <= value <= maximum else None


def parse_id(text):
    """A row id (1 to 2**31 - 1) from ``text``, or None."""
    return parse_int(text, minimum=1)


def parse_ids(values, *, limit=None):
    """The well-formed ids among ``values`` (a ``getlist``), junk dropped, at most ``limit``."""
    ids = [value for value in map(parse_id, values) if value is not None]
    return ids[:limit] if limit is not None else ids


def parse_utc(text):
    """An ISO 8601 time as an aware UTC datetime, or None; a time without a zone is UTC."""
    if not isinstance(text, str):
        return None
    try:
        value = datetime.fromisoformat(text)
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)
    except (ValueError, OverflowError):  # not a time, or out of range once moved to UTC
        return None


class IdConverter(IntegerConverter):
    """``<int:...>`` in every route: ASCII digits within the database's range, else a 404.

    Werkzeug's own converter matches ``\\d+`` (any Unicode digit) and has no upper bound, so
    ``/tickets/²`` was a 500 and ``/tickets/2147483648`` a database error.
    """

    regex = r"[0-9]{1,18}"

    def __init__(self, map, fixed_digits=0, min=0, max=MAX_ID, signed=False):
        super().__init__(map, fixed_digits=fixed_digits, min=min, max=max, signed=signed)


def init_app(app):
    """Use ``IdConverter`` for ``<int:...>``; call before any blueprint adds its routes."""
    app.url_map.converters["int"] = IdConverter
