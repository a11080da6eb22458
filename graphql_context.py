"""What each GraphQL request's resolvers receive (resolvers/context.py), made the
same way whichever path the route runs the request on (graphql_route.py,
graphql_direct.py): the app's ports, and the request's viewer and fresh loaders."""

from __future__ import annotations

from dataclasses import dataclass

from auth.viewer import Viewer
from clock import Clock
from media import Media
from resolvers.context import RequestContext
from resolvers.cursors import CursorCodec
from resolvers.upload_records import UploadRecords
from store.port import Store
from taskqueue.enqueue import Tasks
from taskqueue.runlog import RunLog
from taskqueue.task_admin import TaskAdmin
from tasks.outbox import Relays


@dataclass(frozen=True)
class Contexts:
    """Makes a RequestContext for a viewer (None: nobody signed in)."""

    store: Store
    cursors: CursorCodec
    tasks: Tasks
    media: Media  # bound to the configured origin (absolute URLs never use the Host)
    clock: Clock
    relays: Relays
    runs: RunLog | None = None
    task_admin: TaskAdmin | None = None
    upload_records: UploadRecords | None = None

    @classmethod
    def for_origin(
        cls,
        origin: str | None,
        secret_key: bytes,
        *,
        store: Store,
        media: Media,
        tasks: Tasks,
        clock: Clock,
        relays: Relays,
        runs: RunLog | None = None,
        task_admin: TaskAdmin | None = None,
        upload_records: UploadRecords | None = None,
    ) -> Contexts:
        """Absolute URLs point at the configured `origin`, never at the request's Host."""
        cursors = CursorCodec(secret_key)
        media = media.for_origin(origin or "")
        return cls(store, cursors, tasks, media, clock, relays, runs, task_admin, upload_records)

    def __call__(self, viewer: Viewer | None) -> RequestContext:
        return RequestContext(
            store=self.store,
            cursors=self.cursors,
            viewer=viewer,
            tasks=self.tasks,
            runs=self.runs,
            media=self.media,
            task_admin=self.task_admin,
            clock=self.clock,
            relays=self.relays,
            upload_records=self.upload_records,
        )
