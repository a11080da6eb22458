"""What every resolver receives: the ports, the viewer and the per-request caches."""

from __future__ import annotations

from dataclasses import dataclass, field

from auth.viewer import Viewer
from clock import Clock, system_clock
from errors import Forbidden, Unauthenticated
from media.services import Media
from resolvers.cursors import CursorCodec
from resolvers.loaders import Loaders
from resolvers.upload_records import UploadRecords
from store.port import Store
from taskqueue.enqueue import Tasks
from taskqueue.runlog import RunLog
from taskqueue.task_admin import TaskAdmin
from tasks.outbox import Relays


@dataclass
class RequestContext:
    store: Store
    cursors: CursorCodec
    tasks: Tasks  # where mutations' follow-ups go (tests give it the embedded queue)
    media: Media  # the image pipeline and the blob store, bound to the request's origin
    relays: Relays  # runs mutations' relays after their answers (tasks/outbox.py)
    viewer: Viewer | None = None
    runs: RunLog | None = None  # the task and cron run log, for admin-only fields
    task_admin: TaskAdmin | None = None  # the admin schema's queue calls; None elsewhere
    clock: Clock = system_clock  # what time it is: the app's clock, or a test's
    upload_records: UploadRecords | None = None  # StrayBlob records written ahead
    loaders: Loaders = field(init=False)

    def __post_init__(self) -> None:
        self.loaders = Loaders(self.store)

    def require_viewer(self) -> Viewer:
        if self.viewer is None:
            raise Unauthenticated(
                "Sign in first: send `Authorization: Bearer <token>`.",
            )
        return self.viewer

    def require_admin(self, refusal: str) -> Viewer:
        """The viewer, if an admin; `refusal` is the FORBIDDEN message otherwise."""
        viewer = self.require_viewer()
        if not viewer.is_admin:
            raise Forbidden(refusal)
        return viewer
