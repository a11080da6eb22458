"""Production code reads the wall clock for dates only through clock.py: everything
else is handed a Clock, so that a test's fixed clock reaches it. Durations use
`time.monotonic()` or `time.perf_counter()`, which this guard leaves alone."""

from __future__ import annotations

import ast
import subprocess
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
ALLOWED = {"clock.py"}
NOT_PRODUCTION = ("tests/", "benchmarks/")
# `datetime.now()`, `date.today()`, `time.time()` and their kin, called or passed.
WALL_CLOCK = {
    "datetime": {"now", "utcnow", "today"},
    "date": {"today"},
    "time": {"time", "time_ns"},
}


def production_modules() -> list[str]:
    listed = subprocess.run(
        ["git", "ls-files", "--cached", "--others", "--exclude-standard", "*.py"],
        cwd=REPO,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    return [
        path
        for path in listed
        if not path.startswith(NOT_PRODUCTION) and path not in ALLOWED and (REPO / path).exists()
    ]


def wall_clock_reads(source: str) -> list[tuple[int, str]]:
    found: list[tuple[int, str]] = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Attribute) and node.attr in WALL_CLOCK.get(_base(node.value), ()):
            found.append((node.lineno, f"{_base(node.value)}.{node.attr}"))
        if isinstance(node, ast.ImportFrom) and node.module == "time":
            for alias in node.names:
                if alias.name in WALL_CLOCK["time"]:
                    found.append((node.lineno, f"from time import {alias.name}"))
    return sorted(found)


def _base(node: ast.expr) -> str:
    """`datetime` for `datetime` and `datetime.datetime`; `time` for `time`."""
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        return node.attr
    return ""


def test_production_code_reads_the_wall_clock_only_in_clock_py() -> None:
    modules = production_modules()
    assert "resolvers/comments.py" in modules
    assert "app.py" in modules
    offenders = [
        f"{path}:{line}: {what}"
        for path in modules
        for line, what in wall_clock_reads((REPO / path).read_text(encoding="utf-8"))
    ]
    assert offenders == [], "ask an injected Clock (clock.py) instead:\n" + "\n".join(offenders)


def test_the_guard_sees_every_spelling() -> None:
    source = """
import datetime as dt
from datetime import UTC, date, datetime
from time import time
import time as t
a = datetime.now(UTC)
b = dt.datetime.utcnow()
c = date.today()
d: object = time.time
e = time.monotonic()
"""
    assert [what for _, what in wall_clock_reads(source)] == [
        "from time import time",
        "datetime.now",
        "datetime.utcnow",
        "date.today",
        "time.time",
    ]
