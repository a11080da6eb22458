"""The pull queue on Google Cloud: a Pub/Sub topic and one pull subscription.

    add     publish, with the tag and the name as message attributes
    lease   pull (max_messages = n), then modify_ack_deadline(seconds) on what is kept
    ack     acknowledge
    extend  modify_ack_deadline(seconds)
    release modify_ack_deadline(0): redelivered at once
    expiry  the ack deadline: an unacknowledged message is delivered again

Tags. Pub/Sub filters by attribute per subscription (`attributes.tag = "x"`), and a
message that does not match is acknowledged for that subscription at once, so a
server-side filter suits a subscription given over to one tag, never one that
leases by several. This adapter filters on the client instead: a leased message of
another tag is handed back at once (deadline 0). That also holds on the Pub/Sub
emulator, which accepts a subscription filter but ignores it (checked with the
Cloud SDK's emulator 0.8.20). A worker that leases by tag from a subscription busy
with other tags keeps pulling and handing back; give such a tag its own topic.

Names. Pub/Sub has no deduplication by name on publish: the name rides as an
attribute and `add_many` reports every task as new. Work on Pub/Sub must therefore
tolerate a task added twice, as it tolerates one delivered twice; the re-render job
does (tasks/rerender_photo.py skips a photo already at the current version).
Attempts are counted (`delivery_attempt`) only under a dead-letter policy; without
one `Leased.attempt` is 0.

The client is synchronous (gRPC); each call runs in a thread, so the event loop
keeps serving. PUBSUB_EMULATOR_HOST, read by the client library, points it at the
emulator.
"""

from __future__ import annotations

import asyncio
import contextlib
import math
import secrets
from collections.abc import Sequence
from typing import Any

from google.api_core import exceptions
from google.cloud.pubsub_v1 import PublisherClient, SubscriberClient

from taskqueue.pull.port import Leased, PullTask, check_lease

TAG = "tag"
NAME = "name"
# How long a pull waits for messages when there are none (the emulator answers 1 s early).
PULL_TIMEOUT_SECONDS = 2.0
# A pull may answer with fewer messages than there are: a lease pulls again, a few times.
PULLS_PER_LEASE = 3
SUBSCRIPTION_ACK_DEADLINE = 60  # until a lease sets its own; Pub/Sub allows 10 to 600
_MAX_IDS_PER_CALL = (
    1000  # ack and modify calls; each id is ~200 bytes, under the 512 KB request cap
)


class PubSubPullQueue:
    def __init__(
        self,
        project: str,
        topic: str,
        subscription: str,
        *,
        publisher: PublisherClient | None = None,
        subscriber: SubscriberClient | None = None,
    ) -> None:
        self._publisher = publisher or PublisherClient()
        self._subscriber = subscriber or SubscriberClient()
        self.topic = self._publisher.topic_path(project, topic)
        self.subscription = self._subscriber.subscription_path(project, subscription)

    async def ensure(self) -> None:
        """Create the topic and the subscription when missing (locally, and on a
        project's first run; a deploy may create them itself)."""

        def create() -> None:
            with contextlib.suppress(exceptions.AlreadyExists):
                self._publisher.create_topic(name=self.topic)
            with contextlib.suppress(exceptions.AlreadyExists):
                self._subscriber.create_subscription(
                    request={
                        "name": self.subscription,
                        "topic": self.topic,
                        "ack_deadline_seconds": SUBSCRIPTION_ACK_DEADLINE,
                    }
                )

        await asyncio.to_thread(create)

    async def add_many(self, tasks: Sequence[PullTask]) -> int:
        futures = [
            self._publisher.publish(
                self.topic,
                task.payload,
                **{TAG: task.tag, NAME: task.name or f"auto-{secrets.token_hex(12)}"},
            )
            for task in tasks
        ]
        await asyncio.gather(*(asyncio.wrap_future(future) for future in futures))
        return len(futures)

    async def lease(self, n: int, seconds: float, tag: str | None = None) -> list[Leased]:
        check_lease(n, seconds)
        return await asyncio.to_thread(self._lease, n, math.ceil(seconds), tag)

    def _lease(self, n: int, seconds: int, tag: str | None) -> list[Leased]:
        kept: list[Leased] = []
        for _ in range(PULLS_PER_LEASE):
            received = self._pull(n - len(kept))
            if not received:
                break
            others = [m.ack_id for m in received if tag is not None and _tag(m) != tag]
            mine = [m for m in received if tag is None or _tag(m) == tag]
            self._modify([m.ack_id for m in mine], seconds)
            self._modify(others, 0)
            kept += [_leased(m) for m in mine]
            if len(kept) >= n:
                break
        return kept

    def _pull(self, n: int) -> list[Any]:
        try:
            response = self._subscriber.pull(
                request={"subscription": self.subscription, "max_messages": n},
                timeout=PULL_TIMEOUT_SECONDS,
            )
        except exceptions.DeadlineExceeded:
            return []
        return list(response.received_messages)

    def _modify(self, ack_ids: Sequence[str], seconds: int) -> None:
        for chunk in _chunks(ack_ids):
            self._subscriber.modify_ack_deadline(
                request={
                    "subscription": self.subscription,
                    "ack_ids": chunk,
                    "ack_deadline_seconds": seconds,
                }
            )

    async def ack(self, leased: Sequence[Leased]) -> None:
        def acknowledge() -> None:
            for chunk in _chunks([task.lease_id for task in leased]):
                self._subscriber.acknowledge(
                    request={"subscription": self.subscription, "ack_ids": chunk}
                )

        await asyncio.to_thread(acknowledge)

    async def extend(self, leased: Sequence[Leased], seconds: float) -> None:
        check_lease(1, seconds)
        ids = [task.lease_id for task in leased]
        await asyncio.to_thread(self._modify, ids, math.ceil(seconds))

    async def release(self, leased: Sequence[Leased]) -> None:
        await asyncio.to_thread(self._modify, [task.lease_id for task in leased], 0)

    async def pending(self, tag: str | None = None) -> int | None:
        return None  # Cloud Monitoring's num_undelivered_messages, minutes late: not worth a call

    async def close(self) -> None:
        await asyncio.to_thread(self._close)

    def _close(self) -> None:
        self._publisher.stop()
        self._subscriber.close()


def _tag(message: Any) -> str:
    return str(message.message.attributes.get(TAG, ""))


def _leased(message: Any) -> Leased:
    attributes = message.message.attributes
    return Leased(
        name=str(attributes.get(NAME, message.message.message_id)),
        tag=str(attributes.get(TAG, "")),
        payload=bytes(message.message.data),
        attempt=int(message.delivery_attempt or 0),
        lease_id=str(message.ack_id),
    )


def _chunks(ids: Sequence[str]) -> list[list[str]]:
    return [list(ids[i : i + _MAX_IDS_PER_CALL]) for i in range(0, len(ids), _MAX_IDS_PER_CALL)]
