"""The rules for usernames and display names, in one place (docs/MUTATIONS.md quotes them).

Usernames: 3 to 30 characters; lower-case or upper-case ASCII letters, digits,
underscore and dot; starting with a letter; no dot at the end and no two dots in
a row; unique across the service without regard to case ("Alice" and "alice"
are the same name); some names are reserved. Display names: 1 to 50 characters
after trimming, no control characters.
"""

from __future__ import annotations

import re
import unicodedata

from resolvers.user_errors import UserErrorCode

USERNAME_MIN, USERNAME_MAX = 3, 30
DISPLAY_NAME_MAX = 50
_USERNAME = re.compile(r"[A-Za-z][A-Za-z0-9_.]*")
RESERVED_USERNAMES = frozenset(
    {
        "about", "admin", "administrator", "api", "app", "apps", "auth", "billing",
        "contact", "explore", "feed", "graphql", "help", "home", "login", "logout",
        "me", "moderator", "news", "notifications", "null", "official", "photo",
        "photos", "phototimeline", "privacy", "root", "security", "settings", "signin",
        "signup", "staff", "support", "system", "terms", "timeline", "undefined",
        "user", "users", "viewer", "www",
    }
)  # fmt: skip


def username_problem(username: str) -> tuple[UserErrorCode, str] | None:
    """(code, message) when `username` breaks a rule, else None."""
    if not USERNAME_MIN <= len(username) <= USERNAME_MAX:
        return (
            UserErrorCode.INVALID_INPUT,
            f"Usernames are {USERNAME_MIN} to {USERNAME_MAX} characters long.",
        )
    if not _USERNAME.fullmatch(username):
        return (
            UserErrorCode.INVALID_INPUT,
            "Usernames start with a letter and use only letters, digits, '_' and '.'.",
        )
    if username.endswith(".") or ".." in username:
        return (
            UserErrorCode.INVALID_INPUT,
            "Usernames cannot end with '.' or have two dots in a row.",
        )
    if username.lower().replace(".", "").replace("_", "") in RESERVED_USERNAMES:
        return UserErrorCode.USERNAME_RESERVED, "That username is reserved."
    return None


def clean_display_name(display_name: str) -> str | None:
    """The display name as stored, or None when it breaks a rule."""
    cleaned = unicodedata.normalize("NFC", display_name.strip())
    if not 1 <= len(cleaned) <= DISPLAY_NAME_MAX:
        return None
    if any(unicodedata.category(ch).startswith("C") for ch in cleaned):
        return None
    return cleaned
