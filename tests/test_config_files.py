"""The deployable YAML files, read by the Google Cloud SDK's own loaders, and
cron.yaml's schedules against Google's reference parser.

Under CI=true a missing SDK fails these tests; elsewhere they are skipped, visibly
(tests/gcloud_sdk.py).
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
import pytz
from hypothesis import given, settings
from hypothesis import strategies as st

from cron.config import PROJECT_CRON_YAML, load_cron_yaml
from taskqueue.config import PROJECT_QUEUE_YAML, load_queue_yaml
from tests.gcloud_sdk import load_sdk_module
from tests.utils import schedule_oracle

ROOT = PROJECT_CRON_YAML.parent
CRON_ENTRIES = load_cron_yaml()


@pytest.fixture(scope="module")
def croninfo(groc: ModuleType) -> Iterator[ModuleType]:
    module = load_sdk_module("googlecloudsdk.appengine.api.croninfo")
    with pytest.MonkeyPatch.context() as patch:
        # On Python 3 the SDK's loader skips checking schedules (its groc is marked
        # "py2-only") and time zones (pytz = None). Handing it both, as on Python 2,
        # makes it refuse what `gcloud app deploy` would.
        patch.setattr(module, "groc", groc.groc)
        patch.setattr(module, "groctimespecification", groc)
        patch.setattr(module, "pytz", pytz)
        yield module


def test_cron_yaml_loads_with_the_sdk_and_reads_the_same_to_us(croninfo: ModuleType) -> None:
    parsed: Any = croninfo.LoadSingleCron(PROJECT_CRON_YAML.read_text())
    assert [job.url for job in parsed.cron] == [entry.url for entry in CRON_ENTRIES]
    for job, ours in zip(parsed.cron, CRON_ENTRIES, strict=True):
        assert job.schedule == ours.schedule.text
        assert str(pytz.timezone(job.timezone or "UTC")) == ours.schedule.zone.key
        retry = job.retry_parameters
        if retry is None:
            assert ours.retry.task_retry_limit == 0
            continue
        assert (retry.job_retry_limit or 0) == ours.retry.task_retry_limit
        assert retry.max_doublings in (None, ours.retry.max_doublings)
        for given_value, used in (
            (retry.min_backoff_seconds, ours.retry.min_backoff_seconds),
            (retry.max_backoff_seconds, ours.retry.max_backoff_seconds),
        ):
            assert given_value in (None, used)
        if retry.job_age_limit is not None:
            assert ours.retry.task_age_limit is not None


@pytest.mark.parametrize(
    ("entry", "message"),
    [
        ("schedule: every 2 hrs", "failed to parse"),
        ("schedule: every day 09:00\n  timezone: Mars/Olympus_Mons", "is unknown"),
        ("schedule: every day 09:00\n  colour: blue", "Unexpected attribute 'colour'"),
    ],
)
def test_the_sdk_loader_refuses_what_a_deploy_would(
    croninfo: ModuleType, entry: str, message: str
) -> None:
    # Shows the checks above are live, not skipped as they are on Python 3 by default.
    yaml_errors = load_sdk_module("googlecloudsdk.appengine.api.yaml_errors")
    with pytest.raises(yaml_errors.EventError, match=message):
        croninfo.LoadSingleCron(f"cron:\n- url: /_internal/cron/x\n  {entry}\n")


def test_queue_yaml_loads_with_the_sdk_and_reads_the_same_to_us() -> None:
    queueinfo = load_sdk_module("googlecloudsdk.appengine.api.queueinfo")
    parsed: Any = queueinfo.LoadSingleQueue(PROJECT_QUEUE_YAML.read_text())
    ours = load_queue_yaml()
    for queue in parsed.queue:
        config = ours[queue.name]
        assert queueinfo.ParseRate(queue.rate) == config.rate_per_second
        assert queue.bucket_size == config.bucket_size
        assert queue.max_concurrent_requests == config.max_concurrent_requests
        retry = queue.retry_parameters
        assert retry.task_retry_limit == config.retry.task_retry_limit
        assert (
            queueinfo.ParseTaskAgeLimit(retry.task_age_limit)
            == (config.retry.task_age_limit or timedelta(0)).total_seconds()
        )
        assert retry.min_backoff_seconds == config.retry.min_backoff_seconds
        assert retry.max_backoff_seconds == config.retry.max_backoff_seconds
        assert retry.max_doublings == config.retry.max_doublings


def test_app_yaml_loads_with_the_sdk_including_secret_yaml(tmp_path: Path) -> None:
    # app.yaml says `includes: [secret.yaml]`, a file that is never committed. The
    # SDK resolves includes beside app.yaml and merges their env_variables, so
    # secret.yaml.example is put there under that name, as the README tells a deployer.
    appinfo_includes = load_sdk_module("googlecloudsdk.appengine.api.appinfo_includes")
    shutil.copy(ROOT / "app.yaml", tmp_path / "app.yaml")
    with (
        (tmp_path / "app.yaml").open() as app_yaml,
        pytest.raises(appinfo_includes.IncludeFileNotFound),
    ):
        appinfo_includes.Parse(app_yaml)  # a deploy without secret.yaml stops here
    shutil.copy(ROOT / "secret.yaml.example", tmp_path / "secret.yaml")
    with (tmp_path / "app.yaml").open() as app_yaml:
        parsed: Any = appinfo_includes.Parse(app_yaml)
    assert parsed.runtime == "python311"
    assert "python -m serve" in parsed.entrypoint  # the SDK prefixes `exec `
    assert parsed.env_variables["TIMELINE_STORE"] == "datastore"
    assert "TIMELINE_SECRET_KEY" in parsed.env_variables


@pytest.mark.parametrize("path", [ROOT / "index.yaml", ROOT / "tests" / "index.yaml"])
def test_index_yaml_loads_with_the_sdk(path: Path) -> None:
    datastore_index = load_sdk_module("googlecloudsdk.appengine.datastore.datastore_index")
    parsed: Any = datastore_index.ParseIndexDefinitions(path.read_text())
    assert parsed.indexes, f"{path} defines no index"
    keys = datastore_index.IndexDefinitionsToKeys(parsed)
    assert len(keys) == len(parsed.indexes), f"{path} defines an index twice"
    for index in parsed.indexes:
        assert index.kind
        assert index.properties, f"an index of {index.kind} names no property"


# cron.yaml's schedules against Google's parser, from start times around the year
# and around its zone's clock changes; test_schedule.py covers the grammar at large.

START_TIMES = st.datetimes(
    datetime(1971, 1, 1), datetime(2036, 12, 31), timezones=st.just(UTC)
) | st.sampled_from(
    [
        datetime(2024, month, day, hour, tzinfo=UTC)
        for month, day in ((3, 31), (10, 27))
        for hour in (0, 1, 2)
    ]
)


@pytest.mark.parametrize("entry", CRON_ENTRIES, ids=[entry.job for entry in CRON_ENTRIES])
@settings(max_examples=100, deadline=None, database=None)
@given(start=START_TIMES)
def test_cron_yaml_schedules_run_when_googles_would(
    groc: ModuleType, entry: Any, start: datetime
) -> None:
    schedule_oracle.assert_same_as_google(groc, entry.schedule.text, entry.schedule.zone.key, start)
