"""The logging serve.py configures, in processes of its own (it replaces the
process's logging configuration): JSON lines in production, the app's INFO lines
kept, uvicorn's own lines through the same formatter, and the app's access line
in place of uvicorn's."""

from __future__ import annotations

import json
import subprocess
import sys
import urllib.request
from pathlib import Path

import pytest

from tests.utils.processes import ManagedServer, free_port

ROOT = Path(__file__).resolve().parent.parent

PRODUCTION_LINES = """
import logging, logging.config
from settings.observability import ObservabilitySettings
from serve import logging_for
from settings import Settings

settings = Settings(environment="production", observability=ObservabilitySettings(project="p"))
logging.config.dictConfig(logging_for(settings))
logging.getLogger("timeline.tasks.runs").info("task %s done", "fan-out")
logging.getLogger("timeline.tasks.runs").debug("not at INFO")
logging.getLogger("uvicorn.error").info("Started server process [1]")
logging.getLogger("somebody.else").info("a library's INFO stays out")
try:
    1 / 0
except ZeroDivisionError:
    logging.getLogger("timeline.errors").exception("internal error abc")
"""


def test_production_writes_json_lines_with_the_app_s_info_lines() -> None:
    result = subprocess.run(
        [sys.executable, "-c", PRODUCTION_LINES],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    assert result.stderr == ""
    lines = [json.loads(line) for line in result.stdout.splitlines()]
    assert [(line["logger"], line["severity"], line["message"]) for line in lines] == [
        ("timeline.tasks.runs", "INFO", "task fan-out done"),
        ("uvicorn.error", "INFO", "Started server process [1]"),
        ("timeline.errors", "ERROR", "internal error abc"),
    ]
    assert "ZeroDivisionError: division by zero" in lines[-1]["stack_trace"]


@pytest.mark.slow
def test_the_server_logs_one_access_line_per_request_instead_of_uvicorn_s(
    tmp_path: Path,
) -> None:
    port = free_port()
    env = {
        "PATH": "/usr/bin:/bin",
        "TIMELINE_ENV": "local",
        "TIMELINE_VAR_DIR": str(tmp_path),
        "TIMELINE_CRON_SCHEDULER": "0",
    }
    log = tmp_path / "serve.log"
    server = ManagedServer(
        [sys.executable, "-m", "serve", "--port", str(port)],
        f"http://127.0.0.1:{port}/healthz",
        log,
        env=env,
        cwd=ROOT,
    )
    server.start()
    try:
        request = urllib.request.Request(
            f"http://127.0.0.1:{port}/healthz", headers={"X-Request-Id": "probe-1"}
        )
        with urllib.request.urlopen(request, timeout=10) as response:
            assert response.headers["X-Request-Id"] == "probe-1"
    finally:
        server.stop()
    text = log.read_text()
    [line] = [line for line in text.splitlines() if "probe-1" in line]
    assert " INFO timeline.access [probe-1] GET /healthz 200 " in line
    assert 'HTTP/1.1" 200' not in text  # uvicorn's access line
    assert " INFO uvicorn.error Uvicorn running on " in text
