"""Where the data is: the embedded SQLite file under var/, or Cloud Datastore, and
the Google Cloud project the cloud adapters default to."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from settings.variables import Reader, Section, Variable, adapter_choice, path, text

LOCAL_PROJECT = "photo-timeline-local"

STORE = adapter_choice(
    "STORE", "sqlite", "datastore", "the store: the embedded SQLite file, or Cloud Datastore"
)
VAR_DIR = Variable(
    "VAR_DIR", path(), "local state: the SQLite file, media, the local secret", default="var"
)
SQLITE_PATH = Variable(
    "SQLITE_PATH", path(), "the embedded store's file", shown_default="<VAR_DIR>/timeline.db"
)
GOOGLE_CLOUD_PROJECT = Variable(
    "GOOGLE_CLOUD_PROJECT",
    text(),
    "the deploy's Google Cloud project, set by App Engine (service.yaml sets it on Cloud "
    "Run); the default of every other project setting",
    required="production, unless TIMELINE_DATASTORE_PROJECT is set",
    prefixed=False,
)
DATASTORE_PROJECT = Variable(
    "DATASTORE_PROJECT",
    text(),
    "the project whose Datastore holds the data",
    shown_default=f"GOOGLE_CLOUD_PROJECT, else {LOCAL_PROJECT}",
)
DATASTORE_NAMESPACE = Variable(
    "DATASTORE_NAMESPACE", text(), "a Datastore namespace, to keep apart data in one project"
)
SECTION = Section(
    "Store",
    "Where the data is, and the Google Cloud project.",
    (STORE, VAR_DIR, SQLITE_PATH, GOOGLE_CLOUD_PROJECT, DATASTORE_PROJECT, DATASTORE_NAMESPACE),
)


@dataclass(frozen=True)
class StoreChoice:
    """What load_settings needs of this part: the Settings fields and the project."""

    kind: str
    var_dir: Path
    sqlite_path: Path
    named_project: str | None  # the project the environment names, if it names one
    namespace: str | None

    @property
    def project(self) -> str:
        return self.named_project or LOCAL_PROJECT


def load_store_choice(reader: Reader) -> StoreChoice:
    var_dir = reader.value(VAR_DIR)
    named = reader.optional(DATASTORE_PROJECT) or reader.optional(GOOGLE_CLOUD_PROJECT)
    if reader.production and not named:
        # App Engine sets GOOGLE_CLOUD_PROJECT; Cloud Run does not (service.yaml does).
        reader.refuse(
            f"GOOGLE_CLOUD_PROJECT (or {DATASTORE_PROJECT.env_name}) must name the project "
            "in production"
        )
    return StoreChoice(
        kind=reader.adapter(STORE),
        var_dir=var_dir,
        sqlite_path=reader.optional(SQLITE_PATH) or var_dir / "timeline.db",
        named_project=named,
        namespace=reader.optional(DATASTORE_NAMESPACE),
    )


def local_sqlite_path(environ: Mapping[str, str] | None = None) -> Path:
    """The embedded store's file, for the command-line tools that read it on this
    machine (python -m tasks.runs, python -m push.outbox); no other setting is checked."""
    env = os.environ if environ is None else environ
    var_dir = Path(env.get(VAR_DIR.env_name) or "var")
    return Path(env.get(SQLITE_PATH.env_name) or var_dir / "timeline.db")
