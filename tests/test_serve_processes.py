"""How many server processes serve.py runs, and the settings it reads for them."""

from __future__ import annotations

from pathlib import Path

import pytest

from serve import uncached_for_workers, usable_cpus, worker_count
from settings import CacheSettings, Settings, SettingsError, load_settings

DATASTORE = Settings(store="datastore", environment="production")
ON_APP_ENGINE = Settings(store="datastore", environment="production", app_engine=True)
EMBEDDED = Settings(store="sqlite")


def cgroup(tmp_path: Path, cpu_max: str | None) -> Path:
    if cpu_max is not None:
        (tmp_path / "cpu.max").write_text(cpu_max + "\n")
    return tmp_path


def test_the_embedded_store_runs_one_process_unless_asked_for_more(tmp_path: Path) -> None:
    assert worker_count(EMBEDDED, {}, cgroup(tmp_path, "400000 100000")) == 1
    assert worker_count(EMBEDDED, {"WEB_CONCURRENCY": "2"}) == 2
    assert worker_count(EMBEDDED, {"WEB_CONCURRENCY": "3"}, requested=2) == 2
    assert worker_count(DATASTORE, {}, cgroup(tmp_path, "400000 100000"), requested=1) == 1
    with pytest.raises(SettingsError, match="--workers"):
        worker_count(EMBEDDED, {}, requested=0)


def test_several_processes_run_without_the_in_process_cache() -> None:
    environ: dict[str, str] = {}
    assert not uncached_for_workers(EMBEDDED, 1, environ)
    assert environ == {}
    assert uncached_for_workers(EMBEDDED, 2, environ)
    assert environ == {"TIMELINE_CACHE": "off"}  # what the worker processes inherit
    with pytest.raises(SettingsError, match="TIMELINE_CACHE=memory with 2 processes"):
        uncached_for_workers(EMBEDDED, 2, {"TIMELINE_CACHE": "memory"})
    uncached = Settings(store="sqlite", cache=CacheSettings(backend="off"))
    assert not uncached_for_workers(uncached, 2, {"TIMELINE_CACHE": "off"})


def test_web_concurrency_is_taken_as_given(tmp_path: Path) -> None:
    assert worker_count(DATASTORE, {"WEB_CONCURRENCY": "3"}, cgroup(tmp_path, "100000 100000")) == 3
    assert worker_count(ON_APP_ENGINE, {"WEB_CONCURRENCY": "2"}) == 2
    for bad in ("0", "-1", "two", "1.5"):
        with pytest.raises(SettingsError, match="WEB_CONCURRENCY"):
            worker_count(DATASTORE, {"WEB_CONCURRENCY": bad})


def test_app_engine_runs_one_process_whatever_the_host_reports(tmp_path: Path) -> None:
    assert worker_count(ON_APP_ENGINE, {}, cgroup(tmp_path, "max 100000")) == 1


@pytest.mark.parametrize(
    ("cpu_max", "expected"),
    [
        ("200000 100000", 2),  # a container limited to 2 CPUs
        ("150000 100000", 2),  # 1.5 CPUs: a second loop still gets half a CPU
        ("50000 100000", 1),  # half a CPU
    ],
)
def test_elsewhere_one_process_per_cpu_of_the_quota(
    tmp_path: Path, cpu_max: str, expected: int
) -> None:
    available = usable_cpus(cgroup(tmp_path / "none", None))
    assert worker_count(DATASTORE, {}, cgroup(tmp_path, cpu_max)) == min(expected, available)


def test_without_a_quota_every_usable_cpu(tmp_path: Path) -> None:
    (tmp_path / "none").mkdir()
    unlimited = usable_cpus(cgroup(tmp_path, "max 100000"))
    assert unlimited == usable_cpus(tmp_path / "none") >= 1


def test_the_header_deadline_is_a_setting() -> None:
    local = {"TIMELINE_ENV": "local"}
    assert load_settings({**local, "TIMELINE_HEADER_SECONDS": "2.5"}).web.header_seconds == 2.5
    with pytest.raises(SettingsError, match="HEADER_SECONDS must be positive"):
        load_settings({**local, "TIMELINE_HEADER_SECONDS": "0"})


def test_production_needs_to_know_its_project() -> None:
    # As on Cloud Run without GOOGLE_CLOUD_PROJECT: the Firebase project alone does
    # not say where the data is, and the local default project must never be used.
    hosted = {"K_SERVICE": "photo-timeline", "TIMELINE_SECRET_KEY": "s" * 40}
    with pytest.raises(SettingsError, match="GOOGLE_CLOUD_PROJECT"):
        load_settings({**hosted, "TIMELINE_FIREBASE_PROJECT": "apps-project"})
    settings = load_settings({**hosted, "GOOGLE_CLOUD_PROJECT": "photo-timeline-prod"})
    assert settings.datastore_project == "photo-timeline-prod"
