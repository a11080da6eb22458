"""The guard in front of every `/_internal/` route: only the queue and the scheduler
may call them.

Who is let in, and why each is enough:
- the embedded dispatcher (and, later, the embedded scheduler): the per-process
  random secret in X-Timeline-Dispatch-Secret; it never leaves the process, because
  the dispatcher calls the app in process;
- on App Engine only: `X-AppEngine-QueueName` on task routes and
  `X-Appengine-Cron: true` on cron routes, which App Engine strips from requests
  that come from outside, so only its queues and its cron service can send them;
- Cloud Tasks HTTP targets: a Google-signed OIDC token for the configured audience
  and the queue's service account (`X-CloudTasks-*` headers alone prove nothing).

Everything else gets 403, before any routing, so that a caller cannot even learn
which handler names exist. A wrong secret is refused outright rather than tried
against the other rules.

What Google documents for App Engine (and what this guard relies on):
- Cron: the cron service sends an HTTP GET with `X-Appengine-Cron: true`; "the
  X- headers are stripped by App Engine when they originate from external
  sources", so the header can be trusted (the cron.yaml reference, "Securing URLs
  for cron": https://cloud.google.com/appengine/docs/standard/scheduling-jobs-with-cron-yaml).
  The same page offers `login: admin` on the handler instead; the header check is
  used here so that one guard, in the app, serves every target.
- Tasks: App Engine-targeted Cloud Tasks requests carry `X-AppEngine-QueueName`,
  `-TaskName`, `-TaskRetryCount`, `-TaskExecutionCount`, `-TaskETA`, which App
  Engine removes from external requests (task requests come from 0.1.0.2), "the
  exception being requests from logged in administrators of the application, who
  are allowed to set headers for testing purposes"
  (https://cloud.google.com/tasks/docs/creating-appengine-handlers).
  An administrator can therefore run a task by hand; that is the only way in
  besides the queue, and handlers are idempotent anyway.
- `secure: always` (app.yaml) redirects plain-HTTP requests from browsers and
  clients. Tasks and cron do not go through that redirect: Cloud Tasks'
  AppEngineHttpRequest reference says the traffic is internal to Google, "the
  request to the handler, however, will appear to have used the HTTP protocol",
  and "tasks can be dispatched to secure app handlers, unsecure app handlers,
  and URIs restricted with login: admin" (https://cloud.google.com/tasks/docs/reference/rest/v2/projects.locations.queues.tasks#AppEngineHttpRequest);
  cron requests are subject to "the same limits as those for push task queues".
  So `secure: always` covers /_internal/ without locking the queue or cron out,
  and a task request's X-Forwarded-Proto may say http: nothing here depends on it.
- Cloud Tasks HTTP targets (Cloud Run, or App Engine reached by URL) carry
  `X-CloudTasks-QueueName` with the queue's short id and `X-CloudTasks-TaskName`
  with the task's short name (https://cloud.google.com/tasks/docs/creating-http-target-tasks);
  the emulator sends the queue's full resource name instead. These headers are
  set by whoever calls, so they identify the task but never the caller: only the
  OIDC token does. Either spelling of the queue reads as the short id
  (tasks/headers.py).
"""

from __future__ import annotations

import hmac
import logging
from typing import Literal

from starlette.datastructures import Headers
from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Receive, Scope, Send

from auth.errors import InvalidToken, VerifierUnavailable
from auth.oidc import OidcVerifier
from tasks.headers import APP_ENGINE_CRON, APP_ENGINE_QUEUE, EMBEDDED_SECRET

Caller = Literal["embedded", "app-engine-queue", "app-engine-cron", "cloud-tasks-oidc"]
log = logging.getLogger("timeline.tasks.guard")


class InternalGuard:
    def __init__(
        self,
        app: ASGIApp,
        *,
        secret: str,
        on_app_engine: bool,
        oidc: OidcVerifier | None = None,
    ) -> None:
        if len(secret) < 32:
            raise ValueError("the dispatcher secret must be at least 32 characters")
        self._app = app
        self._secret = secret.encode()
        self._on_app_engine = on_app_engine
        self._oidc = oidc

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            if scope["type"] == "websocket":
                await send({"type": "websocket.close", "code": 1008})
            return
        path: str = scope["path"]
        try:
            caller = await self.identify(Headers(scope=scope), _section(path))
        except VerifierUnavailable as error:
            log.error("cannot check an internal call's OIDC token: %s", error)
            response = JSONResponse({"error": "cannot verify the caller now"}, status_code=503)
            await response(scope, receive, send)
            return
        if caller is None:
            log.warning("refused an internal call to %s", path)
            await JSONResponse({"error": "forbidden"}, status_code=403)(scope, receive, send)
            return
        scope.setdefault("state", {})["internal_caller"] = caller
        await self._app(scope, receive, send)

    async def identify(self, headers: Headers, section: str) -> Caller | None:
        presented = headers.get(EMBEDDED_SECRET)
        if presented is not None:
            matches = hmac.compare_digest(presented.encode(), self._secret)
            return "embedded" if matches else None
        if self._on_app_engine:
            if section == "tasks" and headers.get(APP_ENGINE_QUEUE):
                return "app-engine-queue"
            if section == "cron" and headers.get(APP_ENGINE_CRON) == "true":
                return "app-engine-cron"
        authorization = headers.get("authorization", "")
        scheme, _, token = authorization.partition(" ")
        if self._oidc is not None and scheme.lower() == "bearer" and token:
            try:
                await self._oidc.verify(token.strip())
            except InvalidToken as error:
                log.warning("refused an OIDC token on an internal route: %s", error)
                return None
            return "cloud-tasks-oidc"
        return None


def _section(path: str) -> str:
    """`tasks` for /_internal/tasks/..., `cron` for /_internal/cron/..., else ''."""
    parts = path.split("/")
    return parts[2] if len(parts) > 3 and parts[1] == "_internal" else ""
