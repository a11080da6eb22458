"""The task queue port over Cloud Tasks (google-cloud-tasks).

On App Engine a task is an App Engine HTTP request (a relative URI on this app),
and App Engine adds the `X-AppEngine-*` headers that the guard trusts there.
Anywhere else it is an HTTP request to `<target_url>/_internal/tasks/<handler>`
carrying an OIDC token that Cloud Tasks mints for the queue's service account,
which the guard verifies. A name already taken answers ALREADY_EXISTS, reported as
`created=False`, as the embedded queue does.

The client is synchronous (gRPC); each call runs in a thread.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Any

from google.api_core.exceptions import AlreadyExists
from google.cloud import tasks_v2

from tasks.port import EnqueueResult, TaskQueue, TaskRequest


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


def cloud_tasks_client(emulator_host: str | None = None) -> Any:
    """The production client, or one speaking plaintext gRPC to an emulator."""
    if emulator_host is None:
        return tasks_v2.CloudTasksClient()
    import grpc  # type: ignore[import-untyped]
    from google.cloud.tasks_v2.services.cloud_tasks.transports import CloudTasksGrpcTransport

    channel = grpc.insecure_channel(emulator_host)
    return tasks_v2.CloudTasksClient(transport=CloudTasksGrpcTransport(channel=channel))
