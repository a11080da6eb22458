"""docs/SECURITY.md names a test for every defence: each name must exist, so the
threat table cannot point at a test that was renamed or removed."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TEST_NAME = re.compile(r"\b(test_\w+)")


def test_every_test_the_threat_table_names_exists() -> None:
    table = (ROOT / "docs" / "SECURITY.md").read_text()
    sources = "\n".join(path.read_text() for path in (ROOT / "tests").rglob("test_*.py"))
    modules = {path.stem for path in (ROOT / "tests").rglob("test_*.py")}
    named = set(TEST_NAME.findall(table))
    assert named, "the threat table names no tests"
    missing = sorted(
        name for name in named if name not in modules and f"def {name}(" not in sources
    )
    assert missing == []
