"""The words a notification is shown with, in the app (`Notification.message`) and
on the lock screen (push), so that both always say the same thing."""

from __future__ import annotations

VERBS = {
    "FOLLOW": "started following you",
    "LIKE": "liked your photo",
    "COMMENT": "commented on your photo",
    "NEW_PHOTO": "posted a photo",
}
# Badges say "99+"; the digest counts no further than the unread badge does.
UNREAD_SHOWN = 99


def notification_message(kind: str, first_actor: str | None, actor_count: int) -> str:
    """'alice and 4 others liked your photo'; `first_actor` is the most recent actor's
    username (None when that account is gone)."""
    first = first_actor or "Someone"
    others = actor_count - 1
    who = first if others <= 0 else f"{first} and {others} other{'s' if others > 1 else ''}"
    return f"{who} {VERBS[kind]}"


def digest_message(unread: int) -> str:
    """'You have 3 unread notifications'."""
    count = f"{UNREAD_SHOWN}+" if unread > UNREAD_SHOWN else str(unread)
    return f"You have {count} unread notification{'' if unread == 1 else 's'}"
