"""The FCM HTTP v1 adapter against a local stub that checks every request: the
OAuth token exchange, the message's shape per platform, and what each answer
means. Then the same adapter wired into the app, on both stores: dead tokens are
removed and busy answers make the push task retry."""

from __future__ import annotations

import asyncio
import socket
import threading
from contextlib import AbstractAsyncContextManager
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest

from clock import system_clock
from push.fcm import PUSH_THREADS, FcmPush, retry_after
from push.port import PushMessage
from push.wiring import push_from_settings
from settings import PushSettings, Settings, TaskSettings
from store.errors import StoreError
from store.notification_models import first_item_key, notification_from_entity
from store.port import Store, Transaction
from taskqueue.context import TaskInfo
from tasks.push_delivery import CLAIM_LIFETIME, PushRetry
from tasks.push_notifications import notification_version
from tasks.push_notifications import push as push_task
from tests.test_social import FOLLOW, mutate, uid
from tests.test_uploads_atomicity import FlakyCommits
from tests.utils.accounts import bearer
from tests.utils.builders import make_user
from tests.utils.contexts import app_task_context
from tests.utils.devices import device_token, devices_of, post_task, register
from tests.utils.draining import app_of, drain
from tests.utils.fcm_stub import (
    Answer,
    FcmStub,
    bad_payload,
    busy,
    held,
    invalid_token,
    unregistered,
)
from tests.utils.tasks_app import eventually

MESSAGE = PushMessage("Photo Timeline", "alice liked your photo", {"kind": "LIKE"}, "c0ffee")
# The default queue, retrying at once: the retry is what is tested, not the wait.
FAST_RETRIES = """
queue:
- name: default
  rate: 500/s
  bucket_size: 500
  retry_parameters:
    task_retry_limit: 5
    min_backoff_seconds: 0.05
    max_backoff_seconds: 0.1
- name: push
  rate: 500/s
  bucket_size: 500
  retry_parameters:
    task_retry_limit: 5
    min_backoff_seconds: 0.05
    max_backoff_seconds: 0.1
"""


@pytest.fixture
def sender(fcm: FcmStub) -> FcmPush:
    return FcmPush(fcm.project, clock=system_clock, credentials=fcm.credentials(), endpoint=fcm.url)


async def test_each_platform_gets_a_well_formed_message_with_one_access_token(
    fcm: FcmStub, sender: FcmPush
) -> None:
    for platform in ("IOS", "ANDROID", "WEB"):
        result = await sender.send(device_token(platform), platform, MESSAGE)
        assert result.status == "delivered", result
    await sender.close()
    assert fcm.token_requests == 1
    ios, android, web = (
        fcm.sent_to(device_token(p))[0].message["message"] for p in ("IOS", "ANDROID", "WEB")
    )
    assert ios["notification"] == {"title": "Photo Timeline", "body": "alice liked your photo"}
    assert ios["data"] == {"kind": "LIKE"}
    assert ios["apns"]["headers"]["apns-collapse-id"] == "c0ffee"
    assert ios["apns"]["payload"] == {"aps": {"sound": "default"}}
    assert android["android"] == {
        "priority": "HIGH",
        "ttl": "86400s",
        "collapse_key": "c0ffee",
        "notification": {"tag": "c0ffee"},
    }
    assert web["webpush"]["notification"] == {"tag": "c0ffee"}
    assert not {"apns", "webpush"} & set(android)


@pytest.mark.parametrize(
    ("answer", "status", "wait"),
    [
        (unregistered(), "unregistered", None),
        (invalid_token(), "unregistered", None),
        (bad_payload(), "rejected", None),
        (busy(503, "7"), "retry", 7.0),
        (busy(429, "2"), "retry", 2.0),
        (busy(503, None), "retry", None),
        (Answer(500, {"error": {"code": 500, "status": "INTERNAL"}}), "retry", None),
        (Answer(403, {"error": {"code": 403, "status": "PERMISSION_DENIED"}}), "rejected", None),
    ],
    ids=["unregistered", "invalid-token", "bad-payload", "503", "429", "503-no-wait", "500", "403"],
)
async def test_answers_mean_what_fcm_documents(
    fcm: FcmStub, sender: FcmPush, answer: Answer, status: str, wait: float | None
) -> None:
    token = device_token("scenario")
    fcm.answer(token, answer)
    result = await sender.send(token, "ANDROID", MESSAGE)
    assert (result.status, result.retry_after) == (status, wait), result.detail
    assert (await sender.send(token, "ANDROID", MESSAGE)).status == "delivered"
    await sender.close()


async def test_a_revoked_access_token_is_replaced_once(fcm: FcmStub, sender: FcmPush) -> None:
    assert (await sender.send(device_token("a"), "IOS", MESSAGE)).status == "delivered"
    fcm.revoke_access_tokens()
    assert (await sender.send(device_token("b"), "IOS", MESSAGE)).status == "delivered"
    assert fcm.token_requests == 2
    await sender.close()


async def test_sends_fcm_holds_leave_the_default_executor_free(
    fcm: FcmStub, sender: FcmPush
) -> None:
    # More sends in flight than asyncio's default executor has threads (at most 32):
    # they wait on the push pool, and the calls that share the default executor
    # (Datastore, Cloud Storage, certificate fetches) go on.
    release = threading.Event()
    tokens = [device_token(f"held{n}") for n in range(40)]
    for token in tokens:
        fcm.answer(token, held(release))
    sends = [asyncio.create_task(sender.send(token, "ANDROID", MESSAGE)) for token in tokens]
    try:

        async def pool_full() -> bool:
            return sum(1 for token in tokens if fcm.sent_to(token)) >= PUSH_THREADS

        await eventually(pool_full, what="the push pool to fill")
        async with asyncio.timeout(10):  # only so that a regression fails, not hangs
            free = await asyncio.to_thread(lambda: "free")
        in_flight = sum(1 for token in tokens if fcm.sent_to(token))
    finally:
        release.set()
    results = await asyncio.gather(*sends)
    await sender.close()
    assert free == "free"
    assert in_flight == PUSH_THREADS
    assert {result.status for result in results} == {"delivered"}


async def test_no_answer_means_retry(fcm: FcmStub) -> None:
    with socket.socket() as unused:
        unused.bind(("127.0.0.1", 0))
        port = unused.getsockname()[1]
    sender = FcmPush(
        fcm.project,
        clock=system_clock,
        credentials=fcm.credentials(),
        endpoint=f"http://127.0.0.1:{port}",
    )
    result = await sender.send(device_token("x"), "IOS", MESSAGE)
    assert result.status == "retry"
    assert "no answer" in result.detail
    await sender.close()


def test_retry_after_is_seconds_or_an_http_date() -> None:
    now = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)
    assert retry_after("30", now=now) == 30.0
    assert retry_after("Mon, 01 Jun 2026 12:01:30 GMT", now=now) == 90.0
    assert retry_after("Mon, 01 Jun 2026 11:00:00 GMT", now=now) == 0.0
    assert retry_after("soon", now=now) is None
    assert retry_after(None, now=now) is None


async def test_a_retry_after_date_counts_from_the_app_s_clock(
    fcm: FcmStub, settings: Settings
) -> None:
    now = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)
    sender = push_from_settings(settings, clock=lambda: now)  # as create_app wires it
    token = device_token("dated")
    fcm.answer(token, busy(503, "Mon, 01 Jun 2026 12:01:30 GMT"))
    result = await sender.send(token, "ANDROID", MESSAGE)
    await sender.close()
    assert (result.status, result.retry_after) == ("retry", 90.0), result.detail


@pytest.fixture
def settings(tmp_path: Path, fcm: FcmStub) -> Settings:
    """The app with TIMELINE_PUSH=fcm, its endpoint and service account pointing at the stub."""
    (tmp_path / "queue.yaml").write_text(FAST_RETRIES)
    return Settings(
        var_dir=tmp_path,
        sqlite_path=tmp_path / "timeline.db",
        secret_key=b"test-secret-" * 4,
        tasks=TaskSettings(queue_yaml=tmp_path / "queue.yaml"),
        push=PushSettings(
            backend="fcm",
            fcm_project=fcm.project,
            fcm_endpoint=fcm.url,
            fcm_credentials=fcm.write_service_account(tmp_path / "service-account.json"),
        ),
    )


async def test_through_the_queue_dead_tokens_go_and_busy_ones_retry(
    client: httpx.AsyncClient, settings: Settings, store: Store, fcm: FcmStub
) -> None:
    alice, bob = await make_user(store, "alice"), await make_user(store, "bob")
    as_bob = bearer(settings, bob.id)
    fine, dead, wrong, busy_one = (device_token(n) for n in ("fine", "dead", "wrong", "busy"))
    for token, platform in ((fine, "IOS"), (dead, "ANDROID"), (wrong, "WEB"), (busy_one, "IOS")):
        await register(client, as_bob, token, platform)
    fcm.answer(dead, unregistered())
    fcm.answer(wrong, invalid_token())
    fcm.answer(busy_one, busy(503, "1"), busy(429, "1"))

    await mutate(client, FOLLOW, bearer(settings, alice.id), userId=uid(bob))
    await drain(client)

    counts = {token: len(fcm.sent_to(token)) for token in (fine, dead, wrong, busy_one)}
    assert counts == {fine: 1, dead: 1, wrong: 1, busy_one: 3}  # only the busy one again
    assert {d.token for d in await devices_of(store, bob.id)} == {fine, busy_one}
    runs = await app_of(client).state.tasks.runs.recent(limit=100)
    attempts = sorted((r.attempt, r.status) for r in runs if r.name == "push")
    assert attempts == [(1, "error"), (2, "error"), (3, "done")]
    errors = sorted(str(r.error) for r in runs if r.status == "error")
    assert "1 of 1 push(es) must be retried; the service asked for 1 s: HTTP 429" in errors[0]
    assert "1 of 4 push(es) must be retried; the service asked for 1 s: HTTP 503" in errors[1]


async def _a_follow_pushed_to(
    client: httpx.AsyncClient, settings: Settings, store: Store, token: str
) -> dict[str, str]:
    """Bob's device has had the push of alice's follow; a push task's payload for it."""
    alice, bob = await make_user(store, "alice"), await make_user(store, "bob")
    await register(client, bearer(settings, bob.id), token, "IOS")
    await mutate(client, FOLLOW, bearer(settings, alice.id), userId=uid(bob))
    await drain(client)
    [found] = await store.get_many([first_item_key(bob.id, "FOLLOW", "")])
    assert found is not None
    notice = notification_from_entity(found)
    version = notification_version(notice)
    return {"recipient": bob.id, "notification": notice.key.encode(), "version": version}


async def test_a_push_task_delivered_twice_at_once_sends_once(
    client: httpx.AsyncClient, settings: Settings, store: Store, fcm: FcmStub
) -> None:
    """A queue that thinks a delivery lost (a lapsed lease, a dispatch deadline) sends
    the task again while the first is still sending."""
    phone = device_token("phone")
    payload = await _a_follow_pushed_to(client, settings, store, phone)
    release = threading.Event()
    fcm.answer(phone, held(release))

    first = asyncio.create_task(post_task(client, "push", payload, "again", 0, "push"))
    await eventually(lambda: _sent(fcm, phone, 2), what="the first delivery's send")
    second = await post_task(client, "push", payload, "again", 1, "push")
    assert second.status_code == 500  # PushRetry: the first delivery holds the claim
    release.set()
    assert (await first).status_code == 200
    third = await post_task(client, "push", payload, "again", 2, "push")
    assert third.status_code == 200
    assert len(fcm.sent_to(phone)) == 2  # the follow's own push, and this task's once


async def _sent(fcm: FcmStub, token: str, count: int) -> bool:
    return len(fcm.sent_to(token)) >= count


class LosesTheReceipt(FlakyCommits):
    """The store port, whose n-th transaction from now fails before its commit: the
    push task's record step, as if the process had died after its sends."""

    def __init__(self, inner: Store, fail_number: int) -> None:
        super().__init__(inner)
        self.fail_number = fail_number

    def transaction(self) -> AbstractAsyncContextManager[Transaction]:
        self.fail_number -= 1
        self.next_commit = "before" if self.fail_number == 0 else None
        return super().transaction()


async def test_a_push_whose_receipt_was_lost_goes_again_only_after_its_claim_with_its_collapse_key(
    client: httpx.AsyncClient, settings: Settings, store: Store, fcm: FcmStub
) -> None:
    phone = device_token("phone")
    payload = await _a_follow_pushed_to(client, settings, store, phone)
    now = datetime.now(UTC)

    async def deliver(store: Store, retry: int, at: datetime) -> None:
        info = TaskInfo("push", "push", "lost-receipt", retry, retry)
        await push_task(payload, app_task_context(client, info, store=store, clock=lambda: at))

    with pytest.raises(StoreError):
        await deliver(LosesTheReceipt(store, fail_number=2), 0, now)  # claim ok, record lost
    assert len(fcm.sent_to(phone)) == 2
    with pytest.raises(PushRetry):
        await deliver(store, 1, now + CLAIM_LIFETIME / 2)  # the claim may still be sending
    assert len(fcm.sent_to(phone)) == 2
    await deliver(store, 2, now + CLAIM_LIFETIME * 2)  # the claim lapsed: the window
    await deliver(store, 3, now + CLAIM_LIFETIME * 3)
    sent = fcm.sent_to(phone)
    assert len(sent) == 3
    collapse_ids = {s.message["message"]["apns"]["headers"]["apns-collapse-id"] for s in sent}
    assert len(collapse_ids) == 1  # the repeat replaces the first alert on the phone
