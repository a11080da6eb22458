"""Parsed and validated documents, kept by their text, bounded by count and by bytes.

Mobile apps send the same few documents over and over (Apollo codegen), so each is
parsed and validated once. A count bound alone is not a memory bound: a parsed
document takes 50 to 70 times its text's size (measured with tracemalloc), so
the texts' total size is bounded too. Only documents that passed every check are
kept (the caller decides), so refused ones cost their sender the work each time.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Hashable
from typing import Generic, TypeVar

Value = TypeVar("Value")


class DocumentCache(Generic[Value]):
    """Least recently used first out, once either bound is passed."""

    def __init__(self, max_entries: int, max_bytes: int) -> None:
        self.max_entries = max_entries
        self.max_bytes = max_bytes
        self.bytes = 0
        self._entries: OrderedDict[Hashable, tuple[Value, int]] = OrderedDict()

    def __len__(self) -> int:
        return len(self._entries)

    def get(self, key: Hashable) -> Value | None:
        entry = self._entries.get(key)
        if entry is None:
            return None
        self._entries.move_to_end(key)
        return entry[0]

    def put(self, key: Hashable, value: Value, size: int) -> None:
        old = self._entries.pop(key, None)  # re-put with a new size: the old one goes
        if old is not None:
            self.bytes -= old[1]
        if size > self.max_bytes:
            return
        self._entries[key] = (value, size)
        self.bytes += size
        while len(self._entries) > self.max_entries or self.bytes > self.max_bytes:
            _, (_, evicted) = self._entries.popitem(last=False)
            self.bytes -= evicted
