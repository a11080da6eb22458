"""Devices that receive pushes, and the records push delivery keeps.

    User/<u>/Device/<h>          an app install of u's, h = hash of its FCM token
    DeviceToken/<h>              who holds token h now (a root of its own)
    PushStatus/<u>               when u was last pushed (the digest skips u then)
    User/<u>/DigestSent/<date>   u's digest for that UTC date went out

An FCM registration token names one app install, not a person. When someone else
signs in on that install and registers the same token, the token moves: the
`DeviceToken` claim says whose Device record to delete, in the same transaction
that writes the new one, so a phone never gets two people's pushes. The claim is
read by key, never by a query, as a Username claim is.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import date, datetime
from typing import Literal

from store.keys import Key
from store.models import sort_key, user_key
from store.port import Entity, Query

DEVICE = "Device"
DEVICE_TOKEN = "DeviceToken"
PUSH_STATUS = "PushStatus"
DIGEST_SENT = "DigestSent"
# The push port's platforms (push.Platform); the store names them without depending on it.
Platform = Literal["IOS", "ANDROID", "WEB"]
PLATFORMS: tuple[Platform, ...] = ("IOS", "ANDROID", "WEB")


def token_hash(token: str) -> str:
    """Key names stay short and indexable however long the token (up to 4 KiB)."""
    return hashlib.sha256(token.encode()).hexdigest()[:32]


@dataclass(frozen=True)
class Device:
    user_id: str
    token: str
    platform: Platform
    registered_at: datetime

    @property
    def key(self) -> Key:
        return device_key(self.user_id, self.token)


def device_key(user_id: str, token: str) -> Key:
    return user_key(user_id).child(DEVICE, token_hash(token))


def claim_key(token: str) -> Key:
    return Key.of(DEVICE_TOKEN, token_hash(token))


def claim_key_of(device: Key) -> Key:
    """The claim of a device known only by its key (the key name is the hash)."""
    return Key.of(DEVICE_TOKEN, device.name)


def devices_query(user_id: str) -> Query:
    """A user's devices, most recently registered first."""
    return Query(kind=DEVICE, order_by="sort_key", ancestor=user_key(user_id))


def device_to_entity(device: Device) -> Entity:
    return Entity(
        device.key,
        {
            "token": device.token,
            "platform": device.platform,
            "registered_at": device.registered_at,
            "sort_key": sort_key(device.registered_at, device.key.name),
        },
        # Datastore indexes strings up to 1500 bytes; a token may be longer.
        unindexed=frozenset({"token"}),
    )


def device_from_entity(entity: Entity) -> Device:
    owner = entity.key.parent
    p = entity.properties
    platform = str(p["platform"])
    registered = p["registered_at"]
    if owner is None or platform not in PLATFORMS or not isinstance(registered, datetime):
        raise ValueError(f"not a device: {entity.key}")
    return Device(owner.name, str(p["token"]), platform, registered)


def claim_entity(token: str, user_id: str) -> Entity:
    return Entity(claim_key(token), {"user_id": user_id})


def claim_holder(claim: Entity | None) -> str | None:
    return None if claim is None else str(claim.properties.get("user_id") or "") or None


def push_status_key(user_id: str) -> Key:
    """A root of its own: written by every push, it would make the user's own
    mutations, which read the user's group, retry (docs/ARCHITECTURE.md)."""
    return Key.of(PUSH_STATUS, user_id)


def push_status(user_id: str, pushed_at: datetime) -> Entity:
    return Entity(push_status_key(user_id), {"last_push_at": pushed_at})


def last_push_at(status: Entity | None) -> datetime | None:
    value = None if status is None else status.properties.get("last_push_at")
    return value if isinstance(value, datetime) else None


def digest_sent_key(user_id: str, day: date) -> Key:
    return user_key(user_id).child(DIGEST_SENT, day.isoformat())


def digest_sent(user_id: str, day: date, sent_at: datetime) -> Entity:
    return Entity(digest_sent_key(user_id, day), {"sent_at": sent_at})
