"""The FCM HTTP v1 message for one device; the outbox records the very same JSON.

Reference: https://firebase.google.com/docs/reference/fcm/rest/v1/projects.messages
Every platform gets `notification {title, body}` and string-valued `data`; the
platform block adds what that platform's push service needs to show it well.
"""

from __future__ import annotations

from typing import Any

from push.port import Platform, PushMessage

# A notification nobody saw within a day is stale; the digest covers it instead.
TTL_SECONDS = 86_400


def fcm_message(token: str, platform: Platform, message: PushMessage) -> dict[str, Any]:
    """The request body of `messages:send` for `token`."""
    body: dict[str, Any] = {
        "token": token,
        "notification": {"title": message.title, "body": message.body},
        "data": dict(message.data),
    }
    collapse = message.collapse_key
    if platform == "IOS":
        # APNs wants a push type and a priority for alerts; the collapse id (at
        # most 64 bytes) replaces an earlier alert for the same notification.
        headers = {"apns-push-type": "alert", "apns-priority": "10"}
        if collapse:
            headers["apns-collapse-id"] = collapse[:64]
        body["apns"] = {"headers": headers, "payload": {"aps": {"sound": "default"}}}
    elif platform == "ANDROID":
        android: dict[str, Any] = {"priority": "HIGH", "ttl": f"{TTL_SECONDS}s"}
        if collapse:
            android["collapse_key"] = collapse
            android["notification"] = {"tag": collapse}
        body["android"] = android
    else:
        webpush: dict[str, Any] = {"headers": {"TTL": str(TTL_SECONDS), "Urgency": "normal"}}
        if collapse:
            webpush["notification"] = {"tag": collapse}
        body["webpush"] = webpush
    return {"message": body}
