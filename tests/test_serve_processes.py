"""How many server processes serve.py runs and where it listens, and the settings it
reads for them."""

from __future__ import annotations

import gc
import re
from dataclasses import replace
from pathlib import Path

import pytest

import serve
from collector import YOUNG_COLLECTION_AFTER, FrozenSurvivors
from serve import listen_address, uncached_for_workers, usable_cpus, worker_count
from settings import CacheSettings, Settings, SettingsError, load_settings

DATASTORE = Settings(store="datastore", environment="production")
ON_APP_ENGINE = Settings(store="datastore", environment="production", app_engine=True)
EMBEDDED = Settings(store="sqlite")


def concurrency(settings: Settings, processes: int) -> Settings:
    """`settings` as WEB_CONCURRENCY=`processes` gives them."""
    return replace(settings, web=replace(settings.web, processes=processes))


def cgroup(tmp_path: Path, cpu_max: str | None) -> Path:
    if cpu_max is not None:
        (tmp_path / "cpu.max").write_text(cpu_max + "\n")
    return tmp_path


def test_the_embedded_store_runs_one_process_unless_asked_for_more(tmp_path: Path) -> None:
    assert worker_count(EMBEDDED, cgroup(tmp_path, "400000 100000")) == 1
    assert worker_count(concurrency(EMBEDDED, 2)) == 2
    assert worker_count(concurrency(EMBEDDED, 3), requested=2) == 2
    assert worker_count(DATASTORE, cgroup(tmp_path, "400000 100000"), requested=1) == 1
    with pytest.raises(SettingsError, match="--workers"):
        worker_count(EMBEDDED, requested=0)


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
    local = {"TIMELINE_ENV": "local"}
    assert load_settings({**local, "WEB_CONCURRENCY": "3"}).web.processes == 3
    assert load_settings({**local, "WEB_CONCURRENCY": ""}).web.processes is None
    assert worker_count(concurrency(DATASTORE, 3), cgroup(tmp_path, "100000 100000")) == 3
    assert worker_count(concurrency(ON_APP_ENGINE, 2)) == 2
    for bad in ("0", "-1", "two", "1.5"):
        with pytest.raises(SettingsError, match="WEB_CONCURRENCY"):
            load_settings({**local, "WEB_CONCURRENCY": bad})


def test_app_engine_runs_one_process_whatever_the_host_reports(tmp_path: Path) -> None:
    assert worker_count(ON_APP_ENGINE, cgroup(tmp_path, "max 100000")) == 1


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
    assert worker_count(DATASTORE, cgroup(tmp_path, cpu_max)) == min(expected, available)


def test_without_a_quota_every_usable_cpu(tmp_path: Path) -> None:
    (tmp_path / "none").mkdir()
    unlimited = usable_cpus(cgroup(tmp_path, "max 100000"))
    assert unlimited == usable_cpus(tmp_path / "none") >= 1


def test_the_header_deadline_is_a_setting() -> None:
    local = {"TIMELINE_ENV": "local"}
    assert load_settings({**local, "TIMELINE_HEADER_SECONDS": "2.5"}).web.header_seconds == 2.5
    with pytest.raises(SettingsError, match="HEADER_SECONDS must be positive"):
        load_settings({**local, "TIMELINE_HEADER_SECONDS": "0"})


def test_the_proxies_believed_are_a_setting() -> None:
    local = {"TIMELINE_ENV": "local"}
    assert load_settings(local).web.forwarded_allow_ips == ("127.0.0.1",)
    assert load_settings({**local, "FORWARDED_ALLOW_IPS": "*"}).web.forwarded_allow_ips == ("*",)
    several = load_settings({**local, "FORWARDED_ALLOW_IPS": "10.0.0.0/8, ::1,127.0.0.1"})
    assert several.web.forwarded_allow_ips == ("10.0.0.0/8", "::1", "127.0.0.1")
    # Each of these uvicorn would keep as a literal that no peer's address equals.
    for bad in ("10.0.0.1/8", "proxy.internal", "*, 10.0.0.1", " , "):
        refused = f"FORWARDED_ALLOW_IPS must be .*, not {re.escape(repr(bad))}"
        with pytest.raises(SettingsError, match=refused):
            load_settings({**local, "FORWARDED_ALLOW_IPS": bad})


def test_a_bad_forwarded_allow_ips_option_stops_the_server_in_one_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("TIMELINE_ENV", "local")
    monkeypatch.setenv("TIMELINE_VAR_DIR", str(tmp_path))
    monkeypatch.setenv("FORWARDED_ALLOW_IPS", "*")  # the option overrides it (and is undone)
    with pytest.raises(SystemExit) as stopped:
        serve.main(["--forwarded-allow-ips", "10.0.0.1/8"])
    assert stopped.value.code == 2
    refusal = "FORWARDED_ALLOW_IPS must be '*' or comma-separated IP addresses and networks"
    assert capsys.readouterr().err == f"cannot start: {refusal} (10.0.0.0/8), not '10.0.0.1/8'\n"


def test_production_needs_to_know_its_project() -> None:
    # As on Cloud Run without GOOGLE_CLOUD_PROJECT: the Firebase project alone does
    # not say where the data is, and the local default project must never be used.
    hosted = {"K_SERVICE": "photo-timeline", "TIMELINE_SECRET_KEY": "s" * 40}
    with pytest.raises(SettingsError, match="GOOGLE_CLOUD_PROJECT"):
        load_settings({**hosted, "TIMELINE_FIREBASE_PROJECT": "apps-project"})
    settings = load_settings({**hosted, "GOOGLE_CLOUD_PROJECT": "photo-timeline-prod"})
    assert settings.datastore_project == "photo-timeline-prod"


def test_the_server_listens_where_the_options_else_host_and_port_say() -> None:
    local = {"TIMELINE_ENV": "local"}
    default = load_settings(local)
    assert listen_address(default, None, None) == ("127.0.0.1", 8080)
    platform = load_settings({**local, "HOST": "0.0.0.0", "PORT": "8081"})  # App Engine's PORT
    assert listen_address(platform, None, None) == ("0.0.0.0", 8081)
    assert listen_address(platform, "127.0.0.1", 9000) == ("127.0.0.1", 9000)
    assert listen_address(platform, None, 0) == ("0.0.0.0", 0)  # --port 0: any free port


@pytest.mark.parametrize(
    ("name", "value", "refusal"),
    [
        ("PORT", "http", "PORT must be a whole number, not 'http'"),
        ("PORT", "70000", "PORT must be 1 to 65535, not '70000'"),
        (
            "HOST",
            "0.0.0.0:8080",
            "HOST must be an IP address or a host name, without scheme or port, not '0.0.0.0:8080'",
        ),
        ("WEB_CONCURRENCY", "0", "WEB_CONCURRENCY must be positive, not '0'"),
    ],
)
def test_a_bad_host_port_or_process_count_stops_the_server_in_one_line(
    name: str,
    value: str,
    refusal: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("TIMELINE_ENV", "local")
    monkeypatch.setenv("TIMELINE_VAR_DIR", str(tmp_path))
    monkeypatch.setenv(name, value)
    with pytest.raises(SystemExit) as stopped:
        serve.main([])
    assert stopped.value.code == 2
    assert capsys.readouterr().err == f"cannot start: {refusal}\n"


def test_a_worker_keeps_what_lives_long_out_of_full_collections(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """What the app and the in-process cache keep, a full collection walks no
    more (collector.py): a worker freezes it at start and after each full
    collection, and collects its oldest generation ten times less often, and
    its youngest too (requests leave next to no cycles for it)."""
    monkeypatch.setenv("TIMELINE_ENV", "local")
    monkeypatch.setenv("TIMELINE_VAR_DIR", str(tmp_path))
    threshold = gc.get_threshold()
    callbacks = list(gc.callbacks)
    try:
        app = serve.worker_app()
        assert gc.get_threshold() == (YOUNG_COLLECTION_AFTER, threshold[1], 100)
        assert not any(tracked is app for tracked in gc.get_objects())
        (policy,) = [added for added in gc.callbacks if added not in callbacks]
        assert isinstance(policy, FrozenSurvivors)
    finally:
        gc.callbacks[:] = callbacks
        gc.unfreeze()
        gc.set_threshold(*threshold)
