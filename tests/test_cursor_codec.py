"""Cursors keep their format: a cursor handed out before a change to how they are
signed still reads back, and an altered one is still refused."""

from __future__ import annotations

import base64

import pytest

from errors import BadCursor
from resolvers.cursors import CursorCodec
from store.port import Position

SECRET = b"golden-secret"
# Encoded by the codec as it was before its MAC was computed from a keyed copy.
ISSUED = {
    ("photos:user:u1", Position("01767225600000000.p1")): (
        "ATTB21eryZIhABQwMTc2NzIyNTYwMDAwMDAwMC5wMWROYsaQQIETd99IEtVHbIk"
    ),
    ("feed:u2", Position("01767225600000000.p1", b"\x00native\xff")): (
        "AVj7aywZx5zAABQwMTc2NzIyNTYwMDAwMDAwMC5wMQBuYXRpdmX_-Gq-PRClht22-X8D63pCSQ"
    ),
}


@pytest.mark.parametrize(("scope", "position"), list(ISSUED))
def test_cursors_issued_earlier_are_the_same_strings(scope: str, position: Position) -> None:
    codec = CursorCodec(SECRET)
    cursor = ISSUED[scope, position]
    assert codec.encode(scope, position) == cursor
    assert codec.decode(scope, cursor) == position
    # Many cursors from one codec: each MAC starts from the key alone.
    assert [codec.encode(scope, position) for _ in range(3)] == [cursor] * 3


@pytest.mark.parametrize(("scope", "position"), list(ISSUED))
def test_every_altered_byte_is_refused(scope: str, position: Position) -> None:
    codec = CursorCodec(SECRET)
    raw = base64.urlsafe_b64decode(ISSUED[scope, position] + "==")
    for index in range(len(raw)):
        altered = bytearray(raw)
        altered[index] ^= 0x20
        cursor = base64.urlsafe_b64encode(bytes(altered)).rstrip(b"=").decode()
        with pytest.raises(BadCursor):
            codec.decode(scope, cursor)


def test_another_secret_or_another_list_is_refused() -> None:
    (scope, position), cursor = next(iter(ISSUED.items()))
    assert CursorCodec(SECRET).encode(scope, position) == cursor
    # Each codec signs with its own secret, whatever another one issued before.
    assert CursorCodec(b"another secret").encode(scope, position) != cursor
    assert CursorCodec(SECRET).encode(scope + "x", position) != cursor
    with pytest.raises(BadCursor):
        CursorCodec(b"another secret").decode(scope, cursor)
    with pytest.raises(BadCursor):
        CursorCodec(SECRET).decode(scope + "x", cursor)
