"""A user's e-mail address and preferences, and the records that keep e-mails to once.

    User/<u>/EmailSettings/current   {address, digest, new_follower, updated_at}
    User/<u>/EmailSent/<what>        {status, claim_until, done_at}
        <what> = digest:<UTC date> | follower:<follower id>

`address` is only ever a verified address from the user's sign-in (the Firebase
`email` claim when `email_verified` is true), recorded when they create their
profile or change it or their preferences; never one typed into a request. A
sign-in without a verified address clears it.

Defaults, for a user who never chose: the daily digest on (at most one e-mail a
day, only when notifications sit unread and no push reached them that day, and
every one unsubscribes in one click); new-follower e-mails off (one per follower
could be many a day).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from store.keys import Key
from store.models import user_key
from store.port import Entity

EMAIL_SETTINGS = "EmailSettings"
EMAIL_SENT = "EmailSent"
DIGEST_DEFAULT = True
NEW_FOLLOWER_DEFAULT = False


@dataclass(frozen=True)
class EmailPreferences:
    address: str | None = None
    digest: bool = DIGEST_DEFAULT
    new_follower: bool = NEW_FOLLOWER_DEFAULT

    def wants(self, topic: str) -> bool:
        """Whether an e-mail on `topic` ("digest", "new_follower") may go out."""
        return self.address is not None and bool(getattr(self, topic))


def email_settings_key(user_id: str) -> Key:
    return user_key(user_id).child(EMAIL_SETTINGS, "current")


def preferences_from_entity(entity: Entity | None) -> EmailPreferences:
    if entity is None:
        return EmailPreferences()
    p = entity.properties
    address = p.get("address")
    return EmailPreferences(
        address=address if isinstance(address, str) and address else None,
        digest=bool(p.get("digest", DIGEST_DEFAULT)),
        new_follower=bool(p.get("new_follower", NEW_FOLLOWER_DEFAULT)),
    )


def preferences_to_entity(user_id: str, preferences: EmailPreferences, now: datetime) -> Entity:
    return Entity(
        email_settings_key(user_id),
        {
            "address": preferences.address,
            "digest": preferences.digest,
            "new_follower": preferences.new_follower,
            "updated_at": now,
        },
        unindexed=frozenset({"address"}),
    )


def digest_email_key(user_id: str, day: date) -> Key:
    return user_key(user_id).child(EMAIL_SENT, f"digest:{day.isoformat()}")


def follower_email_key(followee_id: str, follower_id: str) -> Key:
    return user_key(followee_id).child(EMAIL_SENT, f"follower:{follower_id}")


@dataclass(frozen=True)
class SendRecord:
    """`sending` until `claim_until` (a delivery is sending it), then `sent` or
    `rejected`; both of those are final."""

    status: str
    claim_until: datetime | None = None

    @property
    def final(self) -> bool:
        return self.status in ("sent", "rejected")


def send_record_from_entity(entity: Entity | None) -> SendRecord | None:
    if entity is None:
        return None
    until = entity.properties.get("claim_until")
    return SendRecord(
        str(entity.properties.get("status")), until if isinstance(until, datetime) else None
    )


def send_record(key: Key, record: SendRecord, now: datetime) -> Entity:
    return Entity(key, {"status": record.status, "claim_until": record.claim_until, "at": now})
