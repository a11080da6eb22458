"""The digest e-mail, on both stores and through a real SMTP server: who gets it,
and that a day's digest goes out once however often and however concurrently the
job and its tasks run."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime

import httpx
import pytest

from app import create_app
from mail.smtp import SmtpMail
from settings import Settings
from store import models
from store.email_models import digest_email_key
from store.port import Store
from taskqueue.context import TaskContext, TaskInfo
from taskqueue.headers import EMBEDDED_SECRET
from tasks.emails import email_digest
from tasks.mail_delivery import MailRetry
from tests.test_social import FOLLOW, mutate, uid
from tests.utils.clients import serving
from tests.utils.contexts import app_task_context
from tests.utils.devices import device_token, register
from tests.utils.draining import SkippingClock, app_of, drain
from tests.utils.mail import outbox_mails, sign_up, update_preferences
from tests.utils.smtp_server import SmtpServer, serving_smtp


@pytest.fixture
def smtp() -> Iterator[SmtpServer]:
    with serving_smtp() as server:
        yield server


@pytest.fixture
async def smtp_client(
    store: Store, settings: Settings, smtp: SmtpServer
) -> AsyncIterator[httpx.AsyncClient]:
    """The app sending through the SMTP adapter to the local server."""
    sender = SmtpMail("127.0.0.1", smtp.port, sender="Timeline <no-reply@t.test>", starttls=False)
    app = create_app(settings, store=store, mail=sender, clock=SkippingClock())
    async with serving(app, "http://t") as http:
        yield http


async def run_digest_cron(http: httpx.AsyncClient) -> None:
    secret = {EMBEDDED_SECRET: app_of(http).state.tasks.dispatch_secret}
    response = await http.get("/_internal/cron/daily_digest", headers=secret)
    assert response.status_code == 200, response.text


def delivery(http: httpx.AsyncClient, name: str) -> TaskContext:
    """A delivery of a task as the queue would hand it, under its own task name."""
    return app_task_context(http, TaskInfo("email_digest", "default", name))


async def test_one_digest_a_day_when_the_job_and_its_tasks_run_twice_at_once(
    smtp_client: httpx.AsyncClient, smtp: SmtpServer, settings: Settings, store: Store
) -> None:
    await sign_up(smtp_client, settings, "alice", "alice@example.com")
    await sign_up(smtp_client, settings, "carol", "carol@example.com")
    await sign_up(smtp_client, settings, "dave", None)  # no verified address
    bob = await sign_up(smtp_client, settings, "bob", "bob@example.com")
    for followee in ("alice", "carol", "dave"):
        user = models.User(f"id-{followee}", followee, followee, datetime.now(UTC))
        await mutate(smtp_client, FOLLOW, bob, userId=uid(user))
    await drain(smtp_client)  # alice, carol and dave each have an unread FOLLOW
    assert smtp.received == []
    day = datetime.now(UTC).date().isoformat()

    # Carol's digest task delivered twice at once (a queue's duplicate): one sends.
    outcomes = await asyncio.gather(
        *(
            email_digest({"user": "id-carol", "day": day}, delivery(smtp_client, f"dup-{n}"))
            for n in range(2)
        ),
        return_exceptions=True,
    )
    assert sum(isinstance(o, MailRetry) for o in outcomes) <= 1, outcomes
    assert not [
        o for o in outcomes if isinstance(o, BaseException) and not isinstance(o, MailRetry)
    ]
    assert [r.recipients for r in smtp.received] == [["carol@example.com"]]

    # The cron job twice at once, and once more: everyone owed gets one digest.
    await asyncio.gather(run_digest_cron(smtp_client), run_digest_cron(smtp_client))
    await run_digest_cron(smtp_client)
    await drain(smtp_client)
    await email_digest({"user": "id-alice", "day": day}, delivery(smtp_client, "late"))
    got = sorted((r.recipients[0], r.message["Subject"]) for r in smtp.received)
    assert got == [
        ("alice@example.com", "You have 1 unread notification"),
        ("carol@example.com", "You have 1 unread notification"),
    ]
    [to_alice] = [r for r in smtp.received if r.recipients == ["alice@example.com"]]
    assert "bob started following you" in to_alice.part("plain")
    assert "bob started following you" in to_alice.part("html")
    assert to_alice.message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    today = datetime.now(UTC).date()
    found = await store.get_many([digest_email_key("id-alice", today)])
    assert found[0] is not None
    assert found[0].properties["status"] == "sent"


async def test_no_digest_e_mail_for_the_pushed_or_those_who_turned_it_off(
    client: httpx.AsyncClient, settings: Settings
) -> None:
    erin = await sign_up(client, settings, "erin", "erin@example.com")
    fred = await sign_up(client, settings, "fred", "fred@example.com")
    await sign_up(client, settings, "gina", "gina@example.com")
    await register(client, erin, device_token("erin"), "IOS")  # erin will be pushed
    payload = await update_preferences(client, fred, digest=False)
    assert payload["preferences"] == {
        "address": "fred@example.com",
        "digest": False,
        "newFollower": False,
    }
    follower = await sign_up(client, settings, "hal", None)
    for name in ("erin", "fred", "gina"):
        user = models.User(f"id-{name}", name, name, datetime.now(UTC))
        await mutate(client, FOLLOW, follower, userId=uid(user))
    await drain(client)
    await run_digest_cron(client)
    await drain(client)
    assert [m.to for m in await outbox_mails(client)] == ["gina@example.com"]
