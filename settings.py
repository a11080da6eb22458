"""One typed settings object, read from the environment once at start-up.

Every variable carries the TIMELINE_ prefix. Production is the default wherever
the app runs (App Engine, Cloud Run, a VM): cloud adapters, no dev tokens, no
GraphiQL, and dev-only settings are refused, so a misconfigured deploy fails at
start rather than serving with a guessable secret. Local development is asked for
with TIMELINE_ENV=local (`make run` sets it) and then needs no other variable.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal
from urllib.parse import urlsplit

from mail.settings import MailSettings, load_mail_settings
from observability.settings import ObservabilitySettings, load_observability_settings

PREFIX = "TIMELINE_"
StoreKind = Literal["sqlite", "datastore"]
TaskBackend = Literal["embedded", "cloudtasks"]
BlobBackend = Literal["local", "gcs"]
PushBackend = Literal["outbox", "fcm"]
PullBackend = Literal["embedded", "pubsub"]
CacheBackend = Literal["memory", "redis", "off"]
FCM_ENDPOINT = "https://fcm.googleapis.com"
GOOGLE_OIDC_CERTS_URL = "https://www.googleapis.com/oauth2/v1/certs"
LOCAL_ORIGIN = "http://127.0.0.1:8080"
PLACEHOLDER_SECRET = "replace-with-at-least-32-random-characters"  # secret.yaml.example
# Set by the platforms that cannot be local: App Engine, and Cloud Run.
_HOSTED_MARKERS = ("GAE_ENV", "K_SERVICE")


class SettingsError(ValueError):
    """A setting is missing, malformed or not allowed where the app runs."""


@dataclass(frozen=True)
class TaskSettings:
    """Background work (tasks/): which queue, and how Cloud Tasks reaches the app."""

    backend: TaskBackend = "embedded"
    queue_yaml: Path | None = None  # None: the project's own queue.yaml
    lease_seconds: float = 30.0  # embedded: how soon a killed process's task runs again
    cloud_project: str = "photo-timeline-local"
    cloud_location: str | None = None
    emulator_host: str | None = None
    target_url: str | None = None  # HTTP targets (off App Engine): the app's base URL
    service_account: str | None = None  # HTTP targets: whom Cloud Tasks' OIDC token names
    audience: str | None = None  # OIDC audience; the target URL when unset
    oidc_certs_url: str = GOOGLE_OIDC_CERTS_URL
    # The embedded cron scheduler (tasks/scheduler.py); App Engine's cron service on App Engine.
    cron_scheduler: bool = True
    cron_yaml: Path | None = None  # None: the project's own cron.yaml


@dataclass(frozen=True)
class AuthSettings:
    """Who may sign in: dev tokens (local only) and Firebase ID tokens."""

    dev_tokens: bool = True
    firebase_project: str | None = None
    firebase_certs_url: str | None = None  # None: Google's securetoken certificates


@dataclass(frozen=True)
class MediaSettings:
    """Uploads (media/): where images are kept and what an upload may be."""

    backend: BlobBackend = "local"
    media_dir: Path | None = None  # local: None means <var_dir>/media
    gcs_bucket: str | None = None
    gcs_public_url: str | None = None  # None: https://storage.googleapis.com/<bucket>
    max_upload_bytes: int = 25 * 1024 * 1024
    max_image_pixels: int = 50_000_000
    image_workers: int = 2  # threads of the image pool: images decoded at once
    # Bytes of image work in memory at once; None: half the instance's memory,
    # at most 2 GiB (media/budget.py).
    image_memory_budget: int | None = None
    image_budget_wait_seconds: float = 5.0  # then 503 with Retry-After


@dataclass(frozen=True)
class QueryLimits:
    """What one GraphQL document may ask for, checked before it runs; why these
    defaults: schema/query_limits.py."""

    max_bytes: int = 16 * 1024
    max_tokens: int = 2_000
    max_operations: int = 10
    max_fields: int = 150
    max_aliases: int = 30
    max_directives: int = 50
    max_depth: int = 12
    max_cost: int = 10_000


@dataclass(frozen=True)
class PersistedQuerySettings:
    """Automatic persisted queries and trusted documents (persisted_queries.py)."""

    enabled: bool = True  # APQ: clients may register documents by hash
    # An operation manifest (Apollo's format): when set, only its operations run.
    trusted_documents: Path | None = None


@dataclass(frozen=True)
class PushSettings:
    """Push notifications (push/): a local outbox, or Firebase Cloud Messaging."""

    backend: PushBackend = "outbox"
    fcm_project: str | None = None  # the Firebase project the apps are registered with
    fcm_endpoint: str = FCM_ENDPOINT
    fcm_credentials: Path | None = None  # service-account JSON; None: default credentials


@dataclass(frozen=True)
class PullQueueSettings:
    """Pull queues (tasks/pull_port.py): a table in the embedded file, or Pub/Sub.
    PUBSUB_EMULATOR_HOST, read by Google's client library, points it at the emulator."""

    backend: PullBackend = "embedded"
    pubsub_project: str = "photo-timeline-local"
    pubsub_topic: str = "pull-tasks"
    pubsub_subscription: str = "pull-tasks-worker"


@dataclass(frozen=True)
class CacheSettings:
    """The read-through cache (cache/): in this process, on Redis (Memorystore), or off."""

    backend: CacheBackend = "memory"
    redis_url: str | None = None  # redis://host:port/db, rediss:// or unix://
    max_entries: int = 50_000  # memory: generations and values together
    ttl_seconds: int = 300  # redis: how long a value lives if nothing invalidates it


@dataclass(frozen=True)
class WebSettings:
    """What browsers and slow clients meet (web.py, serve.py)."""

    # Where absolute URLs the API hands out point; never taken from the Host header.
    # None: URLs relative to the API stay relative (production's images are on GCS).
    public_origin: str | None = LOCAL_ORIGIN
    cors_origins: tuple[str, ...] = ()  # web apps allowed to call the API; () sends no CORS
    body_timeout_seconds: float = 60.0  # a request body must have arrived by then: 408
    header_seconds: float = 10.0  # a request's headers must have arrived by then (serve.py)
    # The request line and headers; a Firebase ID token is about 1 KB.
    max_header_bytes: int = 16 * 1024


@dataclass(frozen=True)
class Settings:
    environment: Literal["local", "production"] = "local"
    # Only App Engine strips X-AppEngine-* headers from outside requests, so only
    # there do they prove a call came from its queues or its cron service.
    app_engine: bool = False
    store: StoreKind = "sqlite"
    var_dir: Path = Path("var")
    sqlite_path: Path = Path("var/timeline.db")
    datastore_project: str = "photo-timeline-local"
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
    env = os.environ if environ is None else environ

    def get(name: str, default: str | None = None) -> str | None:
        return env.get(PREFIX + name, default)

    production = _is_production(get("ENV", "production"), env)

    var_dir = Path(get("VAR_DIR", "var") or "var")
    store = _backend(get, "STORE", local="sqlite", cloud="datastore", production=production)
    named_project = get("DATASTORE_PROJECT") or env.get("GOOGLE_CLOUD_PROJECT")
    project = named_project or "photo-timeline-local"
    settings = Settings(
        environment="production" if production else "local",
        app_engine=env.get("GAE_ENV", "").startswith("standard"),
        store=store,  # type: ignore[arg-type]
        var_dir=var_dir,
        sqlite_path=local_sqlite_path(env),
        datastore_project=project,
        datastore_namespace=get("DATASTORE_NAMESPACE") or None,
        secret_key=_secret_key(get("SECRET_KEY"), var_dir, production),
        demo_data=_flag(get("DEMO_DATA", "0"), "DEMO_DATA"),
        graphiql=_local_only(get, "GRAPHIQL", production, "serves GraphiQL to anyone"),
        query_limits=_query_limits(get),
        persisted_queries=_persisted_query_settings(get),
        tasks=_task_settings(get, project, production),
        auth=_auth_settings(get, env, production),
        media=_media_settings(get, project, production),
        push=_push_settings(get, env, production),
        mail=load_mail_settings(get, production),
        pull_queue=_pull_queue_settings(get, project, production),
        web=_web_settings(get, production),
        cache=_cache_settings(get, production),
        observability=load_observability_settings(
            get, env.get("GOOGLE_CLOUD_PROJECT") or named_project
        ),
    )
    if settings.mail.sends and settings.web.public_origin is None:
        raise SettingsError(
            f"{PREFIX}MAIL={settings.mail.backend} needs {PREFIX}PUBLIC_ORIGIN: "
            "the unsubscribe link in every e-mail is an absolute URL"
        )
    if production and settings.demo_data:
        raise SettingsError(f"{PREFIX}DEMO_DATA is for local development only")
    if production and not named_project:
        # App Engine sets GOOGLE_CLOUD_PROJECT; Cloud Run does not (service.yaml does).
        raise SettingsError(
            f"GOOGLE_CLOUD_PROJECT (or {PREFIX}DATASTORE_PROJECT) must name the project "
            "in production"
        )
    return settings


def local_sqlite_path(environ: Mapping[str, str] | None = None) -> Path:
    """The embedded store's file, for the command-line tools that read it on this
    machine (python -m tasks.runs, python -m push.outbox); no other setting is checked."""
    env = os.environ if environ is None else environ
    var_dir = Path(env.get(PREFIX + "VAR_DIR") or "var")
    return Path(env.get(PREFIX + "SQLITE_PATH") or var_dir / "timeline.db")


def _auth_settings(
    get: Callable[[str, str | None], str | None], env: Mapping[str, str], production: bool
) -> AuthSettings:
    dev_tokens = _local_only(get, "DEV_TOKENS", production, "lets anyone mint a token")
    if production and env.get("FIREBASE_AUTH_EMULATOR_HOST"):
        raise SettingsError(
            "FIREBASE_AUTH_EMULATOR_HOST is set: production would trust unsigned emulator tokens"
        )
    firebase_project = get("FIREBASE_PROJECT", None) or (
        env.get("GOOGLE_CLOUD_PROJECT") if production else None
    )
    if production and not firebase_project:
        raise SettingsError(f"{PREFIX}FIREBASE_PROJECT must be set in production")
    return AuthSettings(
        dev_tokens=dev_tokens,
        firebase_project=firebase_project,
        firebase_certs_url=get("FIREBASE_CERTS_URL", None) or None,
    )


def _is_production(value: str | None, env: Mapping[str, str]) -> bool:
    if value not in ("local", "production"):
        raise SettingsError(f"{PREFIX}ENV must be 'local' or 'production', not {value!r}")
    hosted = [name for name in _HOSTED_MARKERS if env.get(name)]
    if value == "local" and hosted:
        raise SettingsError(
            f"{PREFIX}ENV=local where {hosted[0]} is set: a hosted app always runs as production"
        )
    return value == "production"


def _local_only(
    get: Callable[[str, str | None], str | None], name: str, production: bool, danger: str
) -> bool:
    """A switch that is on locally and refused in production."""
    enabled = _flag(get(name, "0" if production else "1"), name)
    if production and enabled:
        raise SettingsError(f"{PREFIX}{name} {danger}; never in production")
    return enabled


def _web_settings(get: Callable[[str, str | None], str | None], production: bool) -> WebSettings:
    origin = get("PUBLIC_ORIGIN", None) or (None if production else LOCAL_ORIGIN)
    if origin is not None:
        origin = _origin(origin, "PUBLIC_ORIGIN", https=production)
    cors = tuple(
        _origin(value.strip(), "CORS_ORIGINS", https=production)
        for value in (get("CORS_ORIGINS", "") or "").split(",")
        if value.strip()
    )
    deadlines = {
        name: _float(get(name, str(default)), name)
        for name, default in (
            ("BODY_TIMEOUT_SECONDS", WebSettings.body_timeout_seconds),
            ("HEADER_SECONDS", WebSettings.header_seconds),
        )
    }
    for name, value in deadlines.items():
        if value <= 0:
            raise SettingsError(f"{PREFIX}{name} must be positive, not {value}")
    return WebSettings(
        public_origin=origin,
        cors_origins=cors,
        body_timeout_seconds=deadlines["BODY_TIMEOUT_SECONDS"],
        header_seconds=deadlines["HEADER_SECONDS"],
    )


def _cache_settings(
    get: Callable[[str, str | None], str | None], production: bool
) -> CacheSettings:
    url = get("REDIS_URL", None) or None
    backend = get("CACHE", None) or ("redis" if url else "off" if production else "memory")
    if backend not in ("memory", "redis", "off"):
        raise SettingsError(f"{PREFIX}CACHE must be 'memory', 'redis' or 'off', not {backend!r}")
    if production and backend == "memory":
        raise SettingsError(
            f"{PREFIX}CACHE=memory keeps a cache per instance that other instances' writes "
            f"do not invalidate; use redis ({PREFIX}REDIS_URL) or off"
        )
    if backend == "redis" and not url:
        raise SettingsError(f"{PREFIX}CACHE=redis needs {PREFIX}REDIS_URL")
    if url and urlsplit(url).scheme not in ("redis", "rediss", "unix"):
        raise SettingsError(f"{PREFIX}REDIS_URL must be a redis://, rediss:// or unix:// URL")
    sizes = {
        name: _int(get(name, str(default)), name)
        for name, default in (
            ("CACHE_MAX_ENTRIES", CacheSettings.max_entries),
            ("CACHE_TTL_SECONDS", CacheSettings.ttl_seconds),
        )
    }
    for name, value in sizes.items():
        if value < 2:
            raise SettingsError(f"{PREFIX}{name} must be at least 2, not {value}")
    return CacheSettings(
        backend=backend,  # type: ignore[arg-type]
        redis_url=url,
        max_entries=sizes["CACHE_MAX_ENTRIES"],
        ttl_seconds=sizes["CACHE_TTL_SECONDS"],
    )


def _origin(value: str, name: str, *, https: bool) -> str:
    """`scheme://host[:port]` and nothing more, as browsers compare origins."""
    parts = urlsplit(value)
    schemes = ("https",) if https else ("http", "https")
    if (
        parts.scheme not in schemes
        or not parts.hostname
        or parts.path not in ("", "/")
        or parts.query
        or parts.fragment
        or parts.username
    ):
        expected = " or ".join(f"{scheme}://host[:port]" for scheme in schemes)
        raise SettingsError(f"{PREFIX}{name} must be origins like {expected}, not {value!r}")
    return f"{parts.scheme}://{parts.netloc}"


def _task_settings(
    get: Callable[[str, str | None], str | None], project: str, production: bool
) -> TaskSettings:
    backend = _backend(
        get,
        "TASKS",
        local="embedded",
        cloud="cloudtasks",
        production=production,
        refused_in_production="is for one machine",
    )
    lease = _float(get("TASK_LEASE_SECONDS", "30"), "TASK_LEASE_SECONDS")
    if lease <= 0:
        raise SettingsError(f"{PREFIX}TASK_LEASE_SECONDS must be positive, not {lease}")
    queue_yaml = get("QUEUE_YAML", None)
    cron_scheduler = _flag(get("CRON_SCHEDULER", "0" if production else "1"), "CRON_SCHEDULER")
    if production and cron_scheduler:
        raise SettingsError(
            f"{PREFIX}CRON_SCHEDULER would run cron.yaml on every instance; "
            "App Engine's cron service runs it (gcloud app deploy cron.yaml)"
        )
    cron_yaml = get("CRON_YAML", None)
    return TaskSettings(
        backend=backend,  # type: ignore[arg-type]
        queue_yaml=Path(queue_yaml) if queue_yaml else None,
        lease_seconds=lease,
        cloud_project=get("CLOUD_TASKS_PROJECT", None) or project,
        cloud_location=get("CLOUD_TASKS_LOCATION", None) or None,
        emulator_host=get("CLOUD_TASKS_EMULATOR_HOST", None) or None,
        target_url=get("TASKS_TARGET_URL", None) or None,
        service_account=get("TASKS_SERVICE_ACCOUNT", None) or None,
        audience=get("TASKS_AUDIENCE", None) or None,
        oidc_certs_url=get("TASKS_OIDC_CERTS_URL", None) or GOOGLE_OIDC_CERTS_URL,
        cron_scheduler=cron_scheduler,
        cron_yaml=Path(cron_yaml) if cron_yaml else None,
    )


def _media_settings(
    get: Callable[[str, str | None], str | None], project: str, production: bool
) -> MediaSettings:
    backend = _backend(
        get,
        "MEDIA",
        local="local",
        cloud="gcs",
        production=production,
        refused_in_production="keeps images on one machine",
    )
    # App Engine's default bucket, unless another is named.
    bucket = get("GCS_BUCKET", None) or (f"{project}.appspot.com" if backend == "gcs" else None)
    limits = {
        name: _int(get(name, str(default)), name)
        for name, default in (
            ("MAX_UPLOAD_BYTES", MediaSettings.max_upload_bytes),
            ("MAX_IMAGE_PIXELS", MediaSettings.max_image_pixels),
            ("IMAGE_WORKERS", MediaSettings.image_workers),
        )
    }
    budget = get("IMAGE_MEMORY_BUDGET", None)
    if budget:
        limits["IMAGE_MEMORY_BUDGET"] = _int(budget, "IMAGE_MEMORY_BUDGET")
    for name, value in limits.items():
        if value <= 0:
            raise SettingsError(f"{PREFIX}{name} must be positive, not {value}")
    wait = _float(get("IMAGE_BUDGET_WAIT_SECONDS", "5"), "IMAGE_BUDGET_WAIT_SECONDS")
    if not 0 <= wait <= 60:
        raise SettingsError(f"{PREFIX}IMAGE_BUDGET_WAIT_SECONDS must be 0 to 60, not {wait}")
    media_dir = get("MEDIA_DIR", None)
    return MediaSettings(
        backend=backend,  # type: ignore[arg-type]
        media_dir=Path(media_dir) if media_dir else None,
        gcs_bucket=bucket,
        gcs_public_url=get("GCS_PUBLIC_URL", None) or None,
        max_upload_bytes=limits["MAX_UPLOAD_BYTES"],
        max_image_pixels=limits["MAX_IMAGE_PIXELS"],
        image_workers=limits["IMAGE_WORKERS"],
        image_memory_budget=limits.get("IMAGE_MEMORY_BUDGET"),
        image_budget_wait_seconds=wait,
    )


_QUERY_LIMITS = {  # variable name -> field
    "MAX_QUERY_BYTES": "max_bytes",
    "MAX_QUERY_TOKENS": "max_tokens",
    "MAX_QUERY_OPERATIONS": "max_operations",
    "MAX_QUERY_FIELDS": "max_fields",
    "MAX_QUERY_ALIASES": "max_aliases",
    "MAX_QUERY_DIRECTIVES": "max_directives",
    "MAX_QUERY_DEPTH": "max_depth",
    "MAX_QUERY_COST": "max_cost",
}


def _query_limits(get: Callable[[str, str | None], str | None]) -> QueryLimits:
    limits: dict[str, int] = {}
    for name, attribute in _QUERY_LIMITS.items():
        value = _int(get(name, str(getattr(QueryLimits, attribute))), name)
        if value <= 0:
            raise SettingsError(f"{PREFIX}{name} must be positive, not {value}")
        limits[attribute] = value
    return QueryLimits(**limits)


def _persisted_query_settings(
    get: Callable[[str, str | None], str | None],
) -> PersistedQuerySettings:
    manifest = get("TRUSTED_DOCUMENTS", None)
    return PersistedQuerySettings(
        enabled=_flag(get("PERSISTED_QUERIES", "1"), "PERSISTED_QUERIES"),
        trusted_documents=Path(manifest) if manifest else None,
    )


def _pull_queue_settings(
    get: Callable[[str, str | None], str | None], project: str, production: bool
) -> PullQueueSettings:
    backend = _backend(
        get,
        "PULL_QUEUE",
        local="embedded",
        cloud="pubsub",
        production=production,
        refused_in_production="is for one machine",
    )
    return PullQueueSettings(
        backend=backend,  # type: ignore[arg-type]
        pubsub_project=get("PUBSUB_PROJECT", None) or project,
        pubsub_topic=get("PULL_TOPIC", None) or PullQueueSettings.pubsub_topic,
        pubsub_subscription=get("PULL_SUBSCRIPTION", None) or PullQueueSettings.pubsub_subscription,
    )


def _push_settings(
    get: Callable[[str, str | None], str | None], env: Mapping[str, str], production: bool
) -> PushSettings:
    backend = _backend(
        get,
        "PUSH",
        local="outbox",
        cloud="fcm",
        production=production,
        refused_in_production="only records pushes on one machine",
    )
    # The apps' Firebase project, which is normally the one that signs users in.
    project = (
        get("FCM_PROJECT", None) or get("FIREBASE_PROJECT", None) or env.get("GOOGLE_CLOUD_PROJECT")
    )
    if backend == "fcm" and not project:
        raise SettingsError(f"{PREFIX}PUSH=fcm needs {PREFIX}FCM_PROJECT (the Firebase project)")
    credentials = get("FCM_CREDENTIALS", None)
    return PushSettings(
        backend=backend,  # type: ignore[arg-type]
        fcm_project=project or None,
        fcm_endpoint=get("FCM_ENDPOINT", None) or FCM_ENDPOINT,
        fcm_credentials=Path(credentials) if credentials else None,
    )


def _backend(
    get: Callable[[str, str | None], str | None],
    name: str,
    *,
    local: str,
    cloud: str,
    production: bool,
    refused_in_production: str | None = None,
) -> str:
    """Which adapter `name` chooses: `local` by default on one machine, `cloud` on
    App Engine, where the local one is refused when it cannot work there."""
    value = get(name, cloud if production else local)
    if value not in (local, cloud):
        raise SettingsError(f"{PREFIX}{name} must be '{local}' or '{cloud}', not {value!r}")
    if production and value == local and refused_in_production:
        raise SettingsError(f"{PREFIX}{name}={local} {refused_in_production}; use {cloud}")
    return value


def _float(value: str | None, name: str) -> float:
    try:
        return float(value or "")
    except ValueError:
        raise SettingsError(f"{PREFIX}{name} must be a number, not {value!r}") from None


def _secret_key(value: str | None, var_dir: Path, production: bool) -> bytes:
    if value:
        if len(value) < 32:
            raise SettingsError(f"{PREFIX}SECRET_KEY must be at least 32 characters")
        if value == PLACEHOLDER_SECRET:
            raise SettingsError(
                f"{PREFIX}SECRET_KEY is still the placeholder from secret.yaml.example"
            )
        return value.encode()
    if production:
        raise SettingsError(
            f"{PREFIX}SECRET_KEY must be set in production "
            f"(for local development set {PREFIX}ENV=local)"
        )
    # Locally, a key generated once and kept under var/ keeps cursors valid
    # across restarts without anyone having to invent a secret.
    path = var_dir / "secret.key"
    if not path.exists():
        var_dir.mkdir(parents=True, exist_ok=True)
        path.write_text(secrets.token_urlsafe(48))
        path.chmod(0o600)
    return path.read_text().strip().encode()


def _flag(value: str | None, name: str) -> bool:
    if value in ("1", "true", "yes", "on"):
        return True
    if value in ("0", "false", "no", "off", "", None):
        return False
    raise SettingsError(f"{PREFIX}{name} must be a boolean (1/0, true/false), not {value!r}")


def _int(value: str | None, name: str) -> int:
    try:
        return int(value or "")
    except ValueError:
        raise SettingsError(f"{PREFIX}{name} must be a whole number, not {value!r}") from None
