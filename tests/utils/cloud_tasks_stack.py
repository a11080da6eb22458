"""The real app under uvicorn as App Engine runs it, fed by gcloud-tasks-emulator.

The app runs on 127.0.0.1 with GAE_ENV=standard, so the guard trusts App Engine's
task headers, which the emulator sends for App Engine targets, and with the
SQLite store, so that a test can read the handlers' effects. It also accepts Cloud
Tasks' OIDC tokens for HTTP targets, checked against a local certificate server;
the emulator's launcher signs them as Cloud Tasks would.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator, Sequence
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives import serialization

from taskqueue.cloud_tasks import AppEngineTarget, CloudTasksQueue, HttpTarget, cloud_tasks_client
from taskqueue.enqueue import Tasks
from tests.utils.processes import ManagedServer, free_port
from tests.utils.tasks_emulator import LOCATION, PROJECT, TasksEmulator
from tests.utils.tokens import make_rsa_signing_key, serving_certificates

ROOT = Path(__file__).resolve().parents[2]
ACCOUNT = "cloud-tasks@photo-timeline-test.iam.gserviceaccount.com"
AUDIENCE = "photo-timeline-tasks"
SERVE = "from tests.utils.tasks_app import main; main()"


@dataclass
class CloudStack:
    emulator: TasksEmulator
    app_port: int
    db_path: Path

    def client(self) -> Any:
        return cloud_tasks_client(self.emulator.host)

    def tasks(self, target: AppEngineTarget | HttpTarget | None = None) -> Tasks:
        queue = CloudTasksQueue(
            self.client(), project=PROJECT, location=LOCATION, target=target or AppEngineTarget()
        )
        return Tasks(queue, queues=["default", "inspect"])


@contextmanager
def cloud_tasks_stack(workdir: Path, queues: Sequence[str] = ("default",)) -> Iterator[CloudStack]:
    """The emulator (with `queues`) delivering to the real app under uvicorn."""
    app_port = free_port()
    google = make_rsa_signing_key("google-oidc")
    key_file = workdir / "oidc-key.pem"
    key_file.write_bytes(
        google.private_key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    with ExitStack() as running:
        certs = running.enter_context(serving_certificates({"test-key": google.certificate_pem}))
        emulator = TasksEmulator(
            workdir, target_port=app_port, queues=list(queues), oidc_key=key_file
        )
        running.callback(emulator.stop)
        env = {
            **os.environ,
            "PYTHONPATH": str(ROOT),
            "GAE_ENV": "standard",
            "GOOGLE_CLOUD_PROJECT": PROJECT,
            "TIMELINE_SECRET_KEY": "s" * 40,
            "TIMELINE_STORE": "sqlite",
            "TIMELINE_VAR_DIR": str(workdir),
            "TIMELINE_CLOUD_TASKS_LOCATION": LOCATION,
            "TIMELINE_CLOUD_TASKS_EMULATOR_HOST": emulator.host,
            "TIMELINE_TASKS_SERVICE_ACCOUNT": ACCOUNT,
            "TIMELINE_TASKS_AUDIENCE": AUDIENCE,
            "TIMELINE_TASKS_OIDC_CERTS_URL": certs.url,
            # Production serves images from Cloud Storage; nothing here uploads, so a
            # client pointed at a closed local port (anonymous, never called) will do.
            "STORAGE_EMULATOR_HOST": "http://127.0.0.1:9",
        }
        app = ManagedServer(
            [sys.executable, "-c", SERVE, "--port", str(app_port)],
            health_url=f"http://127.0.0.1:{app_port}/healthz",
            log_path=workdir / "app.log",
            env=env,
        )
        running.callback(app.stop)
        app.start()
        yield CloudStack(emulator, app_port, workdir / "timeline.db")
