"""Signing in and creating profiles through the real app, as a client would."""

from __future__ import annotations

from typing import Any

import httpx

from auth.dev_tokens import key_path_in, mint_dev_token
from settings import Settings

VIEWER = "{ viewer { user { id username displayName } } }"
CREATE_PROFILE = """mutation($input: CreateProfileInput!) { createProfile(input: $input) {
  user { id username displayName } errors { code message field } } }"""
UPDATE_PROFILE = """mutation($input: UpdateProfileInput!) { updateProfile(input: $input) {
  user { id username displayName } errors { code message field } } }"""


def bearer(settings: Settings, user_id: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {mint_dev_token(key_path_in(settings.var_dir), user_id)}"}


async def call(
    http: httpx.AsyncClient,
    query: str,
    variables: dict[str, Any] | None = None,
    headers: dict[str, str] | None = None,
    *,
    path: str = "/graphql",
) -> dict[str, Any]:
    response = await http.post(
        path, json={"query": query, "variables": variables or {}}, headers=headers or {}
    )
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


async def create_profile(
    http: httpx.AsyncClient, headers: dict[str, str], **input: Any
) -> dict[str, Any]:
    body = await call(http, CREATE_PROFILE, {"input": input}, headers)
    assert "errors" not in body, body
    payload: dict[str, Any] = body["data"]["createProfile"]
    return payload
