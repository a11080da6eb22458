"""The Cloud Tasks adapter against gcloud-tasks-emulator, delivering to the real app.

The app runs under uvicorn on 127.0.0.1 as App Engine runs it (GAE_ENV=standard, so
the guard trusts App Engine's task headers, which the emulator sends for App Engine
targets), with the SQLite store so that the test can read the handlers' effects.
It also accepts Cloud Tasks' OIDC tokens for HTTP targets, checked against a local
certificate server; the emulator's launcher signs them as Cloud Tasks would.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator

import pytest
from google.api_core.exceptions import AlreadyExists
from google.cloud import tasks_v2

from store.sqlite import SQLiteStore
from taskqueue.cloud_tasks import AppEngineTarget, CloudTasksQueue, HttpTarget
from taskqueue.enqueue import Tasks
from taskqueue.port import TaskRequest
from tests.utils.cloud_tasks_stack import ACCOUNT, AUDIENCE, CloudStack, cloud_tasks_stack
from tests.utils.tasks_app import deliveries, effect_count, eventually
from tests.utils.tasks_emulator import LOCATION, PROJECT, queue_name

# Starts servers in subprocesses: left out of `make test-fast`.
pytestmark = pytest.mark.slow

LOOPBACK_LISTEN = {
    "0100007F",
    "0000000000000000FFFF00000100007F",
    "00000000000000000000000001000000",
}


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[CloudStack]:
    with cloud_tasks_stack(tmp_path_factory.mktemp("cloud-tasks")) as running:
        yield running


@pytest.fixture
async def store(stack: CloudStack) -> AsyncIterator[SQLiteStore]:
    instance = SQLiteStore(stack.db_path)
    yield instance
    await instance.close()


def test_the_emulator_listens_on_loopback_only(stack: CloudStack) -> None:
    addresses = stack.emulator.listening_addresses()
    assert addresses, "the emulator should be listening"
    assert {address.split(":")[0] for address in addresses} <= LOOPBACK_LISTEN


async def test_a_task_travels_through_cloud_tasks_to_the_app(
    stack: CloudStack, store: SQLiteStore
) -> None:
    result = await stack.tasks().enqueue("test_effect", {"key": "cloud-1"})
    assert result.created

    async def done() -> bool:
        return await effect_count(store, "cloud-1") == 1

    await eventually(done, within=20, what="the emulator to deliver to the app")
    (delivery,) = await deliveries(store, "cloud-1")
    assert delivery["task"] == result.name


async def test_a_duplicate_delivery_through_the_queue_takes_effect_once(
    stack: CloudStack, store: SQLiteStore
) -> None:
    # Unlike Cloud Tasks the emulator does not refuse a taken name, so both copies
    # are delivered: exactly the duplicate delivery that at-least-once allows.
    tasks = stack.tasks()
    await tasks.enqueue("test_effect", {"key": "cloud-dup"}, name="cloud-dup")
    await tasks.enqueue("test_effect", {"key": "cloud-dup"}, name="cloud-dup")

    async def both_delivered() -> bool:
        return len(await deliveries(store, "cloud-dup")) == 2

    await eventually(both_delivered, within=20, what="both copies to arrive")
    assert await effect_count(store, "cloud-dup") == 1


async def test_a_delayed_task_is_scheduled_for_its_eta(
    stack: CloudStack, store: SQLiteStore
) -> None:
    loop = asyncio.get_running_loop()
    started = loop.time()
    await stack.tasks().enqueue("test_effect", {"key": "cloud-later"}, countdown=1.5)

    async def done() -> bool:
        return await effect_count(store, "cloud-later") == 1

    await eventually(done, within=20, what="the delayed task")
    assert loop.time() - started >= 1.4


async def test_an_http_target_task_reaches_the_app_with_an_oidc_token(
    stack: CloudStack, store: SQLiteStore
) -> None:
    target = HttpTarget(f"http://127.0.0.1:{stack.app_port}", ACCOUNT, AUDIENCE)
    await stack.tasks(target).enqueue("test_effect", {"key": "cloud-oidc"})

    async def done() -> bool:
        return await effect_count(store, "cloud-oidc") == 1

    await eventually(done, within=20, what="the HTTP-target task to pass the OIDC check")


def test_http_targets_carry_an_oidc_token_request(stack: CloudStack) -> None:
    client = stack.client()
    parent = f"projects/{PROJECT}/locations/{LOCATION}"
    client.create_queue(parent=parent, queue=tasks_v2.Queue(name=queue_name("inspect")))
    client.pause_queue(name=queue_name("inspect"))
    target = HttpTarget("https://timeline.example.com/", "tasks@p.iam.gserviceaccount.com", "aud-1")
    queue = CloudTasksQueue(client, project=PROJECT, location=LOCATION, target=target)
    request = TaskRequest("test_noop", b'{"a":1}', queue="inspect", name="inspect-1")
    asyncio.run(queue.add(request))
    (task,) = client.list_tasks(parent=queue_name("inspect")).tasks
    assert task.name == queue_name("inspect") + "/tasks/inspect-1"
    http = task.http_request
    assert http.url == "https://timeline.example.com/_internal/tasks/test_noop"
    assert http.http_method == tasks_v2.HttpMethod.POST
    assert http.body == b'{"a":1}'
    assert http.headers["Content-Type"] == "application/json"
    assert http.oidc_token.service_account_email == "tasks@p.iam.gserviceaccount.com"
    assert http.oidc_token.audience == "aud-1"


class RefusingClient:
    """A Cloud Tasks client that answers as the service does for a taken name."""

    def queue_path(self, project: str, location: str, queue: str) -> str:
        return f"projects/{project}/locations/{location}/queues/{queue}"

    def create_task(self, parent: str, task: tasks_v2.Task) -> tasks_v2.Task:
        raise AlreadyExists(  # type: ignore[no-untyped-call]
            "The task cannot be created because a task with this name existed too recently."
        )


async def test_a_taken_name_is_reported_as_already_existing() -> None:
    queue = CloudTasksQueue(RefusingClient(), project="p", location="l", target=AppEngineTarget())
    result = await Tasks(queue).enqueue("test_noop", {}, name="taken")
    assert result.already_exists
    assert result.name == "taken"
