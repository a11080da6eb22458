"""gcloud-tasks-emulator from PyPI, in its own venv, listening on 127.0.0.1 only.

`make tasks-emulator` creates `.venv-tasks-emulator/` (it pins protobuf<5, which the
project's venv cannot have). The emulator speaks gRPC only, so readiness is a TCP
connect rather than an HTTP health check. It ignores queue retry settings; retry
behaviour is tested on the embedded queue.
"""

from __future__ import annotations

import socket
import subprocess
import time
from pathlib import Path

from tests.utils.processes import ManagedServer, free_port, missing_tool
from tests.utils.sockets import LISTEN, socket_inodes, tcp_sockets

PROJECT_ROOT = Path(__file__).resolve().parents[2]
EMULATOR_PYTHON = PROJECT_ROOT / ".venv-tasks-emulator" / "bin" / "python"
LAUNCHER = Path(__file__).with_name("tasks_emulator_main.py")
PROJECT = "photo-timeline-test"
LOCATION = "us-central1"


def queue_name(queue: str) -> str:
    return f"projects/{PROJECT}/locations/{LOCATION}/queues/{queue}"


class TcpManagedServer(ManagedServer):
    """A ManagedServer whose readiness is a TCP connect (for gRPC servers)."""

    def __init__(self, argv: list[str], port: int, log_path: Path) -> None:
        super().__init__(argv, health_url=f"tcp://127.0.0.1:{port}", log_path=log_path)
        self.port = port

    def start(self, timeout: float = 60.0) -> None:
        with self.log_path.open("wb") as log:
            self.process = subprocess.Popen(
                self.argv, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
            )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(
                    f"the tasks emulator exited early; see {self.log_path}:\n"
                    + self.log_path.read_text()[-2000:]
                )
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=1):
                    return
            except OSError:
                time.sleep(0.1)
        self.stop()
        raise RuntimeError(f"the tasks emulator did not listen in {timeout}s; see {self.log_path}")


class TasksEmulator:
    def __init__(
        self,
        workdir: Path,
        *,
        target_port: int,
        queues: list[str],
        oidc_key: Path | None = None,
        oidc_kid: str = "test-key",
    ) -> None:
        if not EMULATOR_PYTHON.exists():
            missing_tool(
                "gcloud-tasks-emulator is not installed in .venv-tasks-emulator "
                "(run `make tasks-emulator`)"
            )
        self.port = free_port()
        self.host = f"127.0.0.1:{self.port}"
        argv = [str(EMULATOR_PYTHON), str(LAUNCHER), "--port", str(self.port)]
        argv += ["--target-port", str(target_port)]
        for queue in queues:
            argv += ["--queue", queue_name(queue)]
        if oidc_key is not None:
            argv += ["--oidc-key", str(oidc_key), "--oidc-kid", oidc_kid]
        self.server = TcpManagedServer(argv, self.port, workdir / f"tasks-emulator-{self.port}.log")
        self.server.start()

    def listening_addresses(self) -> list[str]:
        """Where the emulator process listens, from /proc (to prove: loopback only)."""
        assert self.server.process is not None
        inodes = socket_inodes(self.server.process.pid)
        return [address for inode, address in tcp_sockets(LISTEN).items() if inode in inodes]

    def stop(self) -> None:
        self.server.stop()
