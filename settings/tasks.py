"""Background work (tasks/): which queue, how Cloud Tasks reaches the app, the
embedded cron scheduler, and the pull queues (tasks/pull_port.py)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from settings.store import LOCAL_PROJECT
from settings.variables import (
    Reader,
    Section,
    Variable,
    adapter_choice,
    flag,
    number,
    path,
    text,
)

TaskBackend = Literal["embedded", "cloudtasks"]
PullBackend = Literal["embedded", "pubsub"]
GOOGLE_OIDC_CERTS_URL = "https://www.googleapis.com/oauth2/v1/certs"


@dataclass(frozen=True)
class TaskSettings:
    """Background work (tasks/): which queue, and how Cloud Tasks reaches the app."""

    backend: TaskBackend = "embedded"
    queue_yaml: Path | None = None  # None: the project's own queue.yaml
    lease_seconds: float = 30.0  # embedded: how soon a killed process's task runs again
    cloud_project: str = LOCAL_PROJECT
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
class PullQueueSettings:
    """Pull queues (tasks/pull_port.py): a table in the embedded file, or Pub/Sub.
    PUBSUB_EMULATOR_HOST, read by Google's client library, points it at the emulator."""

    backend: PullBackend = "embedded"
    pubsub_project: str = LOCAL_PROJECT
    pubsub_topic: str = "pull-tasks"
    pubsub_subscription: str = "pull-tasks-worker"


TASKS = adapter_choice(
    "TASKS", "embedded", "cloudtasks", "the task queue: in the embedded file, or Cloud Tasks"
)
TASK_LEASE_SECONDS = Variable(
    "TASK_LEASE_SECONDS",
    number(),
    "embedded: how soon a task a killed process was running runs again",
    default="30",
)
QUEUE_YAML = Variable("QUEUE_YAML", path(), "the queues' file", shown_default="./queue.yaml")
CLOUD_TASKS_PROJECT = Variable(
    "CLOUD_TASKS_PROJECT", text(), "the queues' project", shown_default="the store's project"
)
CLOUD_TASKS_LOCATION = Variable(
    "CLOUD_TASKS_LOCATION",
    text(),
    "the queues' region (e.g. us-central1)",
    required="TIMELINE_TASKS=cloudtasks",
)
CLOUD_TASKS_EMULATOR_HOST = Variable(
    "CLOUD_TASKS_EMULATOR_HOST", text(), "host:port of a Cloud Tasks emulator"
)
TASKS_TARGET_URL = Variable(
    "TASKS_TARGET_URL",
    text(),
    "off App Engine: the app's base URL, which Cloud Tasks calls",
    required="cloudtasks off App Engine",
)
TASKS_SERVICE_ACCOUNT = Variable(
    "TASKS_SERVICE_ACCOUNT",
    text(),
    "off App Engine: the service account Cloud Tasks' OIDC token names",
    required="cloudtasks off App Engine",
)
TASKS_AUDIENCE = Variable(
    "TASKS_AUDIENCE", text(), "the OIDC token's audience", shown_default="TIMELINE_TASKS_TARGET_URL"
)
TASKS_OIDC_CERTS_URL = Variable(
    "TASKS_OIDC_CERTS_URL",
    text(),
    "where Google's OIDC signing certificates are fetched",
    default=GOOGLE_OIDC_CERTS_URL,
)
CRON_SCHEDULER = Variable(
    "CRON_SCHEDULER",
    flag(),
    "runs cron.yaml in this process; refused in production, where App Engine's cron "
    "service (or Cloud Scheduler) runs it",
    default="1",
    production_default="0",
)
CRON_YAML = Variable("CRON_YAML", path(), "the schedules' file", shown_default="./cron.yaml")
PULL_QUEUE = adapter_choice(
    "PULL_QUEUE", "embedded", "pubsub", "pull queues: a table in the embedded file, or Pub/Sub"
)
PUBSUB_PROJECT = Variable(
    "PUBSUB_PROJECT", text(), "pubsub: the project", shown_default="the store's project"
)
PULL_TOPIC = Variable(
    "PULL_TOPIC", text(), "pubsub: the topic", default=PullQueueSettings.pubsub_topic
)
PULL_SUBSCRIPTION = Variable(
    "PULL_SUBSCRIPTION",
    text(),
    "pubsub: the workers' pull subscription",
    default=PullQueueSettings.pubsub_subscription,
)
SECTION = Section(
    "Tasks and cron",
    "Push queues, the cron scheduler and pull queues.",
    (
        TASKS,
        TASK_LEASE_SECONDS,
        QUEUE_YAML,
        CLOUD_TASKS_PROJECT,
        CLOUD_TASKS_LOCATION,
        CLOUD_TASKS_EMULATOR_HOST,
        TASKS_TARGET_URL,
        TASKS_SERVICE_ACCOUNT,
        TASKS_AUDIENCE,
        TASKS_OIDC_CERTS_URL,
        CRON_SCHEDULER,
        CRON_YAML,
        PULL_QUEUE,
        PUBSUB_PROJECT,
        PULL_TOPIC,
        PULL_SUBSCRIPTION,
    ),
)


def load_task_settings(reader: Reader, project: str) -> TaskSettings:
    backend = reader.adapter(TASKS, "is for one machine")
    cron_scheduler = reader.value(CRON_SCHEDULER)
    if reader.production and cron_scheduler:
        reader.refuse(
            f"{CRON_SCHEDULER.env_name} would run cron.yaml on every instance; "
            "App Engine's cron service runs it (gcloud app deploy cron.yaml)"
        )
    return TaskSettings(
        backend=backend,  # type: ignore[arg-type]
        queue_yaml=reader.optional(QUEUE_YAML),
        lease_seconds=reader.value(TASK_LEASE_SECONDS),
        cloud_project=reader.optional(CLOUD_TASKS_PROJECT) or project,
        cloud_location=reader.optional(CLOUD_TASKS_LOCATION),
        emulator_host=reader.optional(CLOUD_TASKS_EMULATOR_HOST),
        target_url=reader.optional(TASKS_TARGET_URL),
        service_account=reader.optional(TASKS_SERVICE_ACCOUNT),
        audience=reader.optional(TASKS_AUDIENCE),
        oidc_certs_url=reader.value(TASKS_OIDC_CERTS_URL),
        cron_scheduler=cron_scheduler,
        cron_yaml=reader.optional(CRON_YAML),
    )


def load_pull_queue_settings(reader: Reader, project: str) -> PullQueueSettings:
    return PullQueueSettings(
        backend=reader.adapter(PULL_QUEUE, "is for one machine"),  # type: ignore[arg-type]
        pubsub_project=reader.optional(PUBSUB_PROJECT) or project,
        pubsub_topic=reader.value(PULL_TOPIC),
        pubsub_subscription=reader.value(PULL_SUBSCRIPTION),
    )
