"""Notifications: one current item per (kind, subject) in the recipient's entity group.

Repeated events coalesce into one notification ("alice and 4 others liked your
photo"): the actors are a set (so a duplicate delivery of the same event changes
nothing), and once read, the next event starts the notification afresh.

An item never moves. Its place in the list (its `sort_key`) is fixed when it is
written, so that a client paging through the list by cursor neither sees one
twice nor misses one that did not change. A new event therefore writes a *new*
item, with a new key and id, at the top, and deletes the item it replaces, in
the same transaction. The (kind, subject) thread finds its current item through
a `NotificationThread` record naming it:

    User/<r>/Notification/<kind>~<subject>      a thread's first item (fan-out
                                                writes and deletes NEW_PHOTO ones here)
    User/<r>/Notification/<random id>           each item after the first
    User/<r>/NotificationThread/<kind>~<subject>  {item: the current item's key name}

A thread without a record has only its first item (so notifications written
before records existed read as they were).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol

from store.keys import Key
from store.models import new_id, sort_key, user_key
from store.port import Entity, Query, Transaction

NOTIFICATION = "Notification"
NOTIFICATION_THREAD = "NotificationThread"
KINDS = ("FOLLOW", "LIKE", "COMMENT", "NEW_PHOTO")
RECENT_ACTORS = 3
MAX_ACTORS = 200  # beyond this we count but stop remembering who


@dataclass
class Notification:
    recipient_id: str
    kind: str
    subject: str  # an encoded key (the photo), or "" for follows
    actor_ids: list[str] = field(default_factory=list)  # most recent first
    actor_count: int = 0
    unread: bool = True
    updated_at: datetime | None = None
    # The item's key name; "" for the thread's first item (<kind>~<subject>).
    item_id: str = ""
    # Not stored: whether this item was read from the store, and the stored item
    # that the changes recorded since will replace.
    stored: bool = field(default=False, compare=False)
    replaces: Key | None = field(default=None, compare=False)

    @property
    def key(self) -> Key:
        if not self.item_id:
            return first_item_key(self.recipient_id, self.kind, self.subject)
        return user_key(self.recipient_id).child(NOTIFICATION, self.item_id)

    @property
    def thread_key(self) -> Key:
        return thread_key(self.recipient_id, self.kind, self.subject)

    def add_actor(self, actor_id: str, when: datetime) -> bool:
        """Records one event; False when it is one already recorded. The first
        event recorded on a stored item makes this a new item that replaces it."""
        if self.unread and actor_id in self.actor_ids:
            return False
        if self.stored and self.replaces is None:
            self.replaces, self.item_id = self.key, new_id()
        if not self.unread:
            self.actor_ids, self.actor_count, self.unread = [], 0, True
        if actor_id in self.actor_ids:
            self.actor_ids.remove(actor_id)
        else:
            self.actor_count += 1
        self.actor_ids = [actor_id, *self.actor_ids][:MAX_ACTORS]
        self.updated_at = when
        return True


def _thread_name(kind: str, subject: str) -> str:
    return f"{kind}~{subject}"


def first_item_key(recipient_id: str, kind: str, subject: str) -> Key:
    """Where a thread's first notification is written (by key, without a read)."""
    return user_key(recipient_id).child(NOTIFICATION, _thread_name(kind, subject))


def thread_key(recipient_id: str, kind: str, subject: str) -> Key:
    return user_key(recipient_id).child(NOTIFICATION_THREAD, _thread_name(kind, subject))


class Reader(Protocol):
    """A transaction, or the store itself (outside one, reads may be stale)."""

    async def get_many(self, keys: Sequence[Key]) -> list[Entity | None]: ...


async def current_notifications(
    tx: Reader, recipient_id: str, topics: Sequence[tuple[str, str]]
) -> list[Notification]:
    """The current notification of each (kind, subject), or a new one where there is
    none: two batched reads, the threads and then their items."""
    threads = await tx.get_many([thread_key(recipient_id, k, s) for k, s in topics])
    names = [
        str(t.properties["item"]) if t is not None else _thread_name(k, s)
        for t, (k, s) in zip(threads, topics, strict=True)
    ]
    owner = user_key(recipient_id)
    items = await tx.get_many([owner.child(NOTIFICATION, name) for name in names])
    return [
        notification_from_entity(item)
        if item is not None
        # A thread whose item is gone starts a new item, never at a key used before.
        else Notification(recipient_id, kind, subject, item_id="" if thread is None else new_id())
        for item, thread, (kind, subject) in zip(items, threads, topics, strict=True)
    ]


def save_notifications(tx: Transaction, notices: Iterable[Notification]) -> None:
    """Writes each notification changed by add_actor: its new item, its thread's
    record, and the removal of the item it replaces."""
    changed = list(notices)
    tx.put_many(
        [notification_to_entity(n) for n in changed]
        + [
            Entity(n.thread_key, {"item": n.key.name}, unindexed=frozenset({"item"}))
            for n in changed
        ]
    )
    tx.delete_many([n.replaces for n in changed if n.replaces is not None])


def notification_to_entity(n: Notification) -> Entity:
    assert n.updated_at is not None
    return Entity(
        n.key,
        {
            "kind": n.kind,
            "subject": n.subject,
            "actor_ids": list(n.actor_ids),
            "actor_count": n.actor_count,
            "unread": n.unread,
            "updated_at": n.updated_at,
            "sort_key": sort_key(n.updated_at, n.key.name),
        },
        unindexed=frozenset({"actor_ids", "subject"}),
    )


def notification_from_entity(entity: Entity) -> Notification:
    p = entity.properties
    owner = entity.key.parent
    assert owner is not None
    actors = p.get("actor_ids") or []
    updated = p.get("updated_at")
    return Notification(
        item_id=entity.key.name,
        stored=True,
        recipient_id=owner.name,
        kind=str(p["kind"]),
        subject=str(p.get("subject") or ""),
        actor_ids=[str(a) for a in actors] if isinstance(actors, list) else [],
        actor_count=int(p.get("actor_count") or 0),  # type: ignore[arg-type]
        unread=bool(p.get("unread")),
        updated_at=updated if isinstance(updated, datetime) else None,
    )


def unread_query(recipient_id: str) -> Query:
    """The recipient's unread notifications, oldest first (what a digest counts)."""
    return Query(
        kind=NOTIFICATION,
        order_by="sort_key",
        ancestor=user_key(recipient_id),
        equals=(("unread", True),),
    )
