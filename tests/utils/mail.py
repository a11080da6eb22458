"""Signing in with a verified address, choosing e-mail preferences, and reading what
the local mail outbox recorded, through the real app."""

from __future__ import annotations

from typing import Any

import httpx

from auth.dev_tokens import key_path_in, mint_dev_token
from mail.outbox import MailOutbox, OutboxMail
from settings import Settings
from tests.utils.accounts import call, create_profile
from tests.utils.draining import app_of

PREFERENCES = "{ viewer { emailPreferences { address digest newFollower } } }"
UPDATE_PREFERENCES = """mutation($i: UpdateEmailPreferencesInput!) {
  updateEmailPreferences(input: $i) {
    preferences { address digest newFollower } errors { code message field } } }"""


def signed_in(settings: Settings, user_id: str, email: str | None = None) -> dict[str, str]:
    """A dev token; `email` goes in as verified, as Firebase reports a proven address."""
    token = mint_dev_token(key_path_in(settings.var_dir), user_id, email=email)
    return {"Authorization": f"Bearer {token}"}


async def sign_up(
    http: httpx.AsyncClient, settings: Settings, username: str, email: str | None
) -> dict[str, str]:
    headers = signed_in(settings, f"id-{username}", email)
    payload = await create_profile(http, headers, username=username, displayName=username.title())
    assert payload["errors"] == [], payload
    return headers


async def update_preferences(
    http: httpx.AsyncClient, headers: dict[str, str], **input: Any
) -> dict[str, Any]:
    body = await call(http, UPDATE_PREFERENCES, {"i": input}, headers)
    assert "errors" not in body, body
    payload: dict[str, Any] = body["data"]["updateEmailPreferences"]
    return payload


async def preferences(http: httpx.AsyncClient, headers: dict[str, str]) -> dict[str, Any]:
    body = await call(http, PREFERENCES, None, headers)
    assert "errors" not in body, body
    found: dict[str, Any] = body["data"]["viewer"]["emailPreferences"]
    return found


async def outbox_mails(http: httpx.AsyncClient) -> list[OutboxMail]:
    """Every e-mail the app recorded, oldest first."""
    mail = app_of(http).state.mail
    assert mail is not None
    assert isinstance(mail.sender, MailOutbox)
    return (await mail.sender.recent(1000))[::-1]
