"""Choosing the pull queue's adapter from settings (for the workers and tools that
use one; the app itself leases nothing)."""

from __future__ import annotations

from settings import Settings
from store.sqlite_db import SQLiteDatabase
from taskqueue.pull.port import PullQueue


async def pull_queue_from_settings(settings: Settings, database: SQLiteDatabase) -> PullQueue:
    config = settings.pull_queue
    if config.backend == "pubsub":
        from taskqueue.pull.pubsub import PubSubPullQueue

        queue = PubSubPullQueue(
            config.pubsub_project, config.pubsub_topic, config.pubsub_subscription
        )
        await queue.ensure()
        return queue
    from taskqueue.pull.embedded import EmbeddedPullQueue

    return EmbeddedPullQueue(database)
