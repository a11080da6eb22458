"""Notifications: one entity per (kind, subject) in the recipient's entity group.

Repeated events coalesce into one notification ("alice and 4 others liked your
photo"): the key is made from the kind and the subject, the actors are a set (so
a duplicate delivery of the same event changes nothing), and each new event moves
the notification to the top and marks it unread. Once read, the next event
starts the notification afresh.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from store.keys import Key
from store.models import sort_key, user_key
from store.port import Entity

NOTIFICATION = "Notification"
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

    @property
    def key(self) -> Key:
        return notification_key(self.recipient_id, self.kind, self.subject)

    def add_actor(self, actor_id: str, when: datetime) -> bool:
        """Records one event; False when it is one already recorded."""
        if self.unread and actor_id in self.actor_ids:
            return False
        if not self.unread:
            self.actor_ids, self.actor_count, self.unread = [], 0, True
        if actor_id in self.actor_ids:
            self.actor_ids.remove(actor_id)
        else:
            self.actor_count += 1
        self.actor_ids = [actor_id, *self.actor_ids][:MAX_ACTORS]
        self.updated_at = when
        return True


def notification_key(recipient_id: str, kind: str, subject: str) -> Key:
    return user_key(recipient_id).child(NOTIFICATION, f"{kind}~{subject}")


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
        recipient_id=owner.name,
        kind=str(p["kind"]),
        subject=str(p.get("subject") or ""),
        actor_ids=[str(a) for a in actors] if isinstance(actors, list) else [],
        actor_count=int(p.get("actor_count") or 0),  # type: ignore[arg-type]
        unread=bool(p.get("unread")),
        updated_at=updated if isinstance(updated, datetime) else None,
    )
