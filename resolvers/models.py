"""What the schema's types are built from, as the schema may name it.

`schema/` reaches the ports only through `resolvers/` (the import contracts in
pyproject.toml): the plain dataclass models of the store, the image sizes of the
pipeline and the queue admin's records are re-exported here, so a type can hold
its model (`strawberry.Private[...]`) without importing the layer below.
"""

from media.derivatives import LARGE, MEDIUM, THUMBNAIL
from store.device_models import Device, Platform
from store.email_models import EmailPreferences
from store.errors import StoreUnavailable, TransactionConflict
from store.models import PHOTO, USER, Photo, User
from store.notification_models import NOTIFICATION, RECENT_ACTORS, Notification
from store.social_models import COMMENT, Comment
from tasks.port import PendingTask
from tasks.runlog import Run
from tasks.task_admin import QueueStatus

__all__ = [
    "COMMENT",
    "LARGE",
    "MEDIUM",
    "NOTIFICATION",
    "PHOTO",
    "RECENT_ACTORS",
    "THUMBNAIL",
    "USER",
    "Comment",
    "Device",
    "EmailPreferences",
    "Notification",
    "PendingTask",
    "Photo",
    "Platform",
    "QueueStatus",
    "Run",
    "StoreUnavailable",
    "TransactionConflict",
    "User",
]
