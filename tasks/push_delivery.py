"""Sending one message to each of a user's devices, once per task.

Delivery is at least once, and a push that a retry sends again shows twice on a
phone. So each task keeps a receipt in the user's entity group (an
`IdempotencyRecord` named after the task, expiring with the others in 24 h)
listing the devices already done: a retry or a duplicate delivery sends only to
the devices still owed. A device is done when the push service delivered to it,
declared its token dead (the device is then removed), or refused the message for
good (logged); it is owed while the service asks us to come back later, and
then this raises PushRetry so that the queue runs the task again.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
from collections.abc import Sequence
from datetime import timedelta

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
from tasks.context import TaskContext

log = logging.getLogger("timeline.tasks.push")
RECEIPT_LIFETIME = timedelta(hours=24)
# More than MAX_DEVICES, so that a list a race left too long is still served.
DEVICES_READ = 40
# Device removals per transaction: each token's claim is its own entity group.
REMOVALS_PER_COMMIT = 10


class PushRetry(Exception):
    """Some devices must be tried again later; the queue's backoff paces the retry."""


def receipt_key(ctx: TaskContext, user_id: str) -> Key:
    digest = hashlib.sha256(f"{ctx.info.queue}/{ctx.info.name}".encode()).hexdigest()[:32]
    return models.user_key(user_id).child(models.IDEMPOTENCY_RECORD, f"push:{digest}")


def devices_done(receipt: Entity | None) -> set[str]:
    if receipt is None:
        return set()
    done = json.loads(str(receipt.properties.get("outcome") or "[]"))
    return {str(name) for name in done} if isinstance(done, list) else set()


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
    written once every device is done (with the receipt, in one commit)."""
    if ctx.push is None:
        log.warning("no push adapter is wired in; %d device(s) left unpushed", len(devices))
        return
    push = ctx.push
    done = devices_done(receipt)
    owed = [d for d in devices if token_hash(d.token) not in done]
    if not owed:
        # A duplicate of a finished task, or the devices still owed are gone.
        if when_done:
            await ctx.store.put_many(when_done)
        return
    results = await asyncio.gather(*(push.send(d.token, d.platform, message) for d in owed))
    outcomes = list(zip(owed, results, strict=True))
    for device, result in outcomes:
        if result.status == "rejected":
            log.error(
                "push to a %s device of %s refused: %s", device.platform, user_id, result.detail
            )
    await remove_devices(
        ctx.store, user_id, [d.token for d, r in outcomes if r.status == "unregistered"]
    )
    done |= {token_hash(d.token) for d, r in outcomes if r.status != "retry"}
    retry = [r for _, r in outcomes if r.status == "retry"]
    now = ctx.clock()
    writes = [
        models.idempotency_record(
            receipt_key(ctx, user_id),
            f"task:{ctx.info.handler}",
            json.dumps(sorted(done)),
            now,
            now + RECEIPT_LIFETIME,
        )
    ]
    if any(r.status == "delivered" for _, r in outcomes):
        writes.append(push_status(user_id, now))
    if not retry:
        writes.extend(when_done)
    await ctx.store.put_many(writes)
    if retry:
        raise PushRetry(_retry_reason(retry, len(outcomes)))


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
