"""Push notifications: the port, a local outbox and Firebase Cloud Messaging (HTTP v1).

Task handlers see `PushSender` only; the app factory picks the adapter from
settings (`push.wiring.push_from_settings`).
"""

from push.port import (
    DELIVERED,
    PLATFORMS,
    UNREGISTERED,
    Platform,
    PushMessage,
    PushResult,
    PushSender,
    Status,
)

__all__ = [
    "DELIVERED",
    "PLATFORMS",
    "UNREGISTERED",
    "Platform",
    "PushMessage",
    "PushResult",
    "PushSender",
    "Status",
]
