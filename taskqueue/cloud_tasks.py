"""The task queue port over Cloud Tasks (google-cloud-tasks).

On App Engine a task is an App Engine HTTP request (a relative URI on this app),
and App Engine adds the `X-AppEngine-*` headers that the guard trusts there.
Anywhere else it is an HTTP request to `<target_url>/_internal/tasks/<handler>`
carrying an OIDC token that Cloud Tasks mints for the queue's service account,
which the guard verifies. A name already taken answers ALREADY_EXISTS, reported as
`created=False`, as the embedded queue does.

Admin calls are Cloud Tasks' own: ListTasks, DeleteTask, PurgeQueue, PauseQueue,
ResumeQueue and GetQueue for the state. Cloud Tasks says a purge may take up to a
minute to take effect and does not count what it removed, and a deleted task's
attempt already dispatched may finish; a deleted name cannot be reused for a
while (up to 9 days for queues from queue.yaml), as on the embedded queue.

The client is synchronous (gRPC); each call runs in a thread.
"""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from google.api_core.exceptions import AlreadyExists, MethodNotImplemented, NotFound
from google.cloud import tasks_v2

from taskqueue.errors import QueueAdminUnsupported, UnknownQueue
from taskqueue.port import EnqueueResult, PendingTask, PurgeResult, TaskQueue, TaskRequest

LIST_PAGE_SIZE = 1000  # the most ListTasks returns a page
T = TypeVar("T")


@dataclass(frozen=True)
class AppEngineTarget:
    """Deliver to this App Engine app; None routes to the default service/version."""

    service: str | None = None
    version: str | None = None


@dataclass(frozen=True)
class HttpTarget:
    base_url: str  # the app's public base URL, e.g. https://api.example.com
    service_account: str  # the account Cloud Tasks signs the OIDC token as
    audience: str  # the token's `aud`, checked by the guard


class CloudTasksQueue(TaskQueue):
    def __init__(
        self, client: Any, *, project: str, location: str, target: AppEngineTarget | HttpTarget
    ) -> None:
        if not location:
            raise ValueError("Cloud Tasks needs a location (TIMELINE_CLOUD_TASKS_LOCATION)")
        self._client = client
        self._project = project
        self._location = location
        self._target = target

    def queue_path(self, queue: str) -> str:
        path: str = self._client.queue_path(self._project, self._location, queue)
        return path

    def build_task(self, request: TaskRequest) -> tasks_v2.Task:
        parent = self.queue_path(request.queue)
        uri = f"/_internal/tasks/{request.handler}"
        headers = {"Content-Type": "application/json"}
        task = tasks_v2.Task()
        if request.name is not None:
            task.name = f"{parent}/tasks/{request.name}"
        if request.eta is not None:
            task.schedule_time = request.eta
        if isinstance(self._target, AppEngineTarget):
            routing = tasks_v2.AppEngineRouting(
                service=self._target.service or "", version=self._target.version or ""
            )
            task.app_engine_http_request = tasks_v2.AppEngineHttpRequest(
                http_method=tasks_v2.HttpMethod.POST,
                relative_uri=uri,
                headers=headers,
                body=request.payload,
                app_engine_routing=routing,
            )
        else:
            task.http_request = tasks_v2.HttpRequest(
                http_method=tasks_v2.HttpMethod.POST,
                url=self._target.base_url.rstrip("/") + uri,
                headers=headers,
                body=request.payload,
                oidc_token=tasks_v2.OidcToken(
                    service_account_email=self._target.service_account,
                    audience=self._target.audience,
                ),
            )
        return task

    async def add(self, request: TaskRequest) -> EnqueueResult:
        parent = self.queue_path(request.queue)
        task = self.build_task(request)
        try:
            created = await asyncio.to_thread(self._client.create_task, parent=parent, task=task)
        except AlreadyExists:
            return EnqueueResult(request.name or "", created=False)
        return EnqueueResult(str(created.name).rsplit("/", 1)[-1], created=True)

    async def pending(self, queue: str, limit: int) -> list[PendingTask]:
        def listed() -> list[tasks_v2.Task]:
            request = tasks_v2.ListTasksRequest(
                parent=self.queue_path(queue), page_size=min(limit, LIST_PAGE_SIZE)
            )
            pages = self._client.list_tasks(request=request)
            return list(itertools.islice(pages, limit))

        return [pending_task(queue, task) for task in await self._on_queue(queue, listed)]

    async def delete(self, queue: str, name: str) -> bool:
        path = f"{self.queue_path(queue)}/tasks/{name}"
        try:
            await _admin_call(lambda: self._client.delete_task(name=path))
        except NotFound:
            return False
        return True

    async def purge(self, queue: str) -> PurgeResult:
        await self._on_queue(queue, lambda: self._client.purge_queue(name=self.queue_path(queue)))
        return PurgeResult(purged=None)

    async def pause(self, queue: str) -> None:
        await self._on_queue(queue, lambda: self._client.pause_queue(name=self.queue_path(queue)))

    async def resume(self, queue: str) -> None:
        await self._on_queue(queue, lambda: self._client.resume_queue(name=self.queue_path(queue)))

    async def is_paused(self, queue: str) -> bool:
        found = await self._on_queue(
            queue, lambda: self._client.get_queue(name=self.queue_path(queue))
        )
        return bool(found.state == tasks_v2.Queue.State.PAUSED)

    async def _on_queue(self, queue: str, call: Callable[[], T]) -> T:
        try:
            return await _admin_call(call)
        except NotFound as error:
            raise UnknownQueue(f"Cloud Tasks has no queue {self.queue_path(queue)}") from error


async def _admin_call(call: Callable[[], T]) -> T:
    try:
        return await asyncio.to_thread(call)
    except MethodNotImplemented as error:
        raise QueueAdminUnsupported(
            f"this Cloud Tasks server does not implement the call ({error.message})"
        ) from error


def pending_task(queue: str, task: tasks_v2.Task) -> PendingTask:
    uri = task.app_engine_http_request.relative_uri or task.http_request.url
    return PendingTask(
        name=str(task.name).rsplit("/", 1)[-1],
        queue=queue,
        handler=uri.rsplit("/_internal/tasks/", 1)[-1],
        eta=task.schedule_time or None,
        attempts=int(task.dispatch_count),
    )


def cloud_tasks_client(emulator_host: str | None = None) -> Any:
    """The production client, or one speaking plaintext gRPC to an emulator."""
    if emulator_host is None:
        return tasks_v2.CloudTasksClient()
    import grpc  # type: ignore[import-untyped]
    from google.cloud.tasks_v2.services.cloud_tasks.transports import CloudTasksGrpcTransport

    channel = grpc.insecure_channel(emulator_host)
    return tasks_v2.CloudTasksClient(transport=CloudTasksGrpcTransport(channel=channel))
