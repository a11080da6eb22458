"""graphql-http's audit of GraphQL over HTTP, against the real server.

`python -m serve` runs in a subprocess on 127.0.0.1 (local mode: the audits ask
for `__type`, which production's no-introspection rule refuses), and the audit
runs in Node (clients/graphql-http-audit.mjs, graphql-http pinned in the
repository's package-lock.json; `make test` runs `npm ci` first). Every audit must
pass: 0 errors, 0 warnings, 0 notices. Under CI=true a missing node is a
failure; elsewhere a visible skip.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.utils.processes import ManagedServer, free_port, missing_tool

ROOT = Path(__file__).resolve().parent.parent
AUDIT = ROOT / "clients" / "graphql-http-audit.mjs"


@pytest.fixture(scope="module")
def graphql_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    var = tmp_path_factory.mktemp("audit")
    port = free_port()
    env = {
        "PATH": "/usr/bin:/bin",
        "PYTHONPATH": str(ROOT),
        "TIMELINE_ENV": "local",
        "TIMELINE_VAR_DIR": str(var),
        "TIMELINE_CRON_SCHEDULER": "0",
    }
    server = ManagedServer(
        [sys.executable, "-m", "serve", "--port", str(port)],
        f"http://127.0.0.1:{port}/healthz",
        log_path=var / "serve.log",
        env=env,
    )
    server.start()
    try:
        yield f"http://127.0.0.1:{port}/graphql"
    finally:
        server.stop()


def node() -> str:
    executable = shutil.which("node")
    if executable is None:
        missing_tool("node is not installed (Debian: apt-get install nodejs npm)")
    if not (ROOT / "node_modules" / "graphql-http").is_dir():
        missing_tool("node_modules is missing: run `npm ci`")
    return executable


@pytest.mark.slow
def test_every_graphql_over_http_audit_passes(graphql_url: str) -> None:
    audit = subprocess.run(
        [node(), str(AUDIT), graphql_url],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    lines = audit.stdout.strip().splitlines()
    assert lines, audit.stderr
    counts = json.loads(lines[-1])
    failed = [line for line in lines[:-1] if not line.startswith("ok ")]
    assert failed == [], "\n".join(failed)
    assert counts["ok"] == len(lines) - 1 >= 60, counts  # all of them ran
    assert audit.returncode == 0, audit.stderr
