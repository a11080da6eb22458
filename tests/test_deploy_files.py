"""The Cloud Run files, checked offline (Docker is not on this machine): the
Dockerfile read as text, .dockerignore, service.yaml rendered and compared with
the Dockerfile and serve.py, and cron.yaml's schedules as the Cloud Scheduler
jobs deploy.scheduler makes of them. app.yaml, cron.yaml, queue.yaml and
index.yaml are read by the SDK's own loaders in tests/test_config_files.py."""

from __future__ import annotations

import fnmatch
import itertools
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import yaml

from cron.config import load_cron_yaml
from cron.schedule import parse_schedule
from deploy.cloudrun import SERVICE_TEMPLATE, RenderError, placeholders, render
from deploy.dockerfile import Dockerfile, DockerfileError
from deploy.scheduler import ATTEMPT_DEADLINE, UnschedulableError, unix_cron

ROOT = Path(__file__).resolve().parents[1]
DOCKERFILE = Dockerfile.read(ROOT / "Dockerfile")
VALUES = {
    "PROJECT_ID": "my-photo-timeline",
    "PROJECT_NUMBER": "123456789012",
    "REGION": "europe-west1",
    "IMAGE": "europe-west1-docker.pkg.dev/my-photo-timeline/timeline/api:abc123",
}
# Not part of the server: tests, tools and documents stay out of the image.
NOT_IN_THE_IMAGE = {"tests", "benchmarks", "deploy", "docs"}


def service() -> dict[str, Any]:
    rendered: dict[str, Any] = yaml.safe_load(render(SERVICE_TEMPLATE.read_text(), VALUES))
    return rendered


def container() -> dict[str, Any]:
    (only,) = service()["spec"]["template"]["spec"]["containers"]
    return dict(only)


def env() -> dict[str, str]:
    return {each["name"]: each.get("value") for each in container()["env"]}


# The Dockerfile


def test_the_image_is_python_3_11_slim_and_not_root() -> None:
    assert DOCKERFILE.base_images() == ["python:3.11-slim"]
    user = DOCKERFILE.user()
    assert user is not None
    assert user.split(":")[0] not in ("root", "0")


def test_the_image_runs_the_entrypoint_app_engine_runs() -> None:
    app_yaml = yaml.safe_load((ROOT / "app.yaml").read_text())
    assert DOCKERFILE.command() == ["python", "-m", "serve"]
    assert app_yaml["entrypoint"].startswith("python -m serve ")
    # serve.py reads where to listen from the environment the Dockerfile sets.
    environment = DOCKERFILE.environment()
    assert environment["HOST"] == "0.0.0.0"
    assert environment["PORT"] == str(container()["ports"][0]["containerPort"])
    assert environment["FORWARDED_ALLOW_IPS"] == "*"


def test_every_copy_source_exists() -> None:
    sources = DOCKERFILE.copied_sources()
    assert sources
    missing = [source for source in sources if not (ROOT / source).exists()]
    assert not missing, f"the Dockerfile copies what is not there: {missing}"


def test_every_module_of_the_server_is_copied() -> None:
    copied = {source.rstrip("/") for source in DOCKERFILE.copied_sources()}
    modules = {path.name for path in ROOT.glob("*.py")}
    packages = {path.parent.name for path in ROOT.glob("*/__init__.py")} - NOT_IN_THE_IMAGE
    forgotten = sorted((modules | packages | {"queue.yaml"}) - copied)
    assert not forgotten, f"add to the Dockerfile's COPY: {forgotten}"


def test_dockerignore_keeps_secrets_and_local_state_out_but_not_the_code() -> None:
    patterns = [
        line.strip()
        for line in (ROOT / ".dockerignore").read_text().splitlines()
        if line.strip() and not line.startswith("#")
    ]

    def ignored(path: str) -> bool:
        return any(fnmatch.fnmatch(path, pattern) for pattern in patterns)

    for secret in ("secret.yaml", "var", ".venv", ".git", "tests"):
        assert ignored(secret), f".dockerignore lets {secret} into the build context"
    for source in DOCKERFILE.copied_sources():
        assert not ignored(source), f"the Dockerfile copies {source}, which .dockerignore drops"


def test_the_dockerfile_reader_refuses_what_it_cannot_read_safely() -> None:
    shell_form = Dockerfile.parse("FROM python:3.11-slim\nCMD python -m serve\n")
    with pytest.raises(DockerfileError, match="exec form"):
        shell_form.command()
    bare_env = Dockerfile.parse("FROM python:3.11-slim\nENV HOST 0.0.0.0\n")
    with pytest.raises(DockerfileError, match="key=value"):
        bare_env.environment()
    stages = "FROM python:3.11 AS build\nENV A=1\nFROM python:3.11-slim\nENV B=2\n"
    assert Dockerfile.parse(stages).environment() == {"B": "2"}


# service.yaml


def test_the_service_renders_completely() -> None:
    template = SERVICE_TEMPLATE.read_text()
    assert placeholders(template) == set(VALUES)
    assert "${" not in render(template, VALUES)
    with pytest.raises(RenderError, match="REGION"):
        render(template, {name: value for name, value in VALUES.items() if name != "REGION"})
    with pytest.raises(RenderError, match="PROJECT_ID"):
        render(template, {**VALUES, "PROJECT_ID": "My Project"})


def test_the_service_is_a_knative_service_for_cloud_run() -> None:
    described = service()
    assert described["apiVersion"] == "serving.knative.dev/v1"
    assert described["kind"] == "Service"
    assert described["metadata"]["labels"]["cloud.googleapis.com/location"] == VALUES["REGION"]
    spec = described["spec"]["template"]["spec"]
    assert spec["serviceAccountName"].endswith(f"@{VALUES['PROJECT_ID']}.iam.gserviceaccount.com")
    assert container()["image"] == VALUES["IMAGE"]
    assert container()["startupProbe"]["httpGet"]["path"] == "/healthz"


def test_the_service_runs_one_process_per_cpu_and_matches_the_scheduler() -> None:
    spec = service()["spec"]["template"]["spec"]
    assert env()["WEB_CONCURRENCY"] == container()["resources"]["limits"]["cpu"]
    assert f"{spec['timeoutSeconds']}s" == ATTEMPT_DEADLINE
    assert env()["TIMELINE_CLOUD_TASKS_LOCATION"] == VALUES["REGION"]
    target = env()["TIMELINE_TASKS_TARGET_URL"]
    name = service()["metadata"]["name"]
    assert target == f"https://{name}-{VALUES['PROJECT_NUMBER']}.{VALUES['REGION']}.run.app"


def test_the_secret_key_comes_from_secret_manager_not_the_file() -> None:
    (secret,) = [each for each in container()["env"] if each["name"] == "TIMELINE_SECRET_KEY"]
    assert secret["valueFrom"]["secretKeyRef"] == {"name": "timeline-secret-key", "key": "latest"}


# cron.yaml as Cloud Scheduler jobs


def cron_fields(expression: str) -> list[set[int]]:
    """A unix-cron expression's minute, hour, day, month and weekday sets."""
    ranges = [(0, 59), (0, 23), (1, 31), (1, 12), (0, 6)]
    fields = []
    for text, (low, high) in zip(expression.split(), ranges, strict=True):
        step_match = re.fullmatch(r"\*/(\d+)", text)
        if text == "*":
            fields.append(set(range(low, high + 1)))
        elif step_match:
            fields.append(set(range(low, high + 1, int(step_match.group(1)))))
        else:
            fields.append({int(part) for part in text.split(",")})
    return fields


def cron_runs(expression: str, start: datetime, count: int) -> list[datetime]:
    """When unix-cron fires after `start` (in UTC), as Cloud Scheduler reads it:
    with a day and a weekday both restricted, either one matching is enough."""
    minutes, hours, days, months, weekdays = cron_fields(expression)
    either = "*" not in expression.split()[2] and "*" not in expression.split()[4]
    runs: list[datetime] = []
    when = start.replace(second=0, microsecond=0)
    while len(runs) < count:
        when += timedelta(minutes=1)
        day_ok = when.day in days
        weekday_ok = (when.weekday() + 1) % 7 in weekdays
        if (
            when.minute in minutes
            and when.hour in hours
            and when.month in months
            and ((day_ok or weekday_ok) if either else (day_ok and weekday_ok))
        ):
            runs.append(when)
    return runs


@pytest.mark.parametrize(
    "text",
    [
        "every day 03:30",
        "every monday 09:00",
        "every mon,wed,fri 17:45",
        "1,15 of month 06:00",
        "every day of jan,jul 00:05",
        "every saturday of jun 23:59",
    ],
)
def test_a_calendar_schedule_fires_when_app_engine_would(text: str) -> None:
    schedule = parse_schedule(text)
    start = datetime(2025, 1, 30, 12, 0, tzinfo=UTC)
    expression = unix_cron(schedule.spec)
    assert cron_runs(expression, start, 12) == schedule.next_runs(start, 12), expression


@pytest.mark.parametrize(
    ("text", "expression"),
    [
        ("every 1 minutes", "* * * * *"),
        ("every 10 minutes", "*/10 * * * *"),
        ("every 1 hours", "0 * * * *"),
        ("every 6 hours", "0 */6 * * *"),
        ("every 2 hours synchronized", "0 */2 * * *"),
    ],
)
def test_an_interval_becomes_the_same_period_on_the_clock(text: str, expression: str) -> None:
    spec = parse_schedule(text).spec
    assert unix_cron(spec) == expression
    runs = cron_runs(expression, datetime(2025, 3, 1, tzinfo=UTC), 30)
    gaps = {later - earlier for earlier, later in itertools.pairwise(runs)}
    assert gaps == {spec.period}  # type: ignore[union-attr]


@pytest.mark.parametrize(
    "text",
    [
        "every 7 minutes",
        "every 5 hours",
        "every 5 minutes from 10:00 to 14:00",
        "1st monday of month 09:00",
    ],
)
def test_a_schedule_unix_cron_cannot_say_is_refused(text: str) -> None:
    with pytest.raises(UnschedulableError):
        unix_cron(parse_schedule(text).spec)


def test_every_cron_yaml_job_becomes_a_scheduler_job() -> None:
    for entry in load_cron_yaml():
        assert unix_cron(entry.schedule.spec)
