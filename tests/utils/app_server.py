"""The real app under the uvicorn command line, as `make run` and App Engine start it,
on 127.0.0.1 in a var dir of its own.

    server = AppServer(var, "first", "--workers", "2")
    server.start()            # RuntimeError (with the log) if it exits before serving
    server.log()              # what it printed

`app` defaults to the module-level app; `TEST_HANDLERS_APP` is the same app with the
test task handlers of tests/utils/tasks_app.py registered.
"""

from __future__ import annotations

import os
import shlex
import sys
from pathlib import Path

import yaml

from tests.utils.processes import ManagedServer, free_port

ROOT = Path(__file__).resolve().parents[2]
TEST_HANDLERS_APP = ("--factory", "tests.utils.tasks_app:app_from_environment")
# A process whose file-size limit is set before it becomes uvicorn (a disk that fills).
_LIMITED = (
    "import os, resource, sys; n = int(sys.argv[1]); "
    "resource.setrlimit(resource.RLIMIT_FSIZE, (n, n)); "
    "os.execv(sys.executable, [sys.executable, *sys.argv[2:]])"
)


def entrypoint_flag(name: str) -> str:
    """The value app.yaml's entrypoint gives uvicorn's `name` option."""
    entrypoint = yaml.safe_load((ROOT / "app.yaml").read_text())["entrypoint"]
    words = shlex.split(entrypoint)
    assert name in words, f"app.yaml's entrypoint sets no {name}: {entrypoint}"
    return words[words.index(name) + 1]


class AppServer(ManagedServer):
    def __init__(
        self,
        var: Path,
        name: str,
        *uvicorn_args: str,
        app: tuple[str, ...] = ("app:app",),
        env: dict[str, str] | None = None,
        file_size_limit: int | None = None,
    ) -> None:
        self.var = var
        self.port = free_port()
        command = [
            "-m",
            "uvicorn",
            *app,
            "--host",
            "127.0.0.1",
            "--port",
            str(self.port),
            *uvicorn_args,
        ]
        if file_size_limit is None:
            argv = [sys.executable, *command]
        else:
            argv = [sys.executable, "-c", _LIMITED, str(file_size_limit), *command]
        environment = {
            **os.environ,
            "PYTHONPATH": str(ROOT),
            "TIMELINE_VAR_DIR": str(var),
            **(env or {}),
        }
        environment.pop("GAE_ENV", None)
        super().__init__(
            argv,
            health_url=f"{self.url}/healthz",
            log_path=var / f"{name}.log",
            env=environment,
        )

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")
