"""What task handlers need to send the app's e-mails: the port and the signed links."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from urllib.parse import urlsplit

from mail.links import UnsubscribeLinks
from mail.port import MailSender


@dataclass(frozen=True)
class MailService:
    sender: MailSender
    links: UnsubscribeLinks

    @property
    def origin(self) -> str:
        return self.links.origin

    def message_id(self, *parts: str) -> str:
        """A Message-ID that stands for `parts` (e.g. a user's digest of one day):
        the same each time it is made."""
        digest = hashlib.sha256("\0".join(parts).encode()).hexdigest()[:32]
        return f"<{digest}@{urlsplit(self.origin).hostname or 'localhost'}>"
