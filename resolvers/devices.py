"""registerDevice and unregisterDevice: the viewer's push devices.

A Device lives in its owner's entity group under a hash of its FCM token, and a
root `DeviceToken` claim names the owner (store/device_models.py), so that a
token registered by someone else moves to them in one cross-group transaction:
the previous owner's record goes, the new one comes, the claim changes hands.

A user keeps at most MAX_DEVICES; registering one more drops the least recently
registered (an app registers its token on every start, so the oldest is the one
least likely still installed). The device list is read just before the
transaction (an ancestor query, strongly consistent); two registrations racing
for the last slot may leave one device too many, which the next registration
trims.
"""

from __future__ import annotations

import re

from resolvers.context import RequestContext
from resolvers.mutations import Outcome, run_mutation
from resolvers.user_errors import UserErrorCode
from store import models
from store.device_models import (
    Device,
    Platform,
    claim_entity,
    claim_holder,
    claim_key,
    claim_key_of,
    device_from_entity,
    device_key,
    device_to_entity,
    devices_query,
)
from store.port import Entity, Transaction

MAX_DEVICES = 20
# Devices dropped by one registration: normally one; a few more after a race.
# Each is one more entity group in the transaction (Datastore allows 25).
MAX_EVICTIONS = 5
TOKEN_MIN, TOKEN_MAX = 32, 4096
# FCM registration tokens are URL-safe base64 with ':' separators; this admits
# every token FCM issues today and nothing with spaces, quotes or control bytes.
_TOKEN = re.compile(rf"[A-Za-z0-9_:.\-]{{{TOKEN_MIN},{TOKEN_MAX}}}")
TOKEN_RULE = (
    f"The token must be an FCM registration token: {TOKEN_MIN} to {TOKEN_MAX} characters "
    "of letters, digits, '_', ':', '.' and '-'."
)


def _invalid_token(token: str) -> Outcome | None:
    if _TOKEN.fullmatch(token):
        return None
    return Outcome.failed(UserErrorCode.INVALID_INPUT, TOKEN_RULE, "token")


async def register_device(
    context: RequestContext, token: str, platform: Platform, idempotency_key: str | None
) -> Outcome:
    viewer = context.require_viewer()
    refused = _invalid_token(token)
    if refused is not None:
        return refused
    device = Device(viewer.user_id, token, platform, context.clock())
    current = await context.store.page(
        devices_query(viewer.user_id), limit=MAX_DEVICES + MAX_EVICTIONS
    )
    others = [r.entity.key for r in current if r.entity.key != device.key]
    evicted = others[MAX_DEVICES - 1 :][:MAX_EVICTIONS]

    async def effect(tx: Transaction, found: list[Entity | None]) -> Outcome:
        me, claim, *evicted_claims = found
        if me is None:
            return Outcome.profile_missing()
        holder = claim_holder(claim)
        if holder is not None and holder != viewer.user_id:
            tx.delete_many([device_key(holder, token)])  # the install changed hands
        mine = [c.key for c in evicted_claims if c and claim_holder(c) == viewer.user_id]
        tx.delete_many([*evicted, *mine])
        tx.put_many([device_to_entity(device), claim_entity(token, viewer.user_id)])
        return Outcome(key=device.key)

    return await run_mutation(
        context,
        viewer_id=viewer.user_id,
        name="registerDevice",
        arguments={"token": token, "platform": platform},
        idempotency_key=idempotency_key,
        reads=[models.user_key(viewer.user_id), claim_key(token), *map(claim_key_of, evicted)],
        effect=effect,
    )


async def unregister_device(
    context: RequestContext, token: str, idempotency_key: str | None
) -> Outcome:
    """Outcome.key is the device removed, or None when the viewer had no such device
    (unregistering twice is fine)."""
    viewer = context.require_viewer()
    refused = _invalid_token(token)
    if refused is not None:
        return refused
    mine = device_key(viewer.user_id, token)

    async def effect(tx: Transaction, found: list[Entity | None]) -> Outcome:
        claim, existing = found
        if existing is None:
            return Outcome()
        owned_claim = [claim_key(token)] if claim_holder(claim) == viewer.user_id else []
        tx.delete_many([mine, *owned_claim])
        return Outcome(key=mine)

    return await run_mutation(
        context,
        viewer_id=viewer.user_id,
        name="unregisterDevice",
        arguments={"token": token},
        idempotency_key=idempotency_key,
        reads=[claim_key(token), mine],
        effect=effect,
    )


async def viewer_devices(context: RequestContext) -> list[Device]:
    """The viewer's devices, most recently registered first (one ancestor query;
    a race may leave one more than MAX_DEVICES until the next registration trims it)."""
    viewer = context.require_viewer()
    found = await context.store.page(devices_query(viewer.user_id), limit=MAX_DEVICES)
    return [device_from_entity(result.entity) for result in found]
