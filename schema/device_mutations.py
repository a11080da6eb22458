"""registerDevice / unregisterDevice: where the viewer's push notifications go."""

from __future__ import annotations

import strawberry

from resolvers import devices, nodes
from resolvers.models import Platform
from schema.device import Device, DevicePlatform
from schema.info import Info
from schema.profile import IDEMPOTENCY_HELP
from schema.user_error import UserError, user_errors

_TOKEN_HELP = (
    "The FCM registration token of this app install: "
    f"{devices.TOKEN_MIN} to {devices.TOKEN_MAX} characters of letters, digits, '_', ':', "
    "'.' and '-'."
)


_PLATFORMS: dict[DevicePlatform, Platform] = {
    DevicePlatform.IOS: "IOS",
    DevicePlatform.ANDROID: "ANDROID",
    DevicePlatform.WEB: "WEB",
}


@strawberry.input
class RegisterDeviceInput:
    token: str = strawberry.field(description=_TOKEN_HELP)
    platform: DevicePlatform
    idempotency_key: str | None = strawberry.field(default=None, description=IDEMPOTENCY_HELP)


@strawberry.input
class UnregisterDeviceInput:
    token: str = strawberry.field(description=_TOKEN_HELP)
    idempotency_key: str | None = strawberry.field(default=None, description=IDEMPOTENCY_HELP)


@strawberry.type
class RegisterDevicePayload:
    device: Device | None
    errors: list[UserError]


@strawberry.type
class UnregisterDevicePayload:
    removed: bool = strawberry.field(
        description="Whether the viewer had this device (false when it was already gone)."
    )
    errors: list[UserError]


async def register_device(info: Info, input: RegisterDeviceInput) -> RegisterDevicePayload:
    outcome = await devices.register_device(
        info.context, input.token, _PLATFORMS[input.platform], input.idempotency_key
    )
    # Read after the commit: a replayed outcome shows the device as it is now.
    model = await nodes.device(info.context, outcome.key) if outcome.key else None
    device = Device.from_model(model) if model is not None else None
    return RegisterDevicePayload(device=device, errors=user_errors(outcome))


async def unregister_device(info: Info, input: UnregisterDeviceInput) -> UnregisterDevicePayload:
    outcome = await devices.unregister_device(info.context, input.token, input.idempotency_key)
    return UnregisterDevicePayload(removed=outcome.key is not None, errors=user_errors(outcome))
