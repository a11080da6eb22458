"""Who may sign in: dev tokens (local only) and Firebase ID tokens (auth/)."""

from __future__ import annotations

from dataclasses import dataclass

from settings.server import local_only
from settings.store import GOOGLE_CLOUD_PROJECT
from settings.variables import Reader, Section, Variable, flag, text


@dataclass(frozen=True)
class AuthSettings:
    """Who may sign in: dev tokens (local only) and Firebase ID tokens."""

    dev_tokens: bool = True
    firebase_project: str | None = None
    firebase_certs_url: str | None = None  # None: Google's securetoken certificates


DEV_TOKENS = Variable(
    "DEV_TOKENS",
    flag(),
    "accepts dev tokens (make token) that anyone can mint; refused in production",
    default="1",
    production_default="0",
)
FIREBASE_PROJECT = Variable(
    "FIREBASE_PROJECT",
    text(),
    "the Firebase project whose ID tokens sign users in",
    shown_default="production: GOOGLE_CLOUD_PROJECT; local: none",
    required="production (GOOGLE_CLOUD_PROJECT serves)",
)
FIREBASE_CERTS_URL = Variable(
    "FIREBASE_CERTS_URL",
    text(),
    "where the token signing certificates are fetched; unset: Google's securetoken ones",
)
FIREBASE_AUTH_EMULATOR_HOST = Variable(
    "FIREBASE_AUTH_EMULATOR_HOST",
    text(),
    "the Firebase Auth emulator, whose tokens are unsigned; refused in production",
    prefixed=False,
)
SECTION = Section(
    "Sign-in",
    "Dev tokens on one machine, Firebase ID tokens everywhere.",
    (DEV_TOKENS, FIREBASE_PROJECT, FIREBASE_CERTS_URL, FIREBASE_AUTH_EMULATOR_HOST),
)


def load_auth_settings(reader: Reader) -> AuthSettings:
    dev_tokens = local_only(reader, DEV_TOKENS, "lets anyone mint a token")
    if reader.production and reader.text(FIREBASE_AUTH_EMULATOR_HOST):
        reader.refuse(
            "FIREBASE_AUTH_EMULATOR_HOST is set: production would trust unsigned emulator tokens"
        )
    firebase_project = reader.optional(FIREBASE_PROJECT) or (
        reader.optional(GOOGLE_CLOUD_PROJECT) if reader.production else None
    )
    if reader.production and not firebase_project:
        reader.refuse(f"{FIREBASE_PROJECT.env_name} must be set in production")
    return AuthSettings(
        dev_tokens=dev_tokens,
        firebase_project=firebase_project,
        firebase_certs_url=reader.optional(FIREBASE_CERTS_URL),
    )
