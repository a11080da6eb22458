"""docs/DEPLOY.md's gcloud commands, and those the deploy tools print, against the
installed Google Cloud SDK: each command exists and takes each flag written
(tests/gcloud_cli.py). The fast check reads the SDK's completion tree; the slow
one asks `gcloud <command> --help`, once per distinct command."""

from __future__ import annotations

import shlex
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from cron.config import load_cron_yaml
from deploy.queues import queue_command
from deploy.scheduler import job_command
from taskqueue.config import load_queue_yaml
from tests.gcloud_cli import Parsed, command_problems, help_text, parse, shell_commands

ROOT = Path(__file__).resolve().parents[1]
GUIDE = ROOT / "docs" / "DEPLOY.md"
URL = "https://photo-timeline-123456789012.europe-west1.run.app"
ACCOUNT = "timeline-tasks@my-photo-timeline.iam.gserviceaccount.com"

# The path from an empty project to a running service and back, on both targets.
REQUIRED = {
    ("services", "enable"),
    ("app", "create"),
    ("firestore", "databases", "create"),
    ("datastore", "indexes", "create"),
    ("secrets", "create"),
    ("secrets", "versions", "access"),
    ("iam", "service-accounts", "create"),
    ("projects", "add-iam-policy-binding"),
    ("storage", "buckets", "create"),
    ("app", "deploy"),
    ("app", "services", "set-traffic"),
    ("builds", "submit"),
    ("run", "services", "replace"),
    ("run", "services", "update-traffic"),
    ("scheduler", "jobs", "list"),
    ("app", "logs", "tail"),
    ("run", "services", "logs", "read"),
    ("logging", "read"),
}


def guide_commands() -> list[tuple[int, list[str]]]:
    return list(shell_commands(GUIDE.read_text()))


def tool_commands() -> list[list[str]]:
    jobs = [
        job_command(entry, location="europe-west1", url=URL, service_account=ACCOUNT, update=u)
        for entry in load_cron_yaml()
        for u in (False, True)
    ]
    queues = [
        queue_command(queue, location="europe-west1", update=u)
        for queue in load_queue_yaml().values()
        for u in (False, True)
    ]
    return jobs + queues


def test_the_guide_covers_the_whole_path() -> None:
    written = {parse(argv).path for _, argv in guide_commands()}
    assert written >= REQUIRED, f"missing from docs/DEPLOY.md: {sorted(REQUIRED - written)}"


def test_every_gcloud_command_in_the_guide_exists_with_its_flags() -> None:
    problems = [
        f"docs/DEPLOY.md:{line}: {problem}"
        for line, argv in guide_commands()
        for problem in command_problems(argv)
    ]
    assert not problems, "\n".join(problems)


def test_the_commands_the_tools_print_exist_with_their_flags() -> None:
    problems = [problem for argv in tool_commands() for problem in command_problems(argv)]
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize(
    ("command", "problem"),
    [
        ("gcloud tasks queue create default", "has no command 'queue'"),
        ("gcloud app deploy app.yaml --promote-now", "takes no --promote-now"),
        ("gcloud run services", "is a group"),
        ("gcloud run services --region=x", "is a group"),
        ("gcloud scheduler jobs create http j --schedule='* * * * *' --oidc-email=a", "--oidc"),
    ],
)
def test_the_check_refuses_what_gcloud_would(command: str, problem: str) -> None:
    problems = command_problems(shlex.split(command)) or ["(none)"]
    assert any(problem in each for each in problems), problems


@pytest.mark.slow
def test_every_command_and_flag_is_in_the_sdks_own_help() -> None:
    parsed: dict[tuple[str, ...], set[str]] = {}
    commands = [argv for _, argv in guide_commands()] + tool_commands()
    for each in (parse(argv) for argv in commands):
        parsed.setdefault(each.path, set()).update(_flag_names(each))
    with ThreadPoolExecutor(max_workers=4) as pool:
        texts = dict(zip(parsed, pool.map(help_text, parsed), strict=True))
    problems = []
    for path, flags in sorted(parsed.items()):
        text = texts[path]
        if not text:
            problems.append(f"`gcloud {' '.join(path)} --help` failed")
            continue
        problems += [
            f"`gcloud {' '.join(path)} --help` lists no {flag}"
            for flag in sorted(flags)
            if flag not in text
        ]
    assert not problems, "\n".join(problems)


def _flag_names(parsed: Parsed) -> set[str]:
    """As help writes them: --[no-]promote for --no-promote, so the bare name."""
    return {
        "--" + flag.removeprefix("--").removeprefix("no-")
        for flag in parsed.flags
        if flag.startswith("--")
    }
