"""Push delivery and the daily digest.

    push          {recipient, notification, version}     a notification to the recipient's devices
    daily_digest  (cron)                                 starts the day's digest scan
    digest_scan   {day, since, until, after?, batch, page?}  the day's recipients, a page a task
    digest        {user, day, since}                     one summary push to one user

`fan_in` (fan_in_tasks.py) enqueues `push` after recording a batch of events,
named after the notification's version (its key and sort key), so a repeated run
adds nothing, and a burst of events on one notification sends only the latest
wording: a `push` whose version is no longer current, or whose notification has
been read, sends nothing.

The digest rule: once per UTC day, a user who has at least one unread
notification updated in the 24 hours before the run, and who got no push in those
24 hours, gets one push: "You have N unread notifications". The scan reads only
the notifications updated in that window (a global query on `sort_key`, oldest
first, DIGEST_SCAN_PAGE a task, each task chaining the next), so a run costs what
the day's activity costs, never a pass over every user. A `DigestSent` record per
user and date (written with the push) makes the day's digest happen once however
often the job, the scan or the digest task runs. The scan also asks for the digest
e-mail of the same users, as their e-mail preferences allow (mail_tasks.py).
"""

from __future__ import annotations

import asyncio
import hashlib
from datetime import date, datetime, timedelta

from push.port import PushMessage
from store import models
from store.device_models import digest_sent, digest_sent_key, last_push_at, push_status_key
from store.keys import Key
from store.notification_models import (
    NOTIFICATION,
    RECENT_ACTORS,
    Notification,
    notification_from_entity,
    unread_query,
)
from store.notification_text import UNREAD_SHOWN, digest_message, notification_message
from store.port import Entity, Position, Query
from tasks.context import JobContext, TaskContext
from tasks.enqueue import Tasks
from tasks.mail_tasks import enqueue_email_digests
from tasks.naming import task_name
from tasks.outbox import FollowUp
from tasks.push_delivery import deliver, load_devices, receipt_key
from tasks.registry import Payload, cron_job, task_handler

APP_TITLE = "Photo Timeline"
DIGEST_WINDOW = timedelta(hours=24)
DIGEST_SCAN_PAGE = 500
PUSH_QUEUE = "push"  # queue.yaml: FCM's minimum backoff of 10 s


def notification_version(notice: Notification) -> str:
    assert notice.updated_at is not None
    return models.sort_key(notice.updated_at, notice.key.name)


def push_follow_up(notice: Notification) -> FollowUp:
    """The push of `notice` as it now stands, named after its version."""
    version = notification_version(notice)
    return FollowUp(
        "push",
        {"recipient": notice.recipient_id, "notification": notice.key.encode(), "version": version},
        name=task_name("push", notice.key.encode(), version),
        queue=PUSH_QUEUE,
    )


async def enqueue_push(tasks: Tasks, notice: Notification) -> None:
    push = push_follow_up(notice)
    await tasks.enqueue(push.handler, push.payload, queue=push.queue, name=push.name)


def _collapse_key(key: Key) -> str:
    return hashlib.sha256(key.encode().encode()).hexdigest()[:32]


@task_handler("push")
async def push(payload: Payload, ctx: TaskContext) -> None:
    recipient = str(payload["recipient"])
    key = Key.decode(str(payload["notification"]))
    found, receipt = await ctx.store.get_many([key, receipt_key(ctx, recipient)])
    if found is None:
        return
    notice = notification_from_entity(found)
    if not notice.unread or notification_version(notice) != payload["version"]:
        return  # read already, or a newer event's push tells the newer story
    devices = await load_devices(ctx.store, recipient)
    if not devices:
        return
    actors = await ctx.store.get_many(
        [models.user_key(a) for a in notice.actor_ids[:RECENT_ACTORS]]
    )
    first = next((models.user_from_entity(a).username for a in actors if a), None)
    message = PushMessage(
        APP_TITLE,
        notification_message(notice.kind, first, notice.actor_count),
        {"type": "notification", "kind": notice.kind},
        # Per thread: a newer item's push replaces an older one's on the device.
        collapse_key=_collapse_key(notice.thread_key),
    )
    await deliver(ctx, recipient, devices, message, receipt)


@cron_job("daily_digest")
async def daily_digest(ctx: JobContext) -> None:
    now = ctx.clock()
    day = now.date().isoformat()
    window = {
        "day": day,
        "since": models.sort_key(now - DIGEST_WINDOW, ""),
        "until": models.sort_key(now, ""),
        "batch": 0,
    }
    await ctx.tasks.enqueue("digest_scan", window, name=task_name("digest_scan", day, "0"))


def _notifications_oldest_first() -> Query:
    return Query(kind=NOTIFICATION, order_by="sort_key", descending=False)


def resume_after(sort_keys: list[str]) -> str:
    """Where the next page starts. Fan-out writes one sort key into many followers'
    notifications, so the last run of equal keys may go on past this page: the next
    page starts before it (reading it again is harmless: digests are per user and
    per day). A page that is all one key can only move past it."""
    last = sort_keys[-1]
    return next((value for value in reversed(sort_keys) if value != last), last)


@task_handler("digest_scan")
async def digest_scan(payload: Payload, ctx: TaskContext) -> None:
    day, since = str(payload["day"]), str(payload["since"])
    size = int(payload.get("page", DIGEST_SCAN_PAGE))
    page = await ctx.store.page(
        _notifications_oldest_first(),
        limit=size,
        after=Position(str(payload.get("after") or since)),
        before=Position(str(payload["until"])),
    )
    if len(page) == size:
        batch = int(payload.get("batch", 0)) + 1
        await ctx.tasks.enqueue(
            "digest_scan",
            {
                **payload,
                "after": resume_after([str(r.position.value) for r in page]),
                "batch": batch,
            },
            name=task_name("digest_scan", day, str(batch)),
        )
    users = sorted(
        {
            notification_from_entity(r.entity).recipient_id
            for r in page
            if r.entity.properties.get("unread") is True
        }
    )
    owed, quiet = await _owed_a_digest(ctx, users, date.fromisoformat(day), since)
    await asyncio.gather(
        *(
            ctx.tasks.enqueue(
                "digest",
                {"user": user, "day": day, "since": since},
                name=task_name("digest", user, day),
            )
            for user in owed
        )
    )
    await enqueue_email_digests(ctx, quiet, day)


async def _owed_a_digest(
    ctx: TaskContext, users: list[str], day: date, since: str
) -> tuple[list[str], list[str]]:
    """Those of `users` with no push since `since` (the quiet ones, whom the digest
    e-mail is for), and of those, the ones with no push digest today (one batched get)."""
    keys = [k for u in users for k in (digest_sent_key(u, day), push_status_key(u))]
    found = await ctx.store.get_many(keys)
    quiet = [n for n in range(len(users)) if not _pushed_since(found[2 * n + 1], since)]
    return [users[n] for n in quiet if found[2 * n] is None], [users[n] for n in quiet]


def _pushed_since(status: Entity | None, since: str) -> bool:
    pushed = last_push_at(status)
    return pushed is not None and models.sort_key(pushed, "") >= since


@task_handler("digest")
async def digest(payload: Payload, ctx: TaskContext) -> None:
    user, since = str(payload["user"]), str(payload["since"])
    day = date.fromisoformat(str(payload["day"]))
    sent, status, receipt = await ctx.store.get_many(
        [digest_sent_key(user, day), push_status_key(user), receipt_key(ctx, user)]
    )
    # A receipt means this task pushed to some devices already: the push it
    # recorded is its own, not a reason to stop.
    if sent is not None or (receipt is None and _pushed_since(status, since)):
        return
    unread = await ctx.store.page(unread_query(user), limit=UNREAD_SHOWN + 1)
    devices = await load_devices(ctx.store, user) if unread else []
    if not devices:
        return
    message = PushMessage(
        APP_TITLE,
        digest_message(len(unread)),
        {"type": "digest", "unread": str(len(unread))},
        collapse_key="digest",
    )
    sent_at: datetime = ctx.clock()
    await deliver(ctx, user, devices, message, receipt, when_done=[digest_sent(user, day, sent_at)])
