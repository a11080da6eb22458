"""Where the app runs and what it shows: the mode (production unless local is asked
for), the secret, the local-only conveniences, what browsers and slow clients
meet (web.py, serve.py), and where and in how many processes serve.py listens."""

from __future__ import annotations

import contextlib
import os
import secrets
from dataclasses import dataclass, replace
from pathlib import Path

from settings.addresses import listen_host, origin, origins, proxies
from settings.variables import (
    PREFIX,
    Reader,
    Section,
    SettingsError,
    Variable,
    choice,
    flag,
    number,
    text,
    whole,
)

LOCAL_ORIGIN = "http://127.0.0.1:8080"
PLACEHOLDER_SECRET = "replace-with-at-least-32-random-characters"  # secret.yaml.example


ENV = Variable(
    "ENV",
    choice("local", "production"),
    "production (cloud adapters, no dev tokens, no GraphiQL) or local development "
    "(`make run` sets local); a hosted platform is always production",
    default="production",
)
GAE_ENV = Variable(
    "GAE_ENV",
    text(),
    "set by App Engine (`standard`): production, and X-AppEngine-* headers are believed",
    prefixed=False,
)
K_SERVICE = Variable("K_SERVICE", text(), "set by Cloud Run: production", prefixed=False)
SECRET_KEY = Variable(
    "SECRET_KEY",
    text(),
    "signs cursors and dev tokens; at least 32 characters, not the placeholder of "
    "secret.yaml.example",
    shown_default="local: generated once into <VAR_DIR>/secret.key",
    required="production",
)
DEMO_DATA = Variable(
    "DEMO_DATA", flag(), "seeds demo users and photos at start-up; refused in production", "0"
)
GRAPHIQL = Variable(
    "GRAPHIQL",
    flag(),
    "serves GraphiQL at /graphql to browsers; refused in production",
    default="1",
    production_default="0",
)
PUBLIC_ORIGIN = Variable(
    "PUBLIC_ORIGIN",
    origin(),
    "where the absolute URLs the API hands out point (never taken from the Host header); "
    "unset in production, URLs to the API stay relative. https in production",
    default=LOCAL_ORIGIN,
    production_default=None,
    required="when TIMELINE_MAIL sends (smtp, mailgun)",
)
CORS_ORIGINS = Variable(
    "CORS_ORIGINS",
    origins(),
    "web apps allowed to call the API; unset sends no CORS headers. https in production",
)
BODY_TIMEOUT_SECONDS = Variable(
    "BODY_TIMEOUT_SECONDS",
    number(),
    "a request body must have arrived by then, or 408",
    default="60",
)
HEADER_SECONDS = Variable(
    "HEADER_SECONDS",
    number(),
    "a request's headers must have arrived by then, or the connection closes (serve.py)",
    default="10",
)
HEALTH_TIMEOUT_SECONDS = Variable(
    "HEALTH_TIMEOUT_SECONDS",
    number(),
    "/healthz answers 503 when the store has not answered a read by then",
    default="2",
)
HOST = Variable(
    "HOST",
    listen_host(),
    "the address `python -m serve` listens on (`--host` overrides it; the container "
    "image sets 0.0.0.0)",
    default="127.0.0.1",
    prefixed=False,
)
PORT = Variable(
    "PORT",
    whole(1, 65535),
    "the port `python -m serve` listens on, set by App Engine and Cloud Run (`--port` "
    "overrides it)",
    default="8080",
    prefixed=False,
)
WEB_CONCURRENCY = Variable(
    "WEB_CONCURRENCY",
    whole(),
    "server processes per instance (`--workers` overrides it; serve.py `worker_count`); "
    "Cloud Run's service.yaml sets it to the CPU limit",
    shown_default="1 on App Engine and with the embedded store; else the CPUs the instance may use",
    prefixed=False,
)
FORWARDED_ALLOW_IPS = Variable(
    "FORWARDED_ALLOW_IPS",
    proxies(),
    "the proxies whose X-Forwarded-For and X-Forwarded-Proto `python -m serve` believes "
    "(`--forwarded-allow-ips` overrides it); `*` where only Google's front end reaches "
    "the server (app.yaml, the container image)",
    default="127.0.0.1",
    prefixed=False,
)
SECTION = Section(
    "Server",
    "The mode, the secret, local conveniences, what browsers and slow clients meet, "
    "and where and in how many processes the server listens.",
    (
        ENV,
        GAE_ENV,
        K_SERVICE,
        SECRET_KEY,
        DEMO_DATA,
        GRAPHIQL,
        PUBLIC_ORIGIN,
        CORS_ORIGINS,
        BODY_TIMEOUT_SECONDS,
        HEADER_SECONDS,
        HEALTH_TIMEOUT_SECONDS,
        HOST,
        PORT,
        WEB_CONCURRENCY,
        FORWARDED_ALLOW_IPS,
    ),
)


@dataclass(frozen=True)
class WebSettings:
    """What browsers and slow clients meet (web.py, serve.py)."""

    # Where absolute URLs the API hands out point; never taken from the Host header.
    # None: URLs relative to the API stay relative (production's images are on GCS).
    public_origin: str | None = LOCAL_ORIGIN
    cors_origins: tuple[str, ...] = ()  # web apps allowed to call the API; () sends no CORS
    body_timeout_seconds: float = 60.0  # a request body must have arrived by then: 408
    header_seconds: float = 10.0  # a request's headers must have arrived by then (serve.py)
    health_timeout_seconds: float = 2.0  # /healthz: 503 when a store read takes longer
    # The request line and headers; a Firebase ID token is about 1 KB.
    max_header_bytes: int = 16 * 1024
    host: str = "127.0.0.1"  # serve.py listens here unless --host says otherwise
    port: int = 8080  # and on this port unless --port does (App Engine sets PORT)
    processes: int | None = None  # WEB_CONCURRENCY; None: serve.py `worker_count` decides
    # Proxies whose X-Forwarded-* headers serve.py believes; ("*",): any peer.
    forwarded_allow_ips: tuple[str, ...] = ("127.0.0.1",)


def read_mode(reader: Reader) -> bool:
    """Whether the app runs in production, decided before anything else is read (every
    default depends on it): a problem here stops loading at once."""
    production = reader.value(ENV) == "production"
    reader.check()
    hosted = [variable.name for variable in (GAE_ENV, K_SERVICE) if reader.text(variable)]
    if not production and hosted:
        always = "a hosted app always runs as production"
        raise SettingsError(f"{ENV.env_name}=local where {hosted[0]} is set: {always}")
    return production


def local_only(reader: Reader, variable: Variable[bool], danger: str) -> bool:
    """A switch that is on locally and refused in production."""
    enabled = reader.value(variable)
    if reader.production and enabled:
        reader.refuse(f"{variable.env_name} {danger}; never in production")
    return enabled


def load_web_settings(reader: Reader) -> WebSettings:
    public, cors = PUBLIC_ORIGIN, CORS_ORIGINS
    if reader.production:  # browsers are met over https only
        public = replace(public, kind=origin(https_only=True))
        cors = replace(cors, kind=origins(https_only=True))
    return WebSettings(
        public_origin=reader.optional(public),
        cors_origins=reader.optional(cors) or (),
        body_timeout_seconds=reader.value(BODY_TIMEOUT_SECONDS),
        header_seconds=reader.value(HEADER_SECONDS),
        health_timeout_seconds=reader.value(HEALTH_TIMEOUT_SECONDS),
        host=reader.value(HOST),
        port=reader.value(PORT),
        processes=reader.optional(WEB_CONCURRENCY),
        forwarded_allow_ips=reader.value(FORWARDED_ALLOW_IPS),
    )


def load_secret_key(reader: Reader, var_dir: Path) -> bytes:
    value = reader.text(SECRET_KEY)
    if value:
        if len(value) < 32:
            reader.refuse(f"{PREFIX}SECRET_KEY must be at least 32 characters")
        elif value == PLACEHOLDER_SECRET:
            reader.refuse(f"{PREFIX}SECRET_KEY is still the placeholder from secret.yaml.example")
        return value.encode()
    if reader.production:
        reader.refuse(
            f"{PREFIX}SECRET_KEY must be set in production "
            f"(for local development set {PREFIX}ENV=local)"
        )
        return b""
    # Locally, a key generated once and kept under var/ keeps cursors valid
    # across restarts without anyone having to invent a secret.
    path = var_dir / "secret.key"
    if not path.exists():
        var_dir.mkdir(parents=True, exist_ok=True)
        # Written whole, then linked into place: of processes starting together
        # (uvicorn --workers) the first link wins and every one reads the same key.
        scratch = var_dir / f"secret.key.{secrets.token_hex(4)}.partial"
        scratch.write_text(secrets.token_urlsafe(48))
        scratch.chmod(0o600)
        with contextlib.suppress(FileExistsError):
            os.link(scratch, path)
        scratch.unlink()
    return path.read_text().strip().encode()
