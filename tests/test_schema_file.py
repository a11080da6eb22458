"""schema.graphql: the live schema, and no breaking change that is not listed as intended.

How the previous version is found, and why, is in schema/compatibility.py.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

from schema.compatibility import (
    CHANGELOG,
    ROOT,
    SCHEMA_FILE,
    HistoryUnavailable,
    changes_between,
    live_sdl,
    previous_committed_sdl,
    unlisted,
)
from schema.export import export

REMOVED_FIELD = "Field Query.retired was removed."


def test_schema_graphql_is_the_live_schema() -> None:
    committed = (ROOT / SCHEMA_FILE).read_text()
    assert committed == live_sdl(), f"{SCHEMA_FILE} differs from the live schema: run make schema"


def test_every_breaking_change_since_the_previous_version_is_listed() -> None:
    current = (ROOT / SCHEMA_FILE).read_text()
    try:
        previous = previous_committed_sdl(current)
    except HistoryUnavailable as why:
        if os.environ.get("CI") == "true":
            pytest.fail(f"the schema check needs the git history: {why}")
        pytest.skip(f"no git history: {why}")
    if previous is None:
        return  # the file's first version
    changes = changes_between(previous, current)
    missing = unlisted(changes.breaking, (ROOT / CHANGELOG).read_text())
    assert missing == [], f"list these in {CHANGELOG} as intended, with a reason: {missing}"


def test_a_removed_field_is_breaking_and_an_added_enum_value_dangerous() -> None:
    old = "type Query { kept: Int retired: Int mood: Mood }\nenum Mood { HAPPY }"
    new = "type Query { kept: Int mood: Mood }\nenum Mood { HAPPY SAD }"
    changes = changes_between(old, new)
    assert changes.breaking == [REMOVED_FIELD]
    assert changes.dangerous == ["Enum value Mood.SAD was added."]
    assert unlisted(changes.breaking, "nothing listed") == [REMOVED_FIELD]
    assert unlisted(changes.breaking, f"- `{REMOVED_FIELD}` No app used it.") == []


def _git(repo: Path, *args: str) -> str:
    return subprocess.run(
        ["git", "-c", "user.name=t", "-c", "user.email=t@t", *args],
        cwd=repo,
        check=True,
        capture_output=True,
        text=True,
    ).stdout


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    if shutil.which("git") is None:
        pytest.fail("git is needed") if os.environ.get("CI") == "true" else pytest.skip("no git")
    _git(tmp_path, "init", "-q", "-b", "main")
    (tmp_path / "docs").mkdir()
    (tmp_path / CHANGELOG).write_text("# Schema changelog\n")
    return tmp_path


def _commit(repo: Path, sdl: str, message: str) -> None:
    (repo / SCHEMA_FILE).write_text(sdl)
    _git(repo, "add", SCHEMA_FILE, CHANGELOG)
    _git(repo, "commit", "-q", "-m", message)


def test_the_previous_version_is_the_last_committed_one_that_differs(repo: Path) -> None:
    v1, v2 = "type Query { a: Int b: Int }\n", "type Query { a: Int }\n"
    _commit(repo, v1, "v1")
    assert previous_committed_sdl(v1, repo) is None  # the first version has none
    assert previous_committed_sdl(v2, repo) == v1  # regenerated, not yet committed
    _commit(repo, v2, "v2")
    (repo / "other.txt").write_text("x")
    _git(repo, "add", "other.txt")
    _git(repo, "commit", "-q", "-m", "unrelated")
    assert previous_committed_sdl(v2, repo) == v1  # a clean clone: HEAD is v2


def test_a_shallow_clone_cannot_tell(repo: Path, tmp_path_factory: pytest.TempPathFactory) -> None:
    _commit(repo, "type Query { a: Int b: Int }\n", "v1")
    _commit(repo, "type Query { a: Int }\n", "v2")
    shallow = tmp_path_factory.mktemp("shallow") / "clone"
    _git(repo.parent, "clone", "-q", "--depth", "1", f"file://{repo}", str(shallow))
    with pytest.raises(HistoryUnavailable, match="shallow"):
        previous_committed_sdl("type Query { a: Int }\n", shallow)


def test_make_schema_refuses_an_unlisted_breaking_change(repo: Path) -> None:
    live = live_sdl()
    with_extra = live.replace("type Query {", "type Query {\n  retired: Int", 1)
    _commit(repo, with_extra, "a field the live schema no longer has")

    assert export(repo) == 1
    assert (repo / SCHEMA_FILE).read_text() == with_extra

    (repo / CHANGELOG).write_text(f"- `{REMOVED_FIELD}` Nothing used it.\n")
    assert export(repo) == 0
    assert (repo / SCHEMA_FILE).read_text() == live
