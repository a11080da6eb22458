"""What a user did that another user's entity group must hear of, kept as a group of its own.

    Activity/<id>   {actor, owner, kind, subject, sort_key}

A like, a comment or a follow commits in the actor's own group, with an Activity
naming the owner it concerns (the photo's owner, the followee), written in the
same transaction as an entity group of its own: written once by the actor,
deleted once by the fan-in, so the fan-in's delete never makes the actor's next
action retry (as it would in the actor's group). The owner's
`fan_in` task (tasks/fan_in.py) reads the owner's activities with one
query, applies them to the owner's group in one transaction (notifications, the
followee's half of follow edges) and deletes them: many actions, one write to
the owner's group a batch.

    User/<owner>/FanInMark/last  {applied: [activity ids]}

records, in that same transaction, which activities the batch applied, so a
batch that committed but died before deleting them does not apply them twice.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from store.keys import Key
from store.models import new_id, sort_key, user_key
from store.port import Entity, Query

ACTIVITY = "Activity"
FAN_IN_MARK = "FanInMark"
LIKE, COMMENT, FOLLOW, UNFOLLOW = "LIKE", "COMMENT", "FOLLOW", "UNFOLLOW"
NOTIFYING = (LIKE, COMMENT, FOLLOW)  # the kinds that notify the owner
EDGE_KINDS = (FOLLOW, UNFOLLOW)  # the kinds that change the owner's followers list


@dataclass(frozen=True)
class Activity:
    actor_id: str
    owner_id: str
    kind: str
    subject: str  # the photo's encoded key, or "" for follows
    created_at: datetime
    id: str

    @property
    def key(self) -> Key:
        return Key.of(ACTIVITY, self.id)


def activity(actor_id: str, owner_id: str, kind: str, subject: str, when: datetime) -> Entity:
    """A new activity, to be written in the actor's transaction."""
    return activity_to_entity(Activity(actor_id, owner_id, kind, subject, when, new_id()))


def activity_to_entity(a: Activity) -> Entity:
    return Entity(
        a.key,
        {
            "actor": a.actor_id,
            "owner": a.owner_id,
            "kind": a.kind,
            "subject": a.subject,
            "created_at": a.created_at,
            "sort_key": sort_key(a.created_at, a.id),
        },
        unindexed=frozenset({"subject", "kind", "actor"}),
    )


def activity_from_entity(entity: Entity) -> Activity:
    p = entity.properties
    # One written before activities were groups of their own sits in its actor's.
    actor = p.get("actor") or (entity.key.parent and entity.key.parent.name)
    created = p["created_at"]
    assert actor is not None
    assert isinstance(created, datetime)
    return Activity(
        str(actor), str(p["owner"]), str(p["kind"]), str(p["subject"]), created, entity.key.name
    )


def pending_for(owner_id: str) -> Query:
    """The owner's activities not yet applied, oldest first."""
    return Query(
        kind=ACTIVITY, order_by="sort_key", descending=False, equals=(("owner", owner_id),)
    )


def all_pending() -> Query:
    """Everyone's activities not yet applied, oldest first (the sweeper's query)."""
    return Query(kind=ACTIVITY, order_by="sort_key", descending=False)


def mark_key(owner_id: str) -> Key:
    return user_key(owner_id).child(FAN_IN_MARK, "last")


def applied_ids(mark: Entity | None) -> set[str]:
    ids = mark.properties.get("applied") if mark else None
    return {str(i) for i in ids} if isinstance(ids, list) else set()


def mark(owner_id: str, ids: list[str]) -> Entity:
    return Entity(mark_key(owner_id), {"applied": list(ids)}, unindexed=frozenset({"applied"}))
