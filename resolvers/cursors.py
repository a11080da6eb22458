"""Opaque, signed, deterministic cursors.

A cursor is a store Position (the result's sort key and, on Datastore, the query
cursor after it) bound to the list it came from and signed with the server
secret. The same position in the same list always gives the same string, because
Apollo's relayStylePagination matches cursors by string equality.

Layout before base64url: version (1) | scope digest (8) | value length (2) |
value | native cursor | HMAC-SHA256 truncated to 16 bytes.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import struct
from functools import lru_cache

from errors import BadCursor
from store.port import Position

_VERSION = 1
_SCOPE_BYTES = 8
_MAC_BYTES = 16
_HEADER = struct.Struct(">B8sH")
MAX_CURSOR_LENGTH = 1024
CURSORS_KEPT = 8192  # some 100 bytes each
_URL_SAFE = bytes.maketrans(b"+/", b"-_")  # base64 to base64url, as urlsafe_b64encode does


class CursorCodec:
    def __init__(self, secret: bytes) -> None:
        key = hashlib.sha256(b"cursor:" + secret).digest()
        # The key's inner and outer pads hashed once: each MAC copies them (a page
        # signs 21 cursors; a new HMAC each time was most of a cursor's cost).
        self._keyed = hmac.new(key, digestmod=hashlib.sha256)
        # The same position in the same list is the same string: a page asked for
        # again (a profile's first page, the feed's) signs nothing again.
        self._issued = lru_cache(maxsize=CURSORS_KEPT)(self._issue)

    def encode(self, scope: str, position: Position) -> str:
        return self._issued(scope, position.value, position.native)

    def _issue(self, scope: str, value: str, native: bytes | None) -> str:
        encoded = value.encode()
        body = _HEADER.pack(_VERSION, _scope_digest(scope), len(encoded)) + encoded
        body += native or b""
        raw = body + self._mac(body)
        return binascii.b2a_base64(raw, newline=False).translate(_URL_SAFE).rstrip(b"=").decode()

    def decode(self, scope: str, cursor: str) -> Position:
        if len(cursor) > MAX_CURSOR_LENGTH:
            raise BadCursor("The cursor is too long to be one of ours.")
        try:
            raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        except (binascii.Error, ValueError):
            raise BadCursor("The cursor is not valid base64url.") from None
        if len(raw) < _HEADER.size + _MAC_BYTES:
            raise BadCursor("The cursor is truncated.")
        body, mac = raw[:-_MAC_BYTES], raw[-_MAC_BYTES:]
        if not hmac.compare_digest(mac, self._mac(body)):
            raise BadCursor("The cursor was not issued by this server or has been altered.")
        version, digest, length = _HEADER.unpack_from(body)
        if version != _VERSION:
            raise BadCursor("The cursor is from an older format; start the list again.")
        if not hmac.compare_digest(digest, _scope_digest(scope)):
            raise BadCursor("The cursor belongs to a different list.")
        value = body[_HEADER.size : _HEADER.size + length]
        native = body[_HEADER.size + length :]
        return Position(value.decode(), native or None)

    def _mac(self, body: bytes) -> bytes:
        mac = self._keyed.copy()
        mac.update(body)
        return mac.digest()[:_MAC_BYTES]


@lru_cache(maxsize=4096)  # a page's cursors share one scope, asked for again and again
def _scope_digest(scope: str) -> bytes:
    return hashlib.sha256(scope.encode()).digest()[:_SCOPE_BYTES]
