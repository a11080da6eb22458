"""The real server for the browser and client tests: `python -m serve` on 127.0.0.1
in local mode with the demo data, as `make run` serves it; one per session, since
the tests only read the demo data or add to it as users of their own."""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from auth.dev_tokens import key_path_in, mint_dev_token
from tests.utils.processes import ManagedServer, free_port

ROOT = Path(__file__).resolve().parents[2]


@dataclass(frozen=True)
class LocalServer:
    url: str  # http://127.0.0.1:<port>
    var_dir: Path
    log_path: Path

    def token(self, user_id: str) -> str:
        return mint_dev_token(key_path_in(self.var_dir), user_id)


@pytest.fixture(scope="session")
def local_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalServer]:
    var = tmp_path_factory.mktemp("e2e-server")
    port = free_port()
    origin = f"http://127.0.0.1:{port}"
    env = {
        **{name: value for name, value in os.environ.items() if not name.startswith("TIMELINE_")},
        "PYTHONPATH": str(ROOT),
        "TIMELINE_ENV": "local",
        "TIMELINE_VAR_DIR": str(var),
        "TIMELINE_DEMO_DATA": "1",
        "TIMELINE_PUBLIC_ORIGIN": origin,
        "TIMELINE_CRON_SCHEDULER": "0",
    }
    env.pop("GAE_ENV", None)
    server = ManagedServer(
        [sys.executable, "-m", "serve", "--host", "127.0.0.1", "--port", str(port)],
        health_url=f"{origin}/healthz",
        log_path=var / "serve.log",
        env=env,
    )
    server.start()
    try:
        yield LocalServer(origin, var, var / "serve.log")
    finally:
        server.stop()
