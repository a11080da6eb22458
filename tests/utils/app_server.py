"""The real app in a server process on 127.0.0.1, in local mode and a var dir of
its own: by default through serve.py, as `make run` and App Engine start it; with
`uvicorn=(...)` under the uvicorn command line instead (for `--workers`).

    server = AppServer(var, "first")
    server.start()            # RuntimeError (with the log) if it exits before serving
    server.log()              # what it printed

`test_handlers=True` registers the task handlers of tests/utils/tasks_app.py first;
`port=` listens on that port rather than a free one.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

from tests.utils.processes import ManagedServer, free_port

ROOT = Path(__file__).resolve().parents[2]
_SERVE = "import serve; serve.main()"
_SERVE_WITH_HANDLERS = "import tests.utils.tasks_app; import serve; serve.main()"
# A process whose file-size limit is set before it becomes uvicorn (a disk that fills).
_LIMITED = (
    "import os, resource, sys; n = int(sys.argv[1]); "
    "resource.setrlimit(resource.RLIMIT_FSIZE, (n, n)); "
    "os.execv(sys.executable, [sys.executable, *sys.argv[2:]])"
)


class AppServer(ManagedServer):
    def __init__(
        self,
        var: Path,
        name: str,
        *,
        uvicorn: tuple[str, ...] | None = None,
        test_handlers: bool = False,
        env: dict[str, str] | None = None,
        file_size_limit: int | None = None,
        port: int | None = None,
    ) -> None:
        self.var = var
        self.port = free_port() if port is None else port
        address = ["--host", "127.0.0.1", "--port", str(self.port)]
        if uvicorn is not None:
            command = ["-m", "uvicorn", "app:app", *address, *uvicorn]
        else:
            command = ["-c", _SERVE_WITH_HANDLERS if test_handlers else _SERVE, *address]
        if file_size_limit is None:
            argv = [sys.executable, *command]
        else:
            argv = [sys.executable, "-c", _LIMITED, str(file_size_limit), *command]
        environment = {
            **os.environ,
            "PYTHONPATH": str(ROOT),
            "TIMELINE_ENV": "local",
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
