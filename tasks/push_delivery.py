"""Sending one message to each of a user's devices, once per task.

Delivery is at least once, and a push that a retry sends again shows twice on a
phone. So each task keeps a receipt (an `IdempotencyRecord` named after the task and
the user, expiring with the others in 24 h, a root of its own so that a push
writes nothing into the user's group) in two steps around the sends:

1. claim: one transaction marks the devices this delivery is about to send to as
   `sending` (until CLAIM_LIFETIME from now). Devices already done are skipped;
   devices another delivery of the same task holds a live claim on are left to it
   (two deliveries at once, when a queue redelivers a task it thinks lost).
2. record: once the push service has answered, one transaction (retried on
   conflict) moves them to `done` (delivered, declared dead, or refused for good)
   and drops their claims, with the user's PushStatus. Dead devices are removed
   after that, so a failure there cannot make a retry send again.

A device is owed while the service asks us to come back later, or while another
delivery's claim is live; then this raises PushRetry so that the queue runs the
task again. The one window left: the send went out, the record step never ran
(the process died). The claim then lapses and a retry sends again, with the same
collapse key, so the phone replaces the first alert with the second (docs/PUSH.md).
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from push.port import PushMessage, PushResult
from store import models
from store.device_models import (
    Device,
    claim_holder,
    claim_key,
    device_from_entity,
    device_key,
    devices_query,
    push_status,
    token_hash,
)
from store.keys import Key
from store.port import Entity, Store, Transaction
from store.transactions import run_in_transaction
from taskqueue.context import TaskContext

log = logging.getLogger("timeline.tasks.push")
RECEIPT_LIFETIME = timedelta(hours=24)
# Longer than a send can take (FCM: a 10 s timeout, one token refresh, one more try).
CLAIM_LIFETIME = timedelta(seconds=60)
# More than MAX_DEVICES, so that a list a race left too long is still served.
DEVICES_READ = 40
# Device removals per transaction: each token's claim is its own entity group.
REMOVALS_PER_COMMIT = 10


class PushRetry(Exception):
    """Some devices must be tried again later; the queue's backoff paces the retry."""


@dataclass
class Receipt:
    done: set[str] = field(default_factory=set)  # device token hashes
    sending: dict[str, float] = field(default_factory=dict)  # hash -> claim expiry (epoch s)

    def claimed(self, device: str, now: datetime) -> bool:
        return self.sending.get(device, 0.0) > now.timestamp()


def receipt_key(ctx: TaskContext, user_id: str) -> Key:
    """A root of its own, not in the user's group: its two writes a push would
    otherwise make the user's own mutations, which read that group, retry."""
    digest = hashlib.sha256(f"{ctx.info.queue}/{ctx.info.name}".encode()).hexdigest()[:32]
    return Key.of(models.IDEMPOTENCY_RECORD, f"push:{user_id}:{digest}")


def read_receipt(entity: Entity | None) -> Receipt:
    if entity is None:
        return Receipt()
    raw = json.loads(str(entity.properties.get("outcome") or "[]"))
    if isinstance(raw, list):  # written before claims existed: the devices done
        return Receipt({str(name) for name in raw})
    sending = raw.get("sending") or {}
    return Receipt(
        {str(n) for n in raw.get("done") or []}, {str(k): float(v) for k, v in sending.items()}
    )


def _receipt_entity(ctx: TaskContext, user_id: str, receipt: Receipt, now: datetime) -> Entity:
    outcome = {"done": sorted(receipt.done), "sending": receipt.sending}
    return models.idempotency_record(
        receipt_key(ctx, user_id),
        f"task:{ctx.info.handler}",
        json.dumps(outcome, sort_keys=True),
        now,
        now + RECEIPT_LIFETIME,
    )


async def load_devices(store: Store, user_id: str) -> list[Device]:
    results = await store.page(devices_query(user_id), limit=DEVICES_READ)
    return [device_from_entity(result.entity) for result in results]


async def deliver(
    ctx: TaskContext,
    user_id: str,
    devices: Sequence[Device],
    message: PushMessage,
    receipt: Entity | None,
    *,
    when_done: Sequence[Entity] = (),
) -> None:
    """Send `message` to the devices this task still owes it to. `when_done` is
    written once every device is done (with the receipt, in one commit).
    `receipt` is the receipt as read before (a batched get): if it shows every
    device done, nothing more is read."""
    hashes = {token_hash(d.token) for d in devices}
    if hashes <= read_receipt(receipt).done:
        # A duplicate of a finished task.
        if when_done:
            await ctx.store.put_many(when_done)
        return
    mine, elsewhere = await _claim(ctx, user_id, devices, when_done)
    retry: list[PushResult] = []
    if mine:
        results = await asyncio.gather(*(ctx.push.send(d.token, d.platform, message) for d in mine))
        outcomes = list(zip(mine, results, strict=True))
        for device, result in outcomes:
            if result.status == "rejected":
                log.error(
                    "push to a %s device of %s refused: %s",
                    device.platform,
                    user_id,
                    result.detail,
                )
        retry = [r for _, r in outcomes if r.status == "retry"]
        await _record(ctx, user_id, hashes, outcomes, when_done)
        await remove_devices(
            ctx.store, user_id, [d.token for d, r in outcomes if r.status == "unregistered"]
        )
    if retry:
        raise PushRetry(_retry_reason(retry, len(mine)))
    if elsewhere:
        raise PushRetry(f"{elsewhere} device(s) are being sent to by another delivery")


async def _claim(
    ctx: TaskContext, user_id: str, devices: Sequence[Device], when_done: Sequence[Entity]
) -> tuple[list[Device], int]:
    """The devices this delivery is to send to, now claimed in the receipt, and how
    many others a live claim of another delivery holds."""
    key = receipt_key(ctx, user_id)

    async def work(tx: Transaction) -> tuple[list[Device], int]:
        (found,) = await tx.get_many([key])
        receipt = read_receipt(found)
        now = ctx.clock()
        owed = [d for d in devices if token_hash(d.token) not in receipt.done]
        mine = [d for d in owed if not receipt.claimed(token_hash(d.token), now)]
        until = (now + CLAIM_LIFETIME).timestamp()
        receipt.sending.update({token_hash(d.token): until for d in mine})
        if mine:
            tx.put_many([_receipt_entity(ctx, user_id, receipt, now)])
        elif not owed and when_done:
            tx.put_many(when_done)  # done meanwhile by another delivery
        return mine, len(owed) - len(mine)

    return await run_in_transaction(ctx.store, work)


async def _record(
    ctx: TaskContext,
    user_id: str,
    every_device: set[str],
    outcomes: Sequence[tuple[Device, PushResult]],
    when_done: Sequence[Entity],
) -> None:
    key = receipt_key(ctx, user_id)

    async def work(tx: Transaction) -> None:
        (found,) = await tx.get_many([key])
        receipt = read_receipt(found)
        now = ctx.clock()
        for device, result in outcomes:
            receipt.sending.pop(token_hash(device.token), None)
            if result.status != "retry":
                receipt.done.add(token_hash(device.token))
        writes = [_receipt_entity(ctx, user_id, receipt, now)]
        if any(r.status == "delivered" for _, r in outcomes):
            writes.append(push_status(user_id, now))
        if every_device <= receipt.done:
            writes.extend(when_done)
        tx.put_many(writes)

    await run_in_transaction(ctx.store, work)


def _retry_reason(retry: Sequence[PushResult], sent: int) -> str:
    waits = [r.retry_after for r in retry if r.retry_after is not None]
    wait = f"; the service asked for {max(waits):g} s" if waits else ""
    return f"{len(retry)} of {sent} push(es) must be retried{wait}: {retry[0].detail}"


async def remove_devices(store: Store, user_id: str, tokens: Sequence[str]) -> None:
    """Forget `tokens` for `user_id`; a token's claim goes too while it is theirs
    (a token that has moved on to someone else keeps its new owner's claim)."""
    for start in range(0, len(tokens), REMOVALS_PER_COMMIT):
        chunk = tokens[start : start + REMOVALS_PER_COMMIT]

        async def remove(tx: Transaction, chunk: Sequence[str] = chunk) -> None:
            claims = await tx.get_many([claim_key(t) for t in chunk])
            theirs = [c.key for c in claims if c is not None and claim_holder(c) == user_id]
            tx.delete_many([*(device_key(user_id, t) for t in chunk), *theirs])

        await run_in_transaction(store, remove)
    if tokens:
        log.info("removed %d unregistered device(s) of %s", len(tokens), user_id)
