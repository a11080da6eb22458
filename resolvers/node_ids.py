"""Global object ids: the GraphQL type name and the entity key, base64url encoded.

Ids are opaque to clients but not secret, so they are not signed; a forged id can
only name an entity the client could have been shown anyway.
"""

from __future__ import annotations

import base64
import binascii
from functools import lru_cache

from errors import BadUserInput
from store.keys import Key

MAX_ID_LENGTH = 512


@lru_cache(maxsize=65536)  # a page shows the same owner, and the same ids page after page
def to_global_id(type_name: str, key: Key) -> str:
    raw = f"{type_name}:{key.encode()}".encode()
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


def from_global_id(global_id: str) -> tuple[str, Key]:
    if not global_id or len(global_id) > MAX_ID_LENGTH:
        raise BadUserInput("Not a valid id.", argument="id")
    try:
        raw = base64.urlsafe_b64decode(global_id + "=" * (-len(global_id) % 4)).decode()
        type_name, _, encoded_key = raw.partition(":")
        key = Key.decode(encoded_key)
    except (binascii.Error, UnicodeDecodeError, ValueError):
        raise BadUserInput("Not a valid id.", argument="id") from None
    if not type_name:
        raise BadUserInput("Not a valid id.", argument="id")
    return type_name, key


def expect_global_id(global_id: str, type_name: str, argument: str) -> Key:
    """The key inside an id that must name a `type_name`; anything else is the
    client's mistake (BAD_USER_INPUT naming the argument)."""
    try:
        found_type, key = from_global_id(global_id)
    except BadUserInput:
        raise BadUserInput(f"`{argument}` is not a valid id.", argument=argument) from None
    if found_type != type_name or key.kind != type_name:
        raise BadUserInput(f"`{argument}` must be the id of a {type_name}.", argument=argument)
    return key
