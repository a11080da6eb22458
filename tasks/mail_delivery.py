"""Sending one e-mail once, however often its task runs.

An e-mail stands for something (a user's digest of one day, one new follower)
and has a record keyed by that in the recipient's entity group
(store/email_models.py). Around the send it is written twice, as push receipts are
(tasks/push_delivery.py):

1. claim: one transaction reads the record. A final one (`sent`, `rejected`)
   means nothing to do. A live claim (`sending`, until CLAIM_LIFETIME after it was
   taken) means another delivery is sending it: this one raises MailRetry and
   finds it final later. Otherwise it writes its own claim. Two deliveries at once
   (a job run twice, a queue's duplicate) conflict on that record, and the retried
   transaction sees the winner's claim.
2. record: the answer is written: `sent` or `rejected` (final), or the claim is
   dropped and MailRetry raised, so the queue runs the task again later.

The one window left is the push's: the server accepted the message and the
process died before step 2. The claim then lapses and a retry sends again, with
the same Message-ID, which mail clients that thread or deduplicate by it show as
one message (docs/MAIL.md).
"""

from __future__ import annotations

import logging
from datetime import timedelta

from mail.port import MailMessage, MailResult
from store.email_models import SendRecord, send_record, send_record_from_entity
from store.keys import Key
from store.port import Transaction
from store.transactions import run_in_transaction
from taskqueue.context import TaskContext

log = logging.getLogger("timeline.tasks.mail")
# Longer than a send can take (SMTP: a 30 s timeout; Mailgun: 10 s).
CLAIM_LIFETIME = timedelta(seconds=90)


class MailRetry(Exception):
    """The e-mail is owed still; the queue's backoff paces the retry."""


async def send_once(ctx: TaskContext, key: Key, message: MailMessage) -> MailResult | None:
    """Sends `message` unless the record at `key` says it went already; returns the
    result of this delivery's send, or None when it sent nothing."""
    assert ctx.mail is not None
    if not await _claim(ctx, key):
        return None
    result = await ctx.mail.sender.send(message)
    now = ctx.clock()
    if result.status == "retry":
        await ctx.store.put_many([send_record(key, SendRecord("owed"), now)])
        raise MailRetry(f"the mail server asked to come back later: {result.detail}")
    if result.status == "rejected":
        log.error("an e-mail (%s) was refused for good: %s", key.name, result.detail)
    await ctx.store.put_many([send_record(key, SendRecord(result.status), now)])
    return result


async def _claim(ctx: TaskContext, key: Key) -> bool:
    async def work(tx: Transaction) -> bool:
        (found,) = await tx.get_many([key])
        record = send_record_from_entity(found)
        now = ctx.clock()
        if record is not None and record.final:
            return False
        if record is not None and record.claim_until is not None and record.claim_until > now:
            raise MailRetry("another delivery is sending this e-mail")
        tx.put_many([send_record(key, SendRecord("sending", now + CLAIM_LIFETIME), now)])
        return True

    return await run_in_transaction(ctx.store, work)
