"""Push notifications (push/): a local outbox, or Firebase Cloud Messaging."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from settings.auth import FIREBASE_PROJECT
from settings.store import GOOGLE_CLOUD_PROJECT
from settings.variables import Reader, Section, Variable, adapter_choice, path, text

PushBackend = Literal["outbox", "fcm"]
FCM_ENDPOINT = "https://fcm.googleapis.com"


@dataclass(frozen=True)
class PushSettings:
    """Push notifications (push/): a local outbox, or Firebase Cloud Messaging."""

    backend: PushBackend = "outbox"
    fcm_project: str | None = None  # the Firebase project the apps are registered with
    fcm_endpoint: str = FCM_ENDPOINT
    fcm_credentials: Path | None = None  # service-account JSON; None: default credentials


PUSH = adapter_choice(
    "PUSH", "outbox", "fcm", "where pushes go: a local outbox (python -m push.outbox), or FCM"
)
FCM_PROJECT = Variable(
    "FCM_PROJECT",
    text(),
    "fcm: the Firebase project the apps are registered with",
    shown_default="TIMELINE_FIREBASE_PROJECT, else GOOGLE_CLOUD_PROJECT",
    required="TIMELINE_PUSH=fcm (or one of its defaults)",
)
FCM_ENDPOINT_VARIABLE = Variable(
    "FCM_ENDPOINT", text(), "fcm: the FCM API's base URL (a fake, in tests)", default=FCM_ENDPOINT
)
FCM_CREDENTIALS = Variable(
    "FCM_CREDENTIALS",
    path(),
    "fcm: a service-account JSON file",
    shown_default="the platform's default credentials",
)
SECTION = Section(
    "Push",
    "Push notifications to the apps.",
    (PUSH, FCM_PROJECT, FCM_ENDPOINT_VARIABLE, FCM_CREDENTIALS),
)


def load_push_settings(reader: Reader) -> PushSettings:
    backend = reader.adapter(PUSH, "only records pushes on one machine")
    # The apps' Firebase project, which is normally the one that signs users in.
    project = (
        reader.optional(FCM_PROJECT)
        or reader.optional(FIREBASE_PROJECT)
        or reader.optional(GOOGLE_CLOUD_PROJECT)
    )
    if backend == "fcm" and not project:
        reader.refuse(f"{PUSH.env_name}=fcm needs {FCM_PROJECT.env_name} (the Firebase project)")
    return PushSettings(
        backend=backend,  # type: ignore[arg-type]
        fcm_project=project,
        fcm_endpoint=reader.value(FCM_ENDPOINT_VARIABLE),
        fcm_credentials=reader.optional(FCM_CREDENTIALS),
    )
