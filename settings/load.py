"""The one Settings object, and load_settings, which reads it from the environment
once at start-up (each part's variables are declared in its own module)."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from settings.auth import AuthSettings, load_auth_settings
from settings.cache import CacheSettings, load_cache_settings
from settings.graphql import (
    PersistedQuerySettings,
    QueryLimits,
    load_persisted_query_settings,
    load_query_limits,
)
from settings.mail import MailSettings, load_mail_settings
from settings.media import MediaSettings, load_media_settings
from settings.observability import ObservabilitySettings, load_observability_settings
from settings.push import PushSettings, load_push_settings
from settings.server import (
    DEMO_DATA,
    GAE_ENV,
    GRAPHIQL,
    PUBLIC_ORIGIN,
    WebSettings,
    load_secret_key,
    load_web_settings,
    local_only,
    read_mode,
)
from settings.store import GOOGLE_CLOUD_PROJECT, LOCAL_PROJECT, load_store_choice
from settings.tasks import (
    PullQueueSettings,
    TaskSettings,
    load_pull_queue_settings,
    load_task_settings,
)
from settings.variables import Reader

StoreKind = Literal["sqlite", "datastore"]


@dataclass(frozen=True)
class Settings:
    environment: Literal["local", "production"] = "local"
    # Only App Engine strips X-AppEngine-* headers from outside requests, so only
    # there do they prove a call came from its queues or its cron service.
    app_engine: bool = False
    store: StoreKind = "sqlite"
    var_dir: Path = Path("var")
    sqlite_path: Path = Path("var/timeline.db")
    datastore_project: str = LOCAL_PROJECT
    datastore_namespace: str | None = None
    secret_key: bytes = field(default=b"", repr=False)
    demo_data: bool = False
    graphiql: bool = True
    query_limits: QueryLimits = field(default_factory=QueryLimits)
    persisted_queries: PersistedQuerySettings = field(default_factory=PersistedQuerySettings)
    tasks: TaskSettings = field(default_factory=TaskSettings)
    auth: AuthSettings = field(default_factory=AuthSettings)
    media: MediaSettings = field(default_factory=MediaSettings)
    push: PushSettings = field(default_factory=PushSettings)
    mail: MailSettings = field(default_factory=MailSettings)
    pull_queue: PullQueueSettings = field(default_factory=PullQueueSettings)
    web: WebSettings = field(default_factory=WebSettings)
    cache: CacheSettings = field(default_factory=CacheSettings)
    observability: ObservabilitySettings = field(default_factory=ObservabilitySettings)

    @property
    def is_production(self) -> bool:
        return self.environment == "production"


def load_settings(environ: Mapping[str, str] | None = None) -> Settings:
    """The settings, or a SettingsError listing every problem, each naming its variable."""
    return read_settings(Reader(os.environ if environ is None else environ, False))


def read_settings(reader: Reader) -> Settings:
    """load_settings with the reader given, so that a test can see what was read."""
    reader.production = production = read_mode(reader)
    store = load_store_choice(reader)
    demo_data = reader.value(DEMO_DATA)
    if production and demo_data:
        reader.refuse(f"{DEMO_DATA.env_name} is for local development only")
    settings = Settings(
        environment="production" if production else "local",
        app_engine=(reader.text(GAE_ENV) or "").startswith("standard"),
        store=store.kind,  # type: ignore[arg-type]
        var_dir=store.var_dir,
        sqlite_path=store.sqlite_path,
        datastore_project=store.project,
        datastore_namespace=store.namespace,
        secret_key=load_secret_key(reader, store.var_dir),
        demo_data=demo_data,
        graphiql=local_only(reader, GRAPHIQL, "serves GraphiQL to anyone"),
        query_limits=load_query_limits(reader),
        persisted_queries=load_persisted_query_settings(reader),
        tasks=load_task_settings(reader, store.project),
        auth=load_auth_settings(reader),
        media=load_media_settings(reader, store.project),
        push=load_push_settings(reader),
        mail=load_mail_settings(reader),
        pull_queue=load_pull_queue_settings(reader, store.project),
        web=load_web_settings(reader),
        cache=load_cache_settings(reader),
        observability=load_observability_settings(
            reader, reader.optional(GOOGLE_CLOUD_PROJECT) or store.named_project
        ),
    )
    if settings.mail.sends and settings.web.public_origin is None:
        reader.refuse(
            f"TIMELINE_MAIL={settings.mail.backend} needs {PUBLIC_ORIGIN.env_name}: "
            "the unsubscribe link in every e-mail is an absolute URL"
        )
    reader.check()
    return settings
