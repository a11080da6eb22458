"""What the FCM stub accepts as a `messages:send` body: the v1 `Message` fields we
use, by name and type (https://firebase.google.com/docs/reference/fcm/rest/v1/projects.messages).
An unknown field is an error, as it is for FCM ("Invalid JSON payload received.
Unknown name ..."), so a typo fails a test instead of a production push."""

from __future__ import annotations

import json
import re
from typing import Any

_BODY = {"message", "validate_only"}
_MESSAGE = {"name", "data", "notification", "android", "webpush", "apns", "fcm_options", "token"}
_NOTIFICATION = {"title", "body", "image"}
_ANDROID = {
    "collapse_key", "priority", "ttl", "restricted_package_name", "data", "notification",
    "fcm_options", "direct_boot_ok",
}  # fmt: skip
_ANDROID_NOTIFICATION = {
    "title", "body", "icon", "color", "sound", "tag", "click_action", "channel_id",
    "notification_priority", "visibility", "notification_count",
}  # fmt: skip
_APNS = {"headers", "payload", "fcm_options", "live_activity_token"}
_WEBPUSH = {"headers", "data", "notification", "fcm_options"}
_DURATION = re.compile(r"\d+(\.\d{1,9})?s")
# FCM's limit on a message's payload (everything but the target).
MAX_PAYLOAD_BYTES = 4096


def _string_map(value: Any) -> bool:
    return isinstance(value, dict) and all(
        isinstance(k, str) and isinstance(v, str) for k, v in value.items()
    )


def _unknown(where: str, value: dict[str, Any], allowed: set[str]) -> list[str]:
    return [f"{where}: unknown field {name!r}" for name in sorted(set(value) - allowed)]


def message_problems(body: Any) -> list[str]:
    if not isinstance(body, dict) or not isinstance(body.get("message"), dict):
        return ["the body must be an object with a `message` object"]
    problems = _unknown("body", body, _BODY)
    message: dict[str, Any] = body["message"]
    problems += _unknown("message", message, _MESSAGE)
    if not isinstance(message.get("token"), str) or not message["token"]:
        problems.append("message.token must be a non-empty string (one device per request)")
    notification = message.get("notification")
    if not isinstance(notification, dict):
        problems.append("message.notification must be an object")
    else:
        problems += _unknown("message.notification", notification, _NOTIFICATION)
        for name in ("title", "body"):
            if not isinstance(notification.get(name), str) or not notification[name]:
                problems.append(f"message.notification.{name} must be a non-empty string")
    if "data" in message and not _string_map(message["data"]):
        problems.append("message.data values must all be strings")
    problems += _android_problems(message.get("android"))
    problems += _apns_problems(message.get("apns"))
    problems += _webpush_problems(message.get("webpush"))
    payload = {k: v for k, v in message.items() if k != "token"}
    if len(json.dumps(payload).encode()) > MAX_PAYLOAD_BYTES:
        problems.append(f"the payload is over {MAX_PAYLOAD_BYTES} bytes")
    return problems


def _android_problems(android: Any) -> list[str]:
    if android is None:
        return []
    if not isinstance(android, dict):
        return ["message.android must be an object"]
    problems = _unknown("message.android", android, _ANDROID)
    if android.get("priority", "NORMAL") not in ("NORMAL", "HIGH"):
        problems.append("message.android.priority must be NORMAL or HIGH")
    if "ttl" in android and not _DURATION.fullmatch(str(android["ttl"])):
        problems.append("message.android.ttl must be a duration such as '3.5s'")
    notification = android.get("notification", {})
    if not isinstance(notification, dict):
        return [*problems, "message.android.notification must be an object"]
    return problems + _unknown("message.android.notification", notification, _ANDROID_NOTIFICATION)


def _apns_problems(apns: Any) -> list[str]:
    if apns is None:
        return []
    if not isinstance(apns, dict):
        return ["message.apns must be an object"]
    problems = _unknown("message.apns", apns, _APNS)
    headers = apns.get("headers", {})
    if not _string_map(headers):
        return [*problems, "message.apns.headers values must be strings"]
    if headers.get("apns-priority", "10") not in ("5", "10"):
        problems.append("apns-priority must be '5' or '10'")
    if len(headers.get("apns-collapse-id", "").encode()) > 64:
        problems.append("apns-collapse-id must be at most 64 bytes")
    payload = apns.get("payload", {"aps": {}})
    if not isinstance(payload, dict) or not isinstance(payload.get("aps"), dict):
        problems.append("message.apns.payload must hold an `aps` object")
    return problems


def _webpush_problems(webpush: Any) -> list[str]:
    if webpush is None:
        return []
    if not isinstance(webpush, dict):
        return ["message.webpush must be an object"]
    problems = _unknown("message.webpush", webpush, _WEBPUSH)
    if not _string_map(webpush.get("headers", {})):
        problems.append("message.webpush.headers values must be strings")
    if not isinstance(webpush.get("notification", {}), dict):
        problems.append("message.webpush.notification must be an object")
    return problems
