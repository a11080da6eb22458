"""Unsubscribe links: an HTTPS URL per user and topic, signed with the server secret.

    links = UnsubscribeLinks("https://timeline.example.com", secret)
    links.url("u123", "digest")   # https://timeline.example.com/email/unsubscribe?token=...
    links.verify(token)           # ("u123", "digest"), or None for anything forged

The token is the user id and the topic with an HMAC-SHA256 of both (under a key
derived from the secret for this use alone, so a cursor's signature can never
pass for one). It does not expire: an unsubscribe link in a year-old e-mail must
still work, and all it can ever do is turn one kind of e-mail off.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
from typing import Literal

Topic = Literal["digest", "new_follower"]
TOPICS: tuple[Topic, ...] = ("digest", "new_follower")
UNSUBSCRIBE_PATH = "/email/unsubscribe"
_MAC_BYTES = 16


class UnsubscribeLinks:
    def __init__(self, origin: str, secret: bytes) -> None:
        self.origin = origin.rstrip("/")
        self._key = hashlib.sha256(b"email-unsubscribe:" + secret).digest()

    def token(self, user_id: str, topic: Topic) -> str:
        body = f"{topic}:{user_id}".encode()
        return f"{_encode(body)}.{_encode(self._mac(body))}"

    def url(self, user_id: str, topic: Topic) -> str:
        return f"{self.origin}{UNSUBSCRIBE_PATH}?token={self.token(user_id, topic)}"

    def verify(self, token: str) -> tuple[str, Topic] | None:
        """(user id, topic) of a token this server signed, else None."""
        encoded_body, _, encoded_mac = token.partition(".")
        try:
            body, mac = _decode(encoded_body), _decode(encoded_mac)
        except (ValueError, binascii.Error):
            return None
        if not hmac.compare_digest(mac, self._mac(body)):
            return None
        topic, _, user_id = body.decode("utf-8", "replace").partition(":")
        for known in TOPICS:
            if topic == known and user_id:
                return user_id, known
        return None

    def _mac(self, body: bytes) -> bytes:
        return hmac.new(self._key, body, hashlib.sha256).digest()[:_MAC_BYTES]


def _encode(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _decode(text: str) -> bytes:
    if not text or len(text) > 512:
        raise ValueError("not a token")
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
