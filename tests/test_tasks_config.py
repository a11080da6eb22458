"""queue.yaml parsing, Cloud Tasks' backoff schedule, and the token bucket."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
import yaml
from hypothesis import given
from hypothesis import strategies as st

from taskqueue.backoff import RetryPolicy
from taskqueue.config import PROJECT_QUEUE_YAML, load_queue_yaml, parse_queue_yaml
from taskqueue.errors import QueueConfigError
from taskqueue.rate import TokenBucket

policies = st.builds(
    RetryPolicy,
    min_backoff_seconds=st.floats(0, 100, allow_nan=False),
    max_backoff_seconds=st.floats(100, 10_000, allow_nan=False),
    max_doublings=st.integers(0, 40),
)


def test_the_documented_example() -> None:
    # https://cloud.google.com/tasks/docs/reference/rest/v2/projects.locations.queues#retryconfig
    policy = RetryPolicy(min_backoff_seconds=10, max_backoff_seconds=300, max_doublings=3)
    assert [policy.backoff(n) for n in range(1, 10)] == [10, 20, 40, 80, 160, 240, 300, 300, 300]


@given(policies, st.integers(1, 10_000))
def test_backoff_never_shrinks_and_stays_within_bounds(policy: RetryPolicy, retry: int) -> None:
    wait = policy.backoff(retry)
    assert policy.backoff(retry + 1) >= wait
    assert min(policy.min_backoff_seconds, policy.max_backoff_seconds) <= wait
    assert wait <= policy.max_backoff_seconds


@given(policies, st.integers(1, 200))
def test_backoff_doubles_then_grows_linearly(policy: RetryPolicy, retry: int) -> None:
    cap, first = policy.max_backoff_seconds, policy.min_backoff_seconds
    doublings = policy.max_doublings
    if retry <= doublings + 1:
        expected = first * 2 ** (retry - 1)
    else:
        expected = first * 2**doublings * (retry - doublings)
    assert policy.backoff(retry) == pytest.approx(min(expected, cap))


def test_retry_limits_stop_a_task_when_all_given_limits_are_spent() -> None:
    by_count = RetryPolicy(task_retry_limit=2)
    assert not by_count.gives_up(1, timedelta(days=9))
    assert by_count.gives_up(2, timedelta(0))
    by_age = RetryPolicy(task_age_limit=timedelta(hours=1))
    assert not by_age.gives_up(100, timedelta(minutes=59))
    assert by_age.gives_up(0, timedelta(hours=1))
    both = RetryPolicy(task_retry_limit=2, task_age_limit=timedelta(hours=1))
    assert not both.gives_up(5, timedelta(minutes=1)), "age not spent yet"
    assert not both.gives_up(1, timedelta(hours=2)), "retries not spent yet"
    assert both.gives_up(2, timedelta(hours=1))
    assert not RetryPolicy().gives_up(10_000, timedelta(days=30)), "no limits: retry for ever"


def test_the_project_queue_yaml_loads() -> None:
    queues = load_queue_yaml(PROJECT_QUEUE_YAML)
    default = queues["default"]
    assert default.rate_per_second == 500
    assert default.retry.task_retry_limit == 10
    assert default.retry.task_age_limit == timedelta(days=1)


def test_queue_yaml_in_app_engine_format() -> None:
    queues = parse_queue_yaml(
        yaml.safe_load(
            """
            queue:
            - name: mail
              rate: 30/m
              bucket_size: 10
              max_concurrent_requests: 4
              retry_parameters:
                task_retry_limit: 3
                task_age_limit: 2h
                min_backoff_seconds: 0.5
                max_backoff_seconds: 60
                max_doublings: 2
            """
        )
    )
    mail = queues["mail"]
    assert (mail.rate_per_second, mail.bucket_size, mail.max_concurrent_requests) == (0.5, 10, 4)
    assert mail.retry == RetryPolicy(3, timedelta(hours=2), 0.5, 60, 2)
    assert queues["default"].rate_per_second == 5, "App Engine's implicit default queue"


@pytest.mark.parametrize(
    ("entry", "message"),
    [
        ({"rate": "5/s"}, "needs a name"),
        ({"name": "q", "rate": "fast"}, "rate must look like"),
        ({"name": "q", "rate": "501/s"}, "at most 500"),
        ({"name": "q", "bucket_size": 501}, "at most 500"),
        ({"name": "q", "mode": "pull"}, "only push queues"),
        ({"name": "q", "retries": 3}, "unsupported settings"),
        ({"name": "q", "retry_parameters": {"task_age_limit": "soon"}}, "task_age_limit"),
        ({"name": "q", "retry_parameters": {"max_doublings": -1}}, "max_doublings"),
        (
            {"name": "q", "retry_parameters": {"min_backoff_seconds": 9, "max_backoff_seconds": 1}},
            "exceeds",
        ),
        ({"name": "bad name!"}, "letters, digits"),
    ],
)
def test_malformed_queue_yaml_is_refused_with_a_reason(
    entry: dict[str, object], message: str
) -> None:
    with pytest.raises(QueueConfigError, match=message):
        parse_queue_yaml({"queue": [entry]})


def test_an_unreadable_queue_yaml_names_the_file(tmp_path: Path) -> None:
    with pytest.raises(QueueConfigError, match="cannot read"):
        load_queue_yaml(tmp_path / "missing.yaml")
    (tmp_path / "twice.yaml").write_text("queue:\n- name: a\n- name: a\n")
    with pytest.raises(QueueConfigError, match="defined twice"):
        load_queue_yaml(tmp_path / "twice.yaml")


@given(
    st.floats(0.5, 1000),
    st.integers(1, 500),
    st.lists(st.tuples(st.floats(0, 2), st.integers(1, 600)), max_size=50),
)
def test_a_token_bucket_never_lets_more_through_than_burst_plus_rate(
    rate: float, capacity: int, steps: list[tuple[float, int]]
) -> None:
    now = [0.0]
    bucket = TokenBucket(rate, capacity, clock=lambda: now[0])
    taken = 0
    for wait, want in steps:
        now[0] += wait
        got = bucket.try_take(want)
        assert 0 <= got <= want
        taken += got
    assert taken <= capacity + rate * now[0] + 1e-6
