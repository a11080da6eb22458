"""Backpressure: while the embedded queue's workers are too far behind, a mutation
answers only once they are back under the limit (taskqueue/embedded/backlog.py),
so a sustained load cannot build a backlog that grows for as long as it lasts.
Counted in tasks waiting, never in milliseconds."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.test_cron_admin import bearer
from tests.test_social import FOLLOW, mutate, uid
from tests.utils.builders import make_user
from tests.utils.tasks_app import eventually, running_app

# A default queue that runs 20 tasks a second, one at a time.
SLOW_QUEUE_YAML = """
queue:
- name: default
  rate: 20/s
  bucket_size: 1
- name: push
  rate: 500/s
  bucket_size: 500
"""
LIMIT = 10
BEHIND = 40  # due tasks enqueued at once: two seconds of this queue's work

pytestmark = pytest.mark.slow  # the queue drains for about a second and a half


async def test_a_mutation_answers_once_the_workers_are_back_under_the_limit(
    tmp_path: Path,
) -> None:
    async with running_app(tmp_path, SLOW_QUEUE_YAML, cron_scheduler=False) as harness:
        assert harness.runtime.workers is not None
        backlog = harness.runtime.workers.backlog
        backlog.limit = LIMIT
        for n in range(BEHIND):
            await harness.tasks.enqueue("test_noop", {}, name=f"behind-{n}")

        async def behind() -> bool:
            return backlog.over

        await eventually(behind, what="the workers to count the backlog")
        alice = await make_user(harness.store, "alice")
        bob = await make_user(harness.store, "bob")
        followed = await mutate(harness.http, FOLLOW, bearer(tmp_path, bob.id), userId=uid(alice))
        assert followed["errors"] == []
        # Answered after the workers had counted no more than LIMIT waiting.
        assert backlog.waiting <= LIMIT
        assert not backlog.over


async def test_no_mutation_waits_while_the_workers_keep_up(tmp_path: Path) -> None:
    async with running_app(tmp_path, SLOW_QUEUE_YAML, cron_scheduler=False) as harness:
        assert harness.runtime.workers is not None
        backlog = harness.runtime.workers.backlog
        alice = await make_user(harness.store, "alice")
        bob = await make_user(harness.store, "bob")
        followed = await mutate(harness.http, FOLLOW, bearer(tmp_path, bob.id), userId=uid(alice))
        assert followed["errors"] == []
        assert backlog.waiting == 0
