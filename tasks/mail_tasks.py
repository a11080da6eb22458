"""The e-mails: the daily digest and new followers.

    email_digest    {user, day}         the day's digest e-mail to one user
    follower_email  {owner, follower}   "alice started following you", once per pair

`digest_scan` (push_tasks.py) asks for `email_digest` for the users the push
digest's rule picks (unread notifications updated in the 24 hours before the run,
no push in them) who want the digest e-mail; `fan_in` (fan_in_tasks.py) asks for
`follower_email` for each follower it applies, when the owner wants those. Both
ask by task name (per user and day; per owner and follower), and each e-mail has
a record keyed the same way (store/email_models.py, tasks/mail_delivery.py), so
a day's digest goes out once however often the job runs, and a follower who
follows, unfollows and follows again is announced once.

Addresses come from the user's EmailSettings only, which hold nothing but a
verified sign-in address.
"""

from __future__ import annotations

from datetime import date

from mail.compose import Line, compose
from mail.port import MailMessage
from mail.service import MailService
from store import models
from store.email_models import (
    digest_email_key,
    email_settings_key,
    follower_email_key,
    preferences_from_entity,
    send_record_from_entity,
)
from store.keys import Key
from store.notification_models import Notification, notification_from_entity, unread_query
from store.notification_text import UNREAD_SHOWN, digest_message, notification_message
from store.port import Entity, Store
from store.social_models import following_key
from tasks.context import TaskContext
from tasks.mail_delivery import send_once
from tasks.naming import task_name
from tasks.outbox import FollowUp
from tasks.registry import Payload, task_handler

# Notifications a digest e-mail lists (it counts up to UNREAD_SHOWN).
DIGEST_LINES = 5
_DIGEST_REASON = "You get this once a day when notifications wait for you on Photo Timeline."
_FOLLOWER_REASON = "You asked for an e-mail when someone new follows you on Photo Timeline."


def _owes(preferences: Entity | None, record: Entity | None, topic: str) -> bool:
    sent = send_record_from_entity(record)
    return preferences_from_entity(preferences).wants(topic) and not (sent and sent.final)


async def enqueue_email_digests(ctx: TaskContext, users: list[str], day: str) -> None:
    """Asks for the digest e-mail of those of `users` who want one and have none
    today (one batched get)."""
    if ctx.mail is None or not users:
        return
    when = date.fromisoformat(day)
    keys = [k for u in users for k in (email_settings_key(u), digest_email_key(u, when))]
    found = await ctx.store.get_many(keys)
    for n, user in enumerate(users):
        if _owes(found[2 * n], found[2 * n + 1], "digest"):
            await ctx.tasks.enqueue(
                "email_digest",
                {"user": user, "day": day},
                name=task_name("email_digest", user, day),
            )


def follower_email_follow_up(owner: str, follower: str) -> FollowUp:
    return FollowUp(
        "follower_email",
        {"owner": owner, "follower": follower},
        name=task_name("follower_email", owner, follower),
    )


@task_handler("email_digest")
async def email_digest(payload: Payload, ctx: TaskContext) -> None:
    if ctx.mail is None:
        return
    user, day = str(payload["user"]), date.fromisoformat(str(payload["day"]))
    record_key = digest_email_key(user, day)
    preferences, record = await ctx.store.get_many([email_settings_key(user), record_key])
    if not _owes(preferences, record, "digest"):
        return
    unread = await ctx.store.page(unread_query(user), limit=UNREAD_SHOWN + 1)
    if not unread:
        return
    notices = [notification_from_entity(r.entity) for r in unread[:DIGEST_LINES]]
    address = preferences_from_entity(preferences).address
    assert address is not None  # _owes checked it
    summary = digest_message(len(unread))
    message = compose(
        to=address,
        subject=summary,
        heading=summary,
        lines=await _digest_lines(ctx.store, notices),
        action=("Open Photo Timeline", ctx.mail.origin),
        unsubscribe_url=ctx.mail.links.url(user, "digest"),
        reason=_DIGEST_REASON,
        message_id=ctx.mail.message_id("digest", user, day.isoformat()),
    )
    await send_once(ctx, record_key, message)


async def _digest_lines(store: Store, notices: list[Notification]) -> list[Line]:
    """Each notification's words, with the caption of the photo it is about (one
    batched get of the first actors and the photos)."""
    actor_keys = [models.user_key(n.actor_ids[0]) if n.actor_ids else None for n in notices]
    photo_keys = [Key.decode(n.subject) if n.subject else None for n in notices]
    wanted = list(dict.fromkeys(k for k in (*actor_keys, *photo_keys) if k is not None))
    found = dict(zip(wanted, await store.get_many(wanted), strict=True))
    lines = []
    for notice, actor_key, photo_key in zip(notices, actor_keys, photo_keys, strict=True):
        actor = found.get(actor_key) if actor_key else None
        photo = found.get(photo_key) if photo_key else None
        first = models.user_from_entity(actor).username if actor else None
        caption = models.photo_from_entity(photo).caption if photo else None
        text = notification_message(notice.kind, first, notice.actor_count)
        lines.append(Line(text, caption or None))
    return lines


@task_handler("follower_email")
async def follower_email(payload: Payload, ctx: TaskContext) -> None:
    if ctx.mail is None:
        return
    owner, follower = str(payload["owner"]), str(payload["follower"])
    record_key = follower_email_key(owner, follower)
    preferences, record, edge, follower_entity = await ctx.store.get_many(
        [
            email_settings_key(owner),
            record_key,
            following_key(follower, owner),
            models.user_key(follower),
        ]
    )
    # Unfollowed meanwhile, or the account is gone: nothing to announce.
    if not _owes(preferences, record, "new_follower") or edge is None or follower_entity is None:
        return
    address = preferences_from_entity(preferences).address
    assert address is not None
    await send_once(ctx, record_key, _follower_message(ctx.mail, address, owner, follower_entity))


def _follower_message(mail: MailService, address: str, owner: str, follower: Entity) -> MailMessage:
    user = models.user_from_entity(follower)
    said = f"{user.display_name} (@{user.username}) started following you"
    return compose(
        to=address,
        subject=f"{user.username} started following you",
        heading=said,
        lines=[],
        action=("Open Photo Timeline", mail.origin),
        unsubscribe_url=mail.links.url(owner, "new_follower"),
        reason=_FOLLOWER_REASON,
        message_id=mail.message_id("follower", owner, user.id),
    )
