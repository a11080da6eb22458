"""The Device type: an app install that receives the viewer's pushes."""

from __future__ import annotations

from datetime import datetime
from enum import Enum

import strawberry

from resolvers import models


@strawberry.enum(description="Which push service a device is reached through.")
class DevicePlatform(Enum):
    IOS = "IOS"
    ANDROID = "ANDROID"
    WEB = "WEB"


@strawberry.type(description="An app install that receives the viewer's pushes.")
class Device:
    platform: DevicePlatform
    registered_at: datetime

    @classmethod
    def from_model(cls, device: models.Device) -> Device:
        # The FCM token stays on the server: it addresses the install, and is no one's to read.
        return cls(platform=DevicePlatform(device.platform), registered_at=device.registered_at)
