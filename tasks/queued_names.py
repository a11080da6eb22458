"""Batched tasks this process has put in the queue and that have not run yet.

Under load most actions ask for a batched task that an earlier action of the
same bucket asked for already (tasks/batching.py): the counters' fold of the
second, an owner's fan-in. Each such follow-up was still an outbox record in
the action's commit, a relay's enqueue that the queue dropped as a duplicate,
and the record's delete: two writes on the embedded file's one writer and a
relay's work on the event loop, for a task already waiting.

A relay notes here each batched task it has enqueued (the queue holds it,
durably, whether this relay added it or found it there), with its eta. A later
action that asks for a task noted here, with the same eta and at least
MARGIN before it, leaves it out of its outbox: a task runs no sooner than its
eta (both queues), so the one in the queue runs after the action's commit,
which follows at once, and finds what the action left, as if the action had
relayed it. The guarantee is the outbox's: the task is committed before the
action is (the queue holds it). A commit held up past the task's run is the
late commit tasks/batching.py describes: once committed, the action asks for a
later bucket's task, which does what it left. A process knows only what its own
relays did, and forgets nothing it needs: what it forgot is written to the
outbox as before.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta
from typing import Protocol, TypeVar


class Asked(Protocol):
    """A follow-up (tasks/outbox.py `FollowUp`, whose module keeps a QueuedNames)."""

    @property
    def name(self) -> str | None: ...

    @property
    def eta(self) -> datetime | None: ...


A = TypeVar("A", bound=Asked)

# How long before its eta a noted task still counts as waiting: ample for the
# commit that follows the check (a batched task's eta is 2 s or more away).
MARGIN = timedelta(seconds=1)
# Names kept at most (a few buckets' worth under load); past it, the passed go.
LIMIT = 10_000


class QueuedNames:
    def __init__(self, limit: int = LIMIT) -> None:
        self._limit = limit
        self._etas: dict[str, datetime] = {}

    def note(self, name: str, eta: datetime) -> None:
        """The queue holds the task `name`, due at `eta`."""
        if len(self._etas) >= self._limit:
            self._etas = {n: e for n, e in self._etas.items() if e > eta - MARGIN}
            if len(self._etas) >= self._limit:
                self._etas.clear()
        self._etas[name] = eta

    def waiting(self, follow_up: Asked, now: datetime) -> bool:
        """Whether the queue holds `follow_up`'s task and it will not run before `now` + MARGIN."""
        if follow_up.name is None or follow_up.eta is None:
            return False
        return self._etas.get(follow_up.name) == follow_up.eta and now + MARGIN <= follow_up.eta

    def still_to_ask(self, follow_ups: Iterable[A], now: datetime) -> Sequence[A]:
        """The follow-ups whose tasks are not known to wait in the queue."""
        return [follow_up for follow_up in follow_ups if not self.waiting(follow_up, now)]
