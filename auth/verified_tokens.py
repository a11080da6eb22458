"""Tokens already verified, remembered for a short while.

A signed-in app sends the same ID token with every request for up to an hour;
checking its signature each time (HMAC for dev tokens, RSA for Firebase's) and
parsing it again was a fixed cost of every signed-in request. A token the inner
verifier accepted is remembered, by its exact text, with the Viewer it gave.

An entry answers only while the inner verifier would certainly accept the token
again: from the moment it was verified (the clock going back before that asks
again, so `iat`/`nbf` in the future stay refused) until the earlier of its `exp`
(without the leeway the inner one allows, so an expired token is always checked,
and refused, by the inner verifier) and `MAX_AGE` later (what may change meanwhile
outside the token, Firebase's certificate set, is seen within that time). Refused
tokens are not remembered: every refusal is the inner verifier's, with its reason.
"""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from auth.jwt_checks import read_token
from auth.viewer import TokenVerifier, Viewer
from clock import Clock

MAX_AGE = timedelta(minutes=5)
MAX_ENTRIES = 4096


@dataclass(frozen=True, slots=True)
class _Entry:
    viewer: Viewer
    verified_at: datetime
    valid_until: datetime


class VerifiedTokens:
    """A TokenVerifier in front of `inner` that verifies each token once while valid."""

    def __init__(
        self,
        inner: TokenVerifier,
        clock: Clock,
        *,
        max_length: int,
        max_age: timedelta = MAX_AGE,
        max_entries: int = MAX_ENTRIES,
    ) -> None:
        self._inner = inner
        self._clock = clock
        self._max_length = max_length
        self._max_age = max_age
        self._max_entries = max_entries
        self._entries: OrderedDict[str, _Entry] = OrderedDict()

    async def verify(self, token: str) -> Viewer:
        now = self._clock()
        entry = self._entries.get(token)
        if entry is not None:
            if entry.verified_at <= now < entry.valid_until:
                self._entries.move_to_end(token)
                return entry.viewer
            del self._entries[token]
        viewer = await self._inner.verify(token)
        self._remember(token, viewer, now)
        return viewer

    def _remember(self, token: str, viewer: Viewer, now: datetime) -> None:
        # The inner verifier required a numeric `exp` to accept the token.
        expires = read_token(token, max_length=self._max_length).claims.get("exp")
        if not isinstance(expires, int | float) or isinstance(expires, bool):
            return
        try:
            exp = datetime.fromtimestamp(expires, tz=UTC)
        except (OverflowError, OSError, ValueError):  # past datetime's years: ask each time
            return
        self._entries[token] = _Entry(viewer, now, min(exp, now + self._max_age))
        while len(self._entries) > self._max_entries:
            self._entries.popitem(last=False)
