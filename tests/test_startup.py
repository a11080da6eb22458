"""The app started as App Engine and as Cloud Run start it, from the deploy files
alone: app.yaml's entrypoint with its env_variables and secret.yaml's (the example,
its placeholder replaced as it says), or the Dockerfile's CMD and ENV with
service.yaml's env; plus what each platform sets (deploy/platforms.py). The
emulators stand in for Datastore, Cloud Tasks and Cloud Storage, through the
variables their client libraries read. Nothing else reaches the process, so a
setting the deploy files lack stops these tests.

The platforms need the server on every interface; these tests check that the
deploy files ask for that, then run it on 127.0.0.1.
"""

from __future__ import annotations

import json
import secrets
import shutil
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from deploy.cloudrun import SERVICE_TEMPLATE, render
from deploy.dockerfile import Dockerfile
from deploy.platforms import Launch, app_engine, cloud_run
from settings import PLACEHOLDER_SECRET
from tasks.queue_config import load_queue_yaml
from tests.utils.datastore_emulator import PROJECT_ID, DatastoreEmulator
from tests.utils.processes import ManagedServer, free_port
from tests.utils.storage_emulator import StorageEmulator
from tests.utils.tasks_emulator import LOCATION, TasksEmulator

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[1]
QUERY = '{ user(username: "nobody") { id } photos(first: 3) { edges { cursor } } }'
RENDER_VALUES = {
    "PROJECT_ID": PROJECT_ID,
    "PROJECT_NUMBER": "123456789012",
    "REGION": LOCATION,
    "IMAGE": f"{LOCATION}-docker.pkg.dev/{PROJECT_ID}/timeline/api:test",
}


@pytest.fixture
def emulator_hosts(
    datastore_emulator: DatastoreEmulator, storage_emulator: StorageEmulator, tmp_path: Path
) -> Iterator[dict[str, str]]:
    """What stands in for the three services, as their client libraries find them;
    the Datastore emulator emptied, as the tests expect a new project."""
    datastore_emulator.reset()
    tasks = TasksEmulator(tmp_path, target_port=free_port(), queues=list(load_queue_yaml()))
    try:
        yield {
            "DATASTORE_EMULATOR_HOST": datastore_emulator.host,
            "STORAGE_EMULATOR_HOST": storage_emulator.endpoint,
            "TIMELINE_CLOUD_TASKS_EMULATOR_HOST": tasks.host,
        }
    finally:
        tasks.stop()


def app_engine_launch(tmp_path: Path, port: int) -> Launch:
    """As a deployer prepares it: secret.yaml copied from the example beside app.yaml,
    with a generated secret where the example has its placeholder."""
    deploy_dir = tmp_path / "app-engine"
    deploy_dir.mkdir()
    shutil.copy(ROOT / "app.yaml", deploy_dir / "app.yaml")
    example = yaml.safe_load((ROOT / "secret.yaml.example").read_text())
    generated = {
        name: secrets.token_urlsafe(48) if value == PLACEHOLDER_SECRET else value
        for name, value in example["env_variables"].items()
    }
    (deploy_dir / "secret.yaml").write_text(yaml.safe_dump({"env_variables": generated}))
    return app_engine(deploy_dir / "app.yaml", project=PROJECT_ID, port=port)


def cloud_run_launch(port: int) -> Launch:
    service = render(SERVICE_TEMPLATE.read_text(), RENDER_VALUES)
    secret_names = {
        variable["valueFrom"]["secretKeyRef"]["name"]
        for variable in _container(service)["env"]
        if "valueFrom" in variable
    }
    values = {name: secrets.token_urlsafe(48) for name in secret_names}
    return cloud_run(service, Dockerfile.read(ROOT / "Dockerfile"), secrets=values, port=port)


def _container(service_yaml: str) -> dict[str, Any]:
    container: dict[str, Any] = yaml.safe_load(service_yaml)["spec"]["template"]["spec"][
        "containers"
    ][0]
    return container


def on_loopback(launch: Launch) -> tuple[list[str], dict[str, str]]:
    """The launch, with the all-interfaces address it asks for moved to 127.0.0.1."""
    argv, env = list(launch.argv), dict(launch.environment)
    if env.get("HOST") is not None:
        assert env["HOST"] == "0.0.0.0", "the platform reaches the container on its own address"
        env["HOST"] = "127.0.0.1"
    else:
        command = argv[-1]
        assert "--host 0.0.0.0" in command, f"{command!r} would not listen for App Engine"
        argv[-1] = command.replace("--host 0.0.0.0", "--host 127.0.0.1")
    return argv, env


def serve(launch: Launch, hosts: dict[str, str], port: int, log: Path) -> ManagedServer:
    argv, env = on_loopback(launch)
    # `python` on the PATH is this project's, as the platform's image has its own.
    env = {**env, **hosts, "PATH": f"{Path(sys.executable).parent}:/usr/bin:/bin"}
    server = ManagedServer(argv, f"http://127.0.0.1:{port}/healthz", log, env=env, cwd=ROOT)
    server.start()
    return server


def post_query(port: int) -> dict[str, Any]:
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}/graphql",
        data=json.dumps({"query": QUERY}).encode(),
        headers={"Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=30) as response:
        assert response.status == 200
        body: dict[str, Any] = json.loads(response.read())
    return body


def cron_status(port: int) -> int:
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}/_internal/cron/fold_counters",
        headers={"X-Appengine-Cron": "true"},
    )
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return int(response.status)
    except urllib.error.HTTPError as error:
        return error.code


def make_bucket(storage: StorageEmulator, name: str) -> None:
    client = storage.client()
    if client.lookup_bucket(name) is None:
        client.create_bucket(name)


def workers_started(log: Path, *, expected: int, within: float = 30.0) -> int:
    """How many uvicorn workers the log shows, once `expected` have started or
    `within` seconds have passed."""
    deadline = time.monotonic() + within
    while True:
        started = log.read_text().count("Started server process")
        if started >= expected or time.monotonic() > deadline:
            return started
        time.sleep(0.1)


def test_app_engine_starts_from_app_yaml_and_serves(
    emulator_hosts: dict[str, str], storage_emulator: StorageEmulator, tmp_path: Path
) -> None:
    make_bucket(storage_emulator, f"{PROJECT_ID}.appspot.com")
    port = free_port()
    server = serve(app_engine_launch(tmp_path, port), emulator_hosts, port, tmp_path / "gae.log")
    try:
        body = post_query(port)
        assert body == {"data": {"user": None, "photos": {"edges": []}}}, body
        # As App Engine's cron service calls it: its header is trusted on App Engine.
        assert cron_status(port) == 200
    finally:
        server.stop()


def test_cloud_run_starts_from_the_dockerfile_and_service_yaml_and_serves(
    emulator_hosts: dict[str, str], storage_emulator: StorageEmulator, tmp_path: Path
) -> None:
    make_bucket(storage_emulator, f"{PROJECT_ID}-photos")
    port = free_port()
    server = serve(cloud_run_launch(port), emulator_hosts, port, tmp_path / "run.log")
    try:
        body = post_query(port)
        assert body == {"data": {"user": None, "photos": {"edges": []}}}, body
        # Off App Engine that header proves nothing: cron comes with an OIDC token.
        assert cron_status(port) == 403
        # The first worker may serve before the second has said it started.
        assert workers_started(tmp_path / "run.log", expected=2) == 2, "WEB_CONCURRENCY=2"
    finally:
        server.stop()


@pytest.mark.parametrize(
    ("platform", "dropped", "message"),
    [
        ("app-engine", "TIMELINE_CLOUD_TASKS_LOCATION", "CLOUD_TASKS_LOCATION must name"),
        ("app-engine", "TIMELINE_SECRET_KEY", "SECRET_KEY must be set"),
        ("cloud-run", "GOOGLE_CLOUD_PROJECT", "FIREBASE_PROJECT must be set"),
        ("cloud-run", "TIMELINE_TASKS_SERVICE_ACCOUNT", "TIMELINE_TASKS_SERVICE_ACCOUNT"),
    ],
)
def test_a_setting_missing_from_the_deploy_files_stops_the_start(
    emulator_hosts: dict[str, str], tmp_path: Path, platform: str, dropped: str, message: str
) -> None:
    port = free_port()
    launch = app_engine_launch(tmp_path, port) if platform == "app-engine" else None
    launch = launch or cloud_run_launch(port)
    argv, env = on_loopback(launch)
    assert dropped in env, f"the deploy files should set {dropped}"
    del env[dropped]
    env = {**env, **emulator_hosts, "PATH": f"{Path(sys.executable).parent}:/usr/bin:/bin"}
    finished = subprocess.run(
        argv, env=env, cwd=ROOT, capture_output=True, text=True, timeout=60, check=False
    )
    assert finished.returncode != 0
    assert message in finished.stderr + finished.stdout
