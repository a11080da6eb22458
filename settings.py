"""One typed settings object, read from the environment once at start-up.

Every variable carries the TIMELINE_ prefix. Local development is the default and
needs no variables at all; on App Engine (GAE_ENV is set) production defaults
apply and dev-only settings are refused, so a misconfigured deploy fails at start
rather than serving with a guessable secret.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

PREFIX = "TIMELINE_"
StoreKind = Literal["sqlite", "datastore"]


class SettingsError(ValueError):
    """A setting is missing, malformed or not allowed where the app runs."""


@dataclass(frozen=True)
class Settings:
    environment: Literal["local", "production"] = "local"
    store: StoreKind = "sqlite"
    var_dir: Path = Path("var")
    sqlite_path: Path = Path("var/timeline.db")
    datastore_project: str = "photo-timeline-local"
    datastore_namespace: str | None = None
    secret_key: bytes = field(default=b"", repr=False)
    demo_data: bool = False
    graphiql: bool = True
    max_query_depth: int = 12

    @property
    def is_production(self) -> bool:
        return self.environment == "production"


def load_settings(environ: Mapping[str, str] | None = None) -> Settings:
    env = os.environ if environ is None else environ
    production = bool(env.get("GAE_ENV", "").startswith("standard"))

    def get(name: str, default: str | None = None) -> str | None:
        return env.get(PREFIX + name, default)

    var_dir = Path(get("VAR_DIR", "var") or "var")
    store = get("STORE", "datastore" if production else "sqlite")
    if store not in ("sqlite", "datastore"):
        raise SettingsError(f"{PREFIX}STORE must be 'sqlite' or 'datastore', not {store!r}")
    project = get("DATASTORE_PROJECT") or env.get("GOOGLE_CLOUD_PROJECT") or "photo-timeline-local"
    settings = Settings(
        environment="production" if production else "local",
        store=store,  # type: ignore[arg-type]
        var_dir=var_dir,
        sqlite_path=Path(get("SQLITE_PATH") or var_dir / "timeline.db"),
        datastore_project=project,
        datastore_namespace=get("DATASTORE_NAMESPACE") or None,
        secret_key=_secret_key(get("SECRET_KEY"), var_dir, production),
        demo_data=_flag(get("DEMO_DATA", "0"), "DEMO_DATA"),
        graphiql=_flag(get("GRAPHIQL", "0" if production else "1"), "GRAPHIQL"),
        max_query_depth=_int(get("MAX_QUERY_DEPTH", "12"), "MAX_QUERY_DEPTH"),
    )
    if production and settings.demo_data:
        raise SettingsError(f"{PREFIX}DEMO_DATA is for local development only")
    return settings


def _secret_key(value: str | None, var_dir: Path, production: bool) -> bytes:
    if value:
        if len(value) < 32:
            raise SettingsError(f"{PREFIX}SECRET_KEY must be at least 32 characters")
        return value.encode()
    if production:
        raise SettingsError(f"{PREFIX}SECRET_KEY must be set in production")
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
