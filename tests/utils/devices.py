"""Registering push devices through the real app, reading them back from the store,
and delivering a task by hand as the queue would (to deliver one twice)."""

from __future__ import annotations

from typing import Any

import httpx

from store.device_models import Device, device_from_entity, devices_query
from store.port import Store
from taskqueue.headers import EMBEDDED_SECRET, app_engine_task_headers
from tests.utils.accounts import call
from tests.utils.draining import app_of

REGISTER = """mutation($i: RegisterDeviceInput!) { registerDevice(input: $i) {
  device { platform registeredAt } errors { code message field } } }"""
UNREGISTER = """mutation($i: UnregisterDeviceInput!) { unregisterDevice(input: $i) {
  removed errors { code message field } } }"""


def device_token(name: str) -> str:
    """Shaped like an FCM registration token: an instance id, ':', a long base64url tail."""
    return f"{name}:APA91b" + "Qx7-_" * 28


async def register(
    http: httpx.AsyncClient, headers: dict[str, str], token: str, platform: str = "IOS", **more: Any
) -> dict[str, Any]:
    body = await call(
        http, REGISTER, {"i": {"token": token, "platform": platform, **more}}, headers
    )
    assert "errors" not in body, body
    payload: dict[str, Any] = body["data"]["registerDevice"]
    return payload


async def unregister(
    http: httpx.AsyncClient, headers: dict[str, str], token: str, **more: Any
) -> dict[str, Any]:
    body = await call(http, UNREGISTER, {"i": {"token": token, **more}}, headers)
    assert "errors" not in body, body
    payload: dict[str, Any] = body["data"]["unregisterDevice"]
    return payload


async def devices_of(store: Store, user_id: str) -> list[Device]:
    """Most recently registered first."""
    results = await store.page(devices_query(user_id), limit=100)
    return [device_from_entity(result.entity) for result in results]


async def post_task(
    http: httpx.AsyncClient,
    handler: str,
    payload: dict[str, Any],
    name: str,
    retry: int = 0,
    queue: str = "default",
) -> httpx.Response:
    """One delivery of a task, with the headers and secret the embedded queue sends."""
    headers = app_engine_task_headers(queue, name, retry, retry, 0.0)
    headers[EMBEDDED_SECRET] = app_of(http).state.tasks.dispatch_secret
    return await http.post(f"/_internal/tasks/{handler}", json=payload, headers=headers)
