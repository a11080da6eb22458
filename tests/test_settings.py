"""Settings: local needs nothing; production refuses what is only safe locally."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import astuple
from pathlib import Path

import pytest

from settings import SettingsError, load_settings

PRODUCTION = {
    "GAE_ENV": "standard",
    "GOOGLE_CLOUD_PROJECT": "photo-timeline-prod",
    "TIMELINE_SECRET_KEY": "s" * 40,
}


def test_local_defaults_need_no_variables(tmp_path: Path) -> None:
    settings = load_settings({"TIMELINE_ENV": "local", "TIMELINE_VAR_DIR": str(tmp_path)})
    assert settings.environment == "local"
    assert settings.store == "sqlite"
    assert settings.sqlite_path == tmp_path / "timeline.db"
    assert settings.graphiql


def test_local_secret_is_generated_once_and_kept(tmp_path: Path) -> None:
    first = load_settings({"TIMELINE_ENV": "local", "TIMELINE_VAR_DIR": str(tmp_path)}).secret_key
    second = load_settings({"TIMELINE_ENV": "local", "TIMELINE_VAR_DIR": str(tmp_path)}).secret_key
    assert first == second
    assert len(first) >= 32
    assert (tmp_path / "secret.key").stat().st_mode & 0o077 == 0


def test_processes_starting_together_on_a_fresh_var_dir_agree_on_one_secret(
    tmp_path: Path,
) -> None:
    """uvicorn --workers N builds N apps at once; a cursor one signs, another verifies.
    Threads stand for the processes; a race is likely, not certain, in one round."""
    with ThreadPoolExecutor(16) as pool:
        for round_ in range(8):
            var = tmp_path / f"var{round_}"
            environ = {"TIMELINE_ENV": "local", "TIMELINE_VAR_DIR": str(var)}
            start = threading.Barrier(16)

            def load(
                _: int, environ: dict[str, str] = environ, start: threading.Barrier = start
            ) -> bytes:
                start.wait()
                return load_settings(environ).secret_key

            keys = set(pool.map(load, range(16)))
            assert keys == {(var / "secret.key").read_text().strip().encode()}
            assert [path.name for path in var.iterdir()] == ["secret.key"]


def test_production_defaults() -> None:
    settings = load_settings(PRODUCTION)
    assert settings.is_production
    assert settings.store == "datastore"
    assert not settings.graphiql


def test_production_refuses_a_missing_or_short_secret() -> None:
    with pytest.raises(SettingsError, match="TIMELINE_SECRET_KEY must be set"):
        load_settings({"GAE_ENV": "standard"})
    with pytest.raises(SettingsError, match="at least 32"):
        load_settings({**PRODUCTION, "TIMELINE_SECRET_KEY": "short"})


def test_production_refuses_demo_data() -> None:
    with pytest.raises(SettingsError, match="DEMO_DATA"):
        load_settings({**PRODUCTION, "TIMELINE_DEMO_DATA": "1"})


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        ("TIMELINE_STORE", "postgres", "must be 'sqlite' or 'datastore'"),
        ("TIMELINE_DEMO_DATA", "maybe", "must be a boolean"),
        ("TIMELINE_MAX_QUERY_DEPTH", "deep", "must be a whole number"),
        ("TIMELINE_MAX_QUERY_COST", "0", "must be positive"),
    ],
)
def test_malformed_values_name_the_variable(
    tmp_path: Path, name: str, value: str, message: str
) -> None:
    with pytest.raises(SettingsError, match=message):
        load_settings({"TIMELINE_ENV": "local", "TIMELINE_VAR_DIR": str(tmp_path), name: value})


def test_an_empty_variable_is_unset_and_an_empty_switch_off(tmp_path: Path) -> None:
    empty = ("STORE", "MAX_QUERY_COST", "TASK_LEASE_SECONDS", "GRAPHIQL", "PERSISTED_QUERIES")
    settings = load_settings(
        {
            "TIMELINE_ENV": "local",
            "TIMELINE_VAR_DIR": str(tmp_path),
            **{f"TIMELINE_{name}": "" for name in empty},
        }
    )
    assert (settings.store, settings.query_limits.max_cost) == ("sqlite", 10_000)
    assert settings.tasks.lease_seconds == 30
    assert not settings.graphiql
    assert not settings.persisted_queries.enabled


def test_query_limits_are_read_from_their_variables(tmp_path: Path) -> None:
    names = ["BYTES", "TOKENS", "OPERATIONS", "FIELDS", "ALIASES", "DIRECTIVES", "DEPTH", "COST"]
    environ = {f"TIMELINE_MAX_QUERY_{name}": str(n + 1) for n, name in enumerate(names)}
    limits = load_settings(
        {"TIMELINE_ENV": "local", "TIMELINE_VAR_DIR": str(tmp_path), **environ}
    ).query_limits
    assert astuple(limits) == tuple(range(1, len(names) + 1))


def test_production_verifies_firebase_tokens_for_its_own_project() -> None:
    settings = load_settings(PRODUCTION)
    assert settings.auth.firebase_project == "photo-timeline-prod"
    assert not settings.auth.dev_tokens


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        ({"TIMELINE_DEV_TOKENS": "1"}, "DEV_TOKENS"),
        ({"FIREBASE_AUTH_EMULATOR_HOST": "127.0.0.1:9099"}, "FIREBASE_AUTH_EMULATOR_HOST"),
        ({"GOOGLE_CLOUD_PROJECT": ""}, "FIREBASE_PROJECT"),
    ],
)
def test_production_refuses_dev_only_auth(extra: dict[str, str], message: str) -> None:
    with pytest.raises(SettingsError, match=message):
        load_settings({**PRODUCTION, **extra})
