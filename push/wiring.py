"""Choosing the push adapter from settings, in one place (called by the app factory)."""

from __future__ import annotations

from clock import Clock, system_clock
from push.port import PushSender
from settings import Settings
from store.sqlite_db import SQLiteDatabase


def push_from_settings(
    settings: Settings, database: SQLiteDatabase | None = None, clock: Clock = system_clock
) -> PushSender:
    """`database`: the embedded file's access layer, shared with the store and the
    queue (default: the process's one for settings.sqlite_path); `clock`: the app's,
    which stamps the local outbox's entries and dates FCM's Retry-After answers."""
    config = settings.push
    if config.backend == "fcm":
        from google.oauth2 import service_account

        from push.fcm import FCM_SCOPE, FcmPush

        assert config.fcm_project is not None  # settings refuse fcm without a project
        credentials = None
        if config.fcm_credentials is not None:
            credentials = service_account.Credentials.from_service_account_file(  # type: ignore[no-untyped-call]
                str(config.fcm_credentials), scopes=[FCM_SCOPE]
            )
        return FcmPush(
            config.fcm_project,
            clock=clock,
            credentials=credentials,
            endpoint=config.fcm_endpoint,
        )
    from push.outbox import OutboxPush

    return OutboxPush(database or settings.sqlite_path, clock=clock)
