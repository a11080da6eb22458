"""docs/CONFIGURATION.md is generated from the declared variables and kept fresh; the
variables it lists are exactly those the settings read; and a bad start-up hears of
every problem at once, each in one line naming its variable."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from settings import SettingsError, load_settings
from settings.doc import DOC, ROOT, SECTIONS, main, render
from settings.load import read_settings
from settings.variables import Reader
from tests.test_settings import PRODUCTION

DECLARED = [variable for section in SECTIONS for variable in section.variables]


def test_the_committed_doc_is_generated_from_the_settings() -> None:
    committed = (ROOT / DOC).read_text()
    assert committed == render(), f"{DOC} is stale: run python -m settings.doc"


def test_the_doc_check_fails_on_a_stale_file_and_writing_fixes_it(tmp_path: Path) -> None:
    (tmp_path / DOC).parent.mkdir()
    (tmp_path / DOC).write_text(render().replace("TIMELINE_MAX_QUERY_DEPTH", "TIMELINE_DEPTH"))
    assert main(["--check"], root=tmp_path) == 1
    assert main([], root=tmp_path) == 0
    assert main(["--check"], root=tmp_path) == 0


def test_every_variable_read_is_documented_once_and_every_documented_one_read(
    tmp_path: Path,
) -> None:
    names = [variable.env_name for variable in DECLARED]
    assert len(names) == len(set(names))
    read: set[str] = set()
    for environ, production in (
        ({"TIMELINE_ENV": "local", "TIMELINE_VAR_DIR": str(tmp_path)}, False),
        (PRODUCTION, True),
    ):
        reader = Reader(environ, production)
        read_settings(reader)
        read |= reader.read_names
    assert read == set(names)


def test_every_default_is_a_value_of_its_kind() -> None:
    for variable in DECLARED:
        for default in (variable.default_for(False), variable.default_for(True)):
            if default is not None:
                variable.kind.parse(default)  # raises Invalid for a default it would refuse
    assert all(variable.about for variable in DECLARED)


def test_every_problem_is_reported_at_once_one_line_each(tmp_path: Path) -> None:
    bad = {
        "TIMELINE_STORE": "postgres",
        "TIMELINE_IMAGE_WORKERS": "two",
        "TIMELINE_BODY_TIMEOUT_SECONDS": "-1",
        "TIMELINE_CORS_ORIGINS": "app.example.com",
        "TIMELINE_MAIL_FROM": "nobody",
    }
    with pytest.raises(SettingsError) as raised:
        load_settings({"TIMELINE_ENV": "local", "TIMELINE_VAR_DIR": str(tmp_path), **bad})
    problems = {problem.split()[0]: problem for problem in raised.value.problems}
    assert problems.keys() == bad.keys()
    for name, value in bad.items():
        assert problems[name].startswith(f"{name} must be "), problems[name]
        assert problems[name].endswith(f"not {value!r}"), problems[name]
    lines = str(raised.value).splitlines()
    assert lines[0] == f"{len(bad)} settings are wrong:"
    assert lines[1:] == [f"  - {each}" for each in raised.value.problems]


def test_a_production_deploy_hears_of_every_missing_setting() -> None:
    with pytest.raises(SettingsError) as raised:
        load_settings({"K_SERVICE": "timeline"})
    assert [problem.split()[0] for problem in raised.value.problems] == [
        "GOOGLE_CLOUD_PROJECT",
        "TIMELINE_SECRET_KEY",
        "TIMELINE_FIREBASE_PROJECT",
        "TIMELINE_PUSH=fcm",
    ]


def test_the_server_refuses_bad_settings_in_a_line_not_a_traceback(tmp_path: Path) -> None:
    environ = {
        "PATH": os.environ.get("PATH", ""),
        "TIMELINE_ENV": "local",
        "TIMELINE_VAR_DIR": str(tmp_path),
        "TIMELINE_MAX_QUERY_COST": "lots",
    }
    finished = subprocess.run(
        [sys.executable, "-m", "serve", "--port", "0"],
        cwd=ROOT,
        env=environ,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert finished.returncode == 2
    assert finished.stderr.strip() == (
        "cannot start: TIMELINE_MAX_QUERY_COST must be a whole number, not 'lots'"
    )
