"""The committed schema (schema.graphql) and what may change in it.

`schema.graphql` at the repository root is the contract the apps generate their
code from. Two checks hold it:

- **Drift.** The file is the live schema printed; `make schema` rewrites it, and
  a test fails when they differ.
- **Breaking changes.** A change that can break a client already built (a field
  removed, a type changed, an argument made required: graphql-core's
  `find_breaking_changes`) must be listed as intended in
  docs/SCHEMA_CHANGELOG.md, by the exact sentence graphql-core gives, in
  backticks. `make schema` refuses to write an unlisted one; the test finds the
  same in history, so a hand-edited file cannot slip one through.

The version a change is measured against is *the last committed version that
differs from the one checked*, found along HEAD's first parents in git. On a
developer's machine with a regenerated, uncommitted file that is HEAD's version;
on a clean CI clone, where the working tree is HEAD, it is the version before
the commit that last changed the file (for a merge into main, main's version
before the merge). That needs the history, not the network: a shallow clone
cannot tell, and the check says so rather than passing.
"""

from __future__ import annotations

import subprocess
from dataclasses import dataclass
from pathlib import Path

from graphql import (
    GraphQLSchema,
    build_schema,
    find_breaking_changes,
    find_dangerous_changes,
)

ROOT = Path(__file__).resolve().parent.parent
SCHEMA_FILE = "schema.graphql"
CHANGELOG = "docs/SCHEMA_CHANGELOG.md"


class HistoryUnavailable(Exception):
    """Not a git checkout, or a shallow one: the previous version cannot be found."""


@dataclass(frozen=True)
class Changes:
    breaking: list[str]
    dangerous: list[str]


def live_sdl() -> str:
    """The schema as served (introspection on: it changes no type), printed."""
    from schema import build_schema as build_live_schema

    return build_live_schema().as_str() + "\n"


def changes_between(old_sdl: str, new_sdl: str) -> Changes:
    old: GraphQLSchema = build_schema(old_sdl)
    new: GraphQLSchema = build_schema(new_sdl)
    return Changes(
        breaking=[change.description for change in find_breaking_changes(old, new)],
        dangerous=[change.description for change in find_dangerous_changes(old, new)],
    )


def unlisted(breaking: list[str], changelog: str) -> list[str]:
    """The breaking changes the changelog does not list as intended."""
    return [change for change in breaking if f"`{change}`" not in changelog]


def previous_committed_sdl(current: str, root: Path = ROOT) -> str | None:
    """The newest version of schema.graphql on HEAD's first-parent line that
    differs from `current`; None when the file has no earlier version."""
    if _git(root, "rev-parse", "--is-shallow-repository").strip() == "true":
        raise HistoryUnavailable("a shallow clone: fetch the whole history (fetch-depth: 0)")
    commits = _git(root, "rev-list", "--first-parent", "HEAD", "--", SCHEMA_FILE).split()
    if not commits:
        return None
    newest = _file_at(root, commits[0])
    if newest != current:
        return newest
    # The newest commit that changed the file made it `current`: its parent had the one before.
    return _file_at(root, commits[0] + "^1")


def _file_at(root: Path, revision: str) -> str | None:
    try:
        return _git(root, "show", f"{revision}:{SCHEMA_FILE}")
    except HistoryUnavailable:
        return None  # no parent, or the file did not exist there


def _git(root: Path, *args: str) -> str:
    try:
        done = subprocess.run(
            ["git", *args], cwd=root, capture_output=True, text=True, check=True, timeout=30
        )
    except (OSError, subprocess.CalledProcessError) as error:
        raise HistoryUnavailable(f"git {' '.join(args)} failed: {error}") from None
    return done.stdout
