"""wrk (Debian's `wrk`, a C load generator on epoll) as a generator for the benchmarks.

On a two-core machine the load generator's own CPU is taken from the servers it
loads: the Python generator (benchmarks/http_load.py) spends about 0.05 CPU ms a
request, a tenth of a core at the rates two server processes reach, which caps what
a two-process server can show. wrk spends a fraction of that. It sends the same
fixed request on keep-alive connections, like http_load, and reports its count,
non-2xx/3xx answers and latency percentiles through a Lua `done` hook as one line
of JSON. `make system-deps` installs it.
"""

from __future__ import annotations

import asyncio
import json
import math
import resource
import shutil
import tempfile
from dataclasses import dataclass

from benchmarks.http_load import HttpRequest

# Printed by the script's `done` hook: wrk gives latencies in microseconds.
_DONE = """
done = function(summary, latency, requests)
  local errors = summary.errors
  io.write(string.format(
    '{"requests": %d, "duration_us": %d, "status_errors": %d, "socket_errors": %d,'
    .. ' "p50_us": %d, "p99_us": %d}\\n',
    summary.requests, summary.duration, errors.status,
    errors.connect + errors.read + errors.write + errors.timeout,
    latency:percentile(50), latency:percentile(99)))
end
"""


def wrk_path() -> str | None:
    return shutil.which("wrk")


def _lua_string(text: str) -> str:
    """`text` as a Lua string literal: every byte outside printable ASCII as \\ddd."""
    escaped = "".join(
        char if 32 <= ord(char) < 127 and char not in '"\\' else f"\\{ord(char):03d}"
        for char in text
    )
    return f'"{escaped}"'


def script_for(request: HttpRequest) -> str:
    """A wrk script that sends `request` (method, headers, body) on every connection."""
    lines = [f"wrk.method = {_lua_string(request.method)}"]
    lines += [
        f"wrk.headers[{_lua_string(name)}] = {_lua_string(value)}"
        for name, value in request.headers
    ]
    if request.body:
        lines.append(f"wrk.body = {_lua_string(request.body.decode('latin-1'))}")
    return "\n".join(lines) + "\n" + _DONE


@dataclass(frozen=True)
class WrkLoad:
    """What one wrk run saw, with the same measures as http_load.Load."""

    seconds: float
    requests: int
    errors: int  # answers other than 2xx/3xx, and broken connections
    p50_ms: float
    p99_ms: float

    @property
    def per_second(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0


class WrkGenerator:
    """Loads a request with wrk, `threads` threads over `concurrency` connections,
    and adds up the CPU seconds wrk spent (its rusage as a waited-for child)."""

    def __init__(self, threads: int = 2) -> None:
        found = wrk_path()
        if found is None:
            raise RuntimeError("wrk is not installed: `make system-deps` installs it")
        self.executable, self.threads = found, threads
        self.cpu_seconds, self.requests = 0.0, 0

    async def __call__(self, request: HttpRequest, *, seconds: float, concurrency: int) -> WrkLoad:
        # wrk counts its duration in whole seconds.
        duration = max(1, math.ceil(seconds))
        with tempfile.NamedTemporaryFile("w", suffix=".lua") as script:
            script.write(script_for(request))
            script.flush()
            before = _children_cpu_seconds()
            process = await asyncio.create_subprocess_exec(
                self.executable,
                f"--threads={min(self.threads, concurrency)}",
                f"--connections={concurrency}",
                f"--duration={duration}s",
                f"--script={script.name}",
                request.url,
                stdout=asyncio.subprocess.PIPE,
                stderr=asyncio.subprocess.PIPE,
            )
            out, err = await process.communicate()
            self.cpu_seconds += _children_cpu_seconds() - before
        if process.returncode != 0:
            raise RuntimeError(f"wrk failed ({process.returncode}): {err.decode()[-500:]}")
        load = parse_summary(out.decode())
        self.requests += load.requests
        return load


def parse_summary(output: str) -> WrkLoad:
    """The JSON line the script's `done` hook printed, among wrk's own report."""
    for line in reversed(output.splitlines()):
        if line.startswith('{"requests"'):
            summary = json.loads(line)
            return WrkLoad(
                seconds=summary["duration_us"] / 1e6,
                requests=summary["requests"],
                errors=summary["status_errors"] + summary["socket_errors"],
                p50_ms=summary["p50_us"] / 1000,
                p99_ms=summary["p99_us"] / 1000,
            )
    raise RuntimeError(f"wrk printed no summary: {output[-500:]}")


def _children_cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime
