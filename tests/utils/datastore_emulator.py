"""The official Cloud Datastore emulator from the Google Cloud CLI.

Started with `java` directly (the wrapper script does not pass a kill on to the
JVM), on 127.0.0.1, in memory, with --require_indexes against the project's
index.yaml so that a query without its composite index fails here as it would
in production.
"""

from __future__ import annotations

import shutil
import subprocess
import urllib.request
from pathlib import Path
from typing import Any

import yaml
from google.api_core.client_options import ClientOptions
from google.auth.credentials import AnonymousCredentials
from google.cloud import datastore

from tests.gcloud_sdk import sdk_root
from tests.utils.processes import ManagedServer, free_port, missing_tool

PROJECT_ROOT = Path(__file__).resolve().parents[2]
PROJECT_ID = "photo-timeline-test"


def _emulator_jar() -> Path:
    root = sdk_root()
    jar = root / "platform/cloud-datastore-emulator/CloudDatastore.jar" if root else None
    if jar is None or not jar.is_file():
        missing_tool(
            "the Cloud Datastore emulator (google-cloud-cli-datastore-emulator) is not installed"
        )
    if shutil.which("java") is None:
        missing_tool("Java is not installed; the Cloud Datastore emulator needs it")
    return jar


def _indexes(path: Path) -> list[Any]:
    indexes: list[Any] = yaml.safe_load(path.read_text())["indexes"]
    return indexes


class DatastoreEmulator:
    def __init__(self, workdir: Path, *, consistency: float = 1.0) -> None:
        jar = _emulator_jar()
        self.port = free_port()
        self.host = f"127.0.0.1:{self.port}"
        project_dir = workdir / f"datastore-{self.port}"
        main = "com.google.cloud.datastore.emulator.CloudDatastore"
        index_file = workdir / f"index-{self.port}.yaml"
        index_file.write_text(
            yaml.safe_dump(
                {
                    "indexes": _indexes(PROJECT_ROOT / "index.yaml")
                    + _indexes(PROJECT_ROOT / "tests/index.yaml")
                }
            )
        )
        subprocess.run(
            ["java", "-cp", str(jar), main, "create", str(project_dir)],
            check=True,
            capture_output=True,
            timeout=120,
        )
        self.server = ManagedServer(
            [
                "java",
                "-cp",
                str(jar),
                main,
                "start",
                "--host=127.0.0.1",
                f"--port={self.port}",
                "--store_on_disk=false",
                f"--consistency={consistency}",
                "--require_indexes",
                f"--index_file={index_file}",
                str(project_dir),
            ],
            health_url=f"http://{self.host}/",
            log_path=workdir / f"datastore-{self.port}.log",
        )
        self.server.start()

    def reset(self) -> None:
        request = urllib.request.Request(f"http://{self.host}/reset", method="POST")
        with urllib.request.urlopen(request, timeout=30) as response:
            assert response.status == 200

    def client(self) -> datastore.Client:
        return datastore.Client(  # type: ignore[no-untyped-call]
            project=PROJECT_ID,
            credentials=AnonymousCredentials(),  # type: ignore[no-untyped-call]
            client_options=ClientOptions(api_endpoint=f"http://{self.host}"),
        )

    def stop(self) -> None:
        self.server.stop()
