"""How every mutation runs: typed outcomes, one transaction, idempotency keys.

A mutation's expected failures are `UserError`s in its payload, each with a
stable code and the offending input field. Its effect and its idempotency record
are written in one transaction in the viewer's entity group, so a retry with the
same key and the same input within 24 hours returns the first outcome and changes
nothing; the same key with a different input is refused. docs/MUTATIONS.md says
this for client developers.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from errors import BadUserInput
from resolvers.context import RequestContext
from resolvers.user_errors import UserError, UserErrorCode
from store import models
from store.keys import Key
from store.port import Entity, Transaction
from store.transactions import run_in_transaction
from tasks import batching
from tasks.outbox import OUTBOX, Outbox, outbox_records

IDEMPOTENCY_TTL = timedelta(hours=24)
IDEMPOTENCY_KEY_MAX = 128


@dataclass(frozen=True)
class Outcome:
    """What a mutation did: the key of the object it returns, or why it did nothing."""

    key: Key | None = None
    errors: list[UserError] = field(default_factory=list)

    @classmethod
    def failed(cls, code: UserErrorCode, message: str, field: str | None = None) -> Outcome:
        return cls(errors=[UserError(code, message, field)])

    @classmethod
    def profile_missing(cls) -> Outcome:
        """The viewer has signed in but not yet called createProfile."""
        return cls.failed(UserErrorCode.PROFILE_MISSING, "Create your profile first.", None)

    def to_json(self) -> str:
        return json.dumps(
            {
                "key": self.key.encode() if self.key else None,
                "errors": [[e.code.value, e.message, e.field] for e in self.errors],
            }
        )

    @classmethod
    def from_json(cls, text: str) -> Outcome:
        raw = json.loads(text)
        return cls(
            key=Key.decode(raw["key"]) if raw["key"] else None,
            errors=[
                UserError(UserErrorCode(code), message, field)
                for code, message, field in raw["errors"]
            ],
        )


Effect = Callable[[Transaction, list[Entity | None]], Awaitable[Outcome]]


async def run_mutation(
    context: RequestContext,
    *,
    viewer_id: str,
    name: str,
    arguments: dict[str, Any],
    idempotency_key: str | None,
    reads: Sequence[Key],
    effect: Effect,
    outbox: Outbox | None = None,
    now: datetime | None = None,
) -> Outcome:
    """Runs `effect` in a transaction with the entities at `reads` (one batched
    get), recording its outcome under the idempotency key if there is one.

    What the effect adds to `outbox` is written in the same transaction (under a
    root of its own) and relayed to the queue after the commit (tasks/outbox.py),
    after the answer where the app runs `Relays`. A replay adds nothing: the first
    commit's records carry its follow-ups."""
    if now is None:
        now = context.clock()
    record_key = _record_key(viewer_id, name, idempotency_key)
    fingerprint = _fingerprint(name, arguments)
    committed: list[Entity] = []  # the outbox records of the attempt that commits
    attempt: list[_Written] = []  # what the attempt that commits writes
    queued = context.relays.queued  # batched tasks this process knows are queued

    async def work(transaction: Transaction) -> Outcome:
        committed.clear()
        tx = _Written(transaction)
        attempt[:] = [tx]
        if outbox is not None:
            outbox.clear()
        found = await tx.get_many([*reads, *([record_key] if record_key else [])])
        if record_key is not None:
            replay = _replay(found.pop(), fingerprint, now)
            if replay is not None:
                return replay
        outcome = await effect(tx, found)
        # Batched tasks already waiting in the queue need no record (tasks/queued_names.py).
        follow_ups = (
            queued.still_to_ask(outbox.items, context.clock()) if outbox is not None else ()
        )
        if follow_ups:
            # A root of their own: the relay's delete, a moment after the answer,
            # would otherwise write into the viewer's group just as the viewer's
            # next mutation reads it, and make that one retry.
            committed.extend(outbox_records(Key.of(OUTBOX, models.new_id()), follow_ups, now))
            tx.put_many(committed)
        if record_key is not None:
            tx.put_many(
                [
                    models.idempotency_record(
                        record_key, fingerprint, outcome.to_json(), now, now + IDEMPOTENCY_TTL
                    )
                ]
            )
        return outcome

    outcome = await run_in_transaction(context.store, work)
    for written in attempt:
        # The answer reads what was written from the request, without a round trip
        # (and without a DataLoader's turns of a busy event loop).
        context.loaders.prime_written(written.puts.values(), written.deletes)
    # A commit that came after (or too near) a batched task's eta may have missed
    # its run: a later bucket's task does what it left (tasks/batching.py). The
    # outbox holds the follow-ups of the attempt that committed.
    committed_at = context.clock()
    asked = outbox.items if outbox is not None else ()
    late = queued.still_to_ask(batching.late(asked, committed_at), committed_at)
    await context.relays.after_commit(committed, late)  # answers now, relays after
    return outcome


class _Written:
    """The transaction as a mutation's effect sees it, keeping what it writes."""

    def __init__(self, tx: Transaction) -> None:
        self._tx = tx
        self.puts: dict[Key, Entity] = {}
        self.deletes: set[Key] = set()

    async def get_many(self, keys: Sequence[Key]) -> list[Entity | None]:
        return await self._tx.get_many(keys)

    def put_many(self, entities: Sequence[Entity]) -> None:
        self._tx.put_many(entities)
        for entity in entities:
            self.deletes.discard(entity.key)
            self.puts[entity.key] = entity

    def delete_many(self, keys: Sequence[Key]) -> None:
        self._tx.delete_many(keys)
        for key in keys:
            self.puts.pop(key, None)
            self.deletes.add(key)


def check_idempotency_key(idempotency_key: str | None) -> None:
    """The rule every mutation's `idempotencyKey` follows (BAD_USER_INPUT otherwise)."""
    if idempotency_key is None:
        return
    if not 1 <= len(idempotency_key) <= IDEMPOTENCY_KEY_MAX or not idempotency_key.isprintable():
        raise BadUserInput(
            f"idempotencyKey must be 1 to {IDEMPOTENCY_KEY_MAX} printable characters.",
            argument="idempotencyKey",
        )


def _record_key(viewer_id: str, name: str, idempotency_key: str | None) -> Key | None:
    if idempotency_key is None:
        return None
    check_idempotency_key(idempotency_key)
    digest = hashlib.sha256(f"{name}\0{idempotency_key}".encode()).hexdigest()[:32]
    return models.idempotency_key(viewer_id, digest)


def _fingerprint(name: str, arguments: dict[str, Any]) -> str:
    canonical = json.dumps([name, arguments], sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(canonical.encode()).hexdigest()


def _replay(record: Entity | None, fingerprint: str, now: datetime) -> Outcome | None:
    if record is None:
        return None
    expires = record.properties.get("expires_at")
    if isinstance(expires, datetime) and expires <= now:
        return None  # an expired record is as good as none; it is overwritten below
    if record.properties.get("fingerprint") != fingerprint:
        return Outcome.failed(
            UserErrorCode.IDEMPOTENCY_KEY_REUSED,
            "This idempotency key was used for a different request; use a new key.",
            "idempotencyKey",
        )
    return Outcome.from_json(str(record.properties["outcome"]))
