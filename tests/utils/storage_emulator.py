"""gcp-storage-emulator (PyPI), for the Cloud Storage blob adapter.

Installed in the project venv (its only dependency, google-crc32c, is one
google-cloud-storage needs anyway), started on 127.0.0.1 on a free port, in
memory, and stopped by process id. Each test gets a bucket of its own, so
nothing needs resetting between tests.
"""

from __future__ import annotations

import secrets
import shutil
import sys
from pathlib import Path

from google.api_core.client_options import ClientOptions
from google.auth.credentials import AnonymousCredentials
from google.cloud.storage import Client

from media.gcs_blobs import GCSBlobStore
from tests.utils.processes import ManagedServer, free_port, missing_tool

PROJECT_ID = "photo-timeline-test"
_EXECUTABLE = "gcp-storage-emulator"


def _executable() -> str:
    beside_python = Path(sys.executable).parent / _EXECUTABLE
    found = str(beside_python) if beside_python.is_file() else shutil.which(_EXECUTABLE)
    if found is None:
        missing_tool("gcp-storage-emulator is not installed (pip install -r requirements-dev.txt)")
    assert found is not None
    return found


class StorageEmulator:
    def __init__(self, workdir: Path) -> None:
        self.port = free_port()
        self.endpoint = f"http://127.0.0.1:{self.port}"
        self.server = ManagedServer(
            [_executable(), "start", "--host=127.0.0.1", f"--port={self.port}", "--in-memory"],
            health_url=f"{self.endpoint}/",
            log_path=workdir / f"storage-{self.port}.log",
        )
        self._clients: list[Client] = []
        self.server.start()

    def client(self) -> Client:
        client = Client(
            project=PROJECT_ID,
            credentials=AnonymousCredentials(),  # type: ignore[no-untyped-call]
            client_options=ClientOptions(api_endpoint=self.endpoint),
        )
        self._clients.append(client)  # closed with the emulator: no socket left to the GC
        return client

    def new_blob_store(self) -> GCSBlobStore:
        """A store over a fresh bucket, served publicly the way the emulator serves."""
        client = self.client()
        bucket = f"photos-{secrets.token_hex(4)}"
        client.create_bucket(bucket)
        return GCSBlobStore(bucket, client=client, public_url=f"{self.endpoint}/{bucket}")

    def stop(self) -> None:
        for client in self._clients:
            client.close()
        self.server.stop()
