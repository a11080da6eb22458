"""The DateTime scalar: RFC 3339, always in UTC, always with milliseconds and `Z`.

Every DateTime the API returns has the one shape `2026-11-30T09:41:07.123Z`, so a
date formatter an app configures from one value reads them all (strawberry's
default, `isoformat()`, drops the fraction when it is zero and writes `+00:00`).
Microseconds are cut, not rounded, so that order is kept. Input accepts any RFC
3339 date-time: any fraction, `Z` or a numeric offset, `T` or `t`.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime

import strawberry
from strawberry.types.scalar import ScalarDefinition

RFC3339 = "https://datatracker.ietf.org/doc/html/rfc3339"
_INPUT = re.compile(
    r"(\d{4}-\d{2}-\d{2})[Tt](\d{2}:\d{2}:\d{2})(?:\.(\d+))?([Zz]|[+-]\d{2}:\d{2})\Z"
)


# Serialized instants, remembered: a page's dates recur request after request,
# and formatting one costs ~30 times a lookup. Only the store's own kind of value
# (a datetime in UTC) is remembered: equal keys are then the same instant.
_SERIALIZED: dict[datetime, str] = {}
_REMEMBERED = 4096


def serialize_date_time(value: datetime) -> str:
    if type(value) is datetime and value.tzinfo is UTC:
        found = _SERIALIZED.get(value)
        if found is None:
            if len(_SERIALIZED) >= _REMEMBERED:
                _SERIALIZED.clear()
            found = _SERIALIZED[value] = _serialize(value)
        return found
    return _serialize(value)


def _serialize(value: datetime) -> str:
    # The store keeps aware UTC values; a naive one can only be UTC here.
    utc = value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
    return utc.replace(tzinfo=None).isoformat(timespec="milliseconds") + "Z"


def parse_date_time(value: object) -> datetime:
    match = _INPUT.match(value) if isinstance(value, str) else None
    if match is None:
        raise ValueError("DateTime must be an RFC 3339 date-time, e.g. 2026-11-30T09:41:07.123Z")
    day, time, fraction, offset = match.groups()
    micros = (fraction or "").ljust(6, "0")[:6]
    zone = "+00:00" if offset in ("Z", "z") else offset
    return datetime.fromisoformat(f"{day}T{time}.{micros}{zone}").astimezone(UTC)


DATE_TIME: ScalarDefinition = strawberry.scalar(
    name="DateTime",
    description="An instant, as RFC 3339 in UTC with milliseconds: 2026-11-30T09:41:07.123Z.",
    specified_by_url=RFC3339,
    serialize=serialize_date_time,
    parse_value=parse_date_time,
)
