"""The installed gcloud as an oracle for commands we write down: does the command
exist, and does it take these flags?

Two sources, both offline:
- the SDK's static completion tree (<sdk>/data/cli/gcloud_completions.py: every
  command group, command and flag of this installation), fast, for every check;
- `gcloud <command> --help`, the SDK's own help, once per distinct command
  (cached), for the slow cross-check.

    problems = command_problems(["gcloud", "tasks", "queues", "create", "q", "--location=x"])

Without the SDK the calling test is skipped; under CI=true it fails (tests/gcloud_sdk.py).
"""

from __future__ import annotations

import functools
import re
import runpy
import shlex
import shutil
import subprocess
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from tests.gcloud_sdk import sdk_root
from tests.utils.processes import missing_tool


@dataclass(frozen=True)
class Parsed:
    path: tuple[str, ...]  # the command: ("tasks", "queues", "create")
    flags: tuple[str, ...]  # as written, without values: ("--location", "--no-promote")
    problems: tuple[str, ...]


@functools.cache
def completion_tree() -> Mapping[str, Any]:
    root = sdk_root()
    tree_file = root / "data/cli/gcloud_completions.py" if root else None
    if tree_file is None or not tree_file.is_file():
        missing_tool("the Google Cloud SDK's static completion tree is not installed")
    assert tree_file is not None
    tree: Mapping[str, Any] = runpy.run_path(str(tree_file))["STATIC_COMPLETION_CLI_TREE"]
    return tree


def parse(argv: list[str]) -> Parsed:
    """Walk `argv` (starting with "gcloud") down the tree: each word that names a
    group or command goes down a level; the command reached must be a leaf, and
    each flag must be its own or one inherited from a level above."""
    node = completion_tree()
    known = set(node["flags"])
    path: list[str] = []
    words = iter(argv[1:])
    flags: list[str] = []
    problems: list[str] = []
    for word in words:
        if word.startswith("-"):
            flags.append(word.split("=", 1)[0])
            continue
        if word in node["commands"] and not flags:
            node = node["commands"][word]
            known |= set(node["flags"])
            path.append(word)
            continue
        if node["commands"]:
            problems.append(f"`gcloud {' '.join(path)}` has no command {word!r}")
            break
        break  # the first positional argument of a command; the rest are its values
    else:
        if node["commands"]:
            problems.append(f"`gcloud {' '.join(path)}` is a group, not a command")
    flags += [word.split("=", 1)[0] for word in words if word.startswith("--")]
    for flag in flags:
        if not flag.startswith("--"):
            continue  # -q and friends: short forms of global flags
        if flag not in known and not _negated_bool(flag, known):
            problems.append(f"`gcloud {' '.join(path)}` takes no {flag}")
    return Parsed(tuple(path), tuple(flags), tuple(problems))


def _negated_bool(flag: str, known: set[str]) -> bool:
    positive = "--" + flag.removeprefix("--no-")
    return flag.startswith("--no-") and positive in known


def command_problems(argv: list[str]) -> list[str]:
    return list(parse(argv).problems)


@functools.cache
def help_text(path: tuple[str, ...]) -> str:
    """`gcloud <path> --help`, as plain text (no pager, no colours)."""
    gcloud = shutil.which("gcloud")
    if gcloud is None:
        missing_tool("gcloud is not on PATH")
    assert gcloud is not None
    finished = subprocess.run(
        [gcloud, *path, "--help"],
        capture_output=True,
        text=True,
        timeout=120,
        env={
            "PATH": "/usr/bin:/bin",
            "PAGER": "cat",
            "CLOUDSDK_CORE_DISABLE_PROMPTS": "1",
            "TERM": "dumb",
            "HOME": "/tmp",
        },
        check=False,
    )
    if finished.returncode != 0:
        return ""
    return re.sub(r"\x1b\[[0-9;]*m", "", finished.stdout)


# Where commands start in a shell line: its start, or after | && ; $( .
_COMMAND_START = re.compile(r"(?:^|\|\s*|&&\s*|;\s*|\$\()\s*(gcloud\s)")


# An inline code span in prose that holds a command: `gcloud app deploy cron.yaml`.
_INLINE_COMMAND = re.compile(r"`(gcloud\s[^`]+)`")


def shell_commands(markdown: str) -> Iterator[tuple[int, list[str]]]:
    """Every gcloud command in `markdown`, with its line number: in fenced code
    blocks (continuation lines joined, commands inside $( ) and after pipes found,
    shell variables left as written) and in inline code spans in the prose."""
    in_block = False
    pending = ""
    start = 0
    for number, line in enumerate(markdown.splitlines(), start=1):
        if line.lstrip().startswith("```"):
            in_block = not in_block
            continue
        if not in_block:
            for span in _INLINE_COMMAND.finditer(line):
                yield number, shlex.split(span.group(1))
            continue
        if not pending:
            start = number
        if line.rstrip().endswith("\\"):
            pending += line.rstrip()[:-1] + " "
            continue
        logical, pending = pending + line, ""
        if logical.lstrip().startswith("#"):
            continue
        for match in _COMMAND_START.finditer(logical):
            yield start, shlex.split(_one_command(logical[match.start(1) :]))


def _one_command(text: str) -> str:
    """`text` up to the end of its command: an unquoted ), |, ;, && or # ends it."""
    quote = ""
    for index, char in enumerate(text):
        if quote:
            quote = "" if char == quote else quote
        elif char in "'\"":
            quote = char
        elif char in ")|;#" or text.startswith("&&", index):
            return text[:index]
    return text
