"""The Dockerfile, read without Docker: its instructions, the environment it sets,
its command, and the paths it copies (Docker is not on every machine that must
check it, nor on this one's CI).

Only the instructions this project's Dockerfile uses are understood in depth
(FROM, ENV key=value, COPY, USER, CMD in exec form); the others are kept as text.
"""

from __future__ import annotations

import json
import shlex
from dataclasses import dataclass
from pathlib import Path


class DockerfileError(ValueError):
    """The Dockerfile uses a form this reader does not accept."""


@dataclass(frozen=True)
class Instruction:
    keyword: str  # upper case: FROM, ENV, ...
    arguments: str
    line: int


@dataclass(frozen=True)
class Dockerfile:
    instructions: tuple[Instruction, ...]

    @classmethod
    def read(cls, path: Path) -> Dockerfile:
        return cls.parse(path.read_text())

    @classmethod
    def parse(cls, text: str) -> Dockerfile:
        return cls(tuple(_instructions(text)))

    def all(self, keyword: str) -> list[Instruction]:
        return [each for each in self.instructions if each.keyword == keyword]

    def base_images(self) -> list[str]:
        """Each stage's image (`FROM image [AS name]`)."""
        return [each.arguments.split()[0] for each in self.all("FROM")]

    def environment(self) -> dict[str, str]:
        """What `ENV key=value ...` sets in the final image."""
        env: dict[str, str] = {}
        for each in self._final_stage("ENV"):
            for pair in shlex.split(each.arguments):
                name, equals, value = pair.partition("=")
                if not equals:
                    raise DockerfileError(f"line {each.line}: write ENV as key=value")
                env[name] = value
        return env

    def command(self) -> list[str]:
        """The final CMD, which must be in exec form (a JSON list): in shell form
        the server would run under /bin/sh, which does not pass SIGTERM on."""
        commands = self._final_stage("CMD")
        if not commands:
            raise DockerfileError("no CMD")
        text = commands[-1].arguments
        try:
            argv = json.loads(text)
        except json.JSONDecodeError:
            raise DockerfileError(f"CMD must be in exec form, not {text!r}") from None
        if not isinstance(argv, list) or not all(isinstance(part, str) for part in argv):
            raise DockerfileError(f"CMD must be a list of strings, not {text!r}")
        return argv

    def user(self) -> str | None:
        users = self._final_stage("USER")
        return users[-1].arguments.strip() if users else None

    def copied_sources(self) -> list[str]:
        """The build-context paths COPY takes (not those copied from another stage)."""
        sources: list[str] = []
        for each in self.all("COPY"):
            words = shlex.split(each.arguments)
            if any(word.startswith("--from=") for word in words):
                continue
            paths = [word for word in words if not word.startswith("--")]
            sources.extend(paths[:-1])
        return sources

    def _final_stage(self, keyword: str) -> list[Instruction]:
        last_from = max((each.line for each in self.all("FROM")), default=0)
        return [each for each in self.all(keyword) if each.line > last_from]


def _instructions(text: str) -> list[Instruction]:
    found: list[Instruction] = []
    pending: list[str] = []
    start = 0
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if not pending and (not line or line.startswith("#")):
            continue
        if pending and line.startswith("#"):
            continue  # Docker drops comment lines inside a continuation
        if not pending:
            start = number
        if line.endswith("\\"):
            pending.append(line[:-1].strip())
            continue
        pending.append(line)
        keyword, _, arguments = " ".join(part for part in pending if part).partition(" ")
        found.append(Instruction(keyword.upper(), arguments.strip(), start))
        pending = []
    if pending:
        raise DockerfileError("the last instruction ends with a line continuation")
    return found
