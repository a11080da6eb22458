"""Datastore-style keys: a path of (kind, name) pairs from the entity-group root.

Every key name is a string chosen by the application (no auto-allocated integer
ids), so the same key means the same thing on SQLite and on Cloud Datastore.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, Generic, TypeVar, overload
from urllib.parse import quote, unquote

_PATH_SEPARATOR = "/"
_T = TypeVar("_T")


class _once(Generic[_T]):  # lower case: a decorator, like cached_property
    """functools.cached_property without its lock: Python 3.11's takes an RLock on
    every first access, which was most of the cost of a new key's first hash (a
    feed page makes hundreds of keys). Keys are immutable, so computing a value
    twice in a race is harmless."""

    def __init__(self, compute: Callable[[Any], _T]) -> None:
        self._compute = compute
        self._name = compute.__name__

    @overload
    def __get__(self, instance: None, owner: type) -> _once[_T]: ...

    @overload
    def __get__(self, instance: object, owner: type) -> _T: ...

    def __get__(self, instance: object | None, owner: type) -> _once[_T] | _T:
        if instance is None:
            return self
        value = self._compute(instance)
        instance.__dict__[self._name] = value  # found before this descriptor from now on
        return value


@lru_cache(maxsize=65536)
def _quoted(part: str) -> str:
    # Kinds repeat, and so do the names on a page (owners, counter shards).
    return quote(part, safe="")


@dataclass(frozen=True, order=True)
class Key:
    path: tuple[tuple[str, str], ...]

    def __post_init__(self) -> None:
        if not self.path:
            raise ValueError("a key needs at least one (kind, name) pair")
        for kind, name in self.path:
            if not kind or not name:
                raise ValueError(f"empty kind or name in key path {self.path!r}")

    @classmethod
    def of(cls, *flat: str) -> Key:
        """Key.of("User", "u1", "Photo", "p1")."""
        if len(flat) % 2:
            raise ValueError("Key.of takes kind, name pairs")
        return cls(tuple(zip(flat[::2], flat[1::2], strict=True)))

    @property
    def kind(self) -> str:
        return self.path[-1][0]

    @property
    def name(self) -> str:
        return self.path[-1][1]

    @_once
    def parent(self) -> Key | None:
        return Key(self.path[:-1]) if len(self.path) > 1 else None

    @_once
    def root(self) -> Key:
        """The entity group this key belongs to."""
        return Key(self.path[:1])

    def child(self, kind: str, name: str) -> Key:
        return Key((*self.path, (kind, name)))

    def is_ancestor_of(self, other: Key) -> bool:
        return len(other.path) > len(self.path) and other.path[: len(self.path)] == self.path

    def encode(self) -> str:
        """A flat string whose byte order keeps descendants right after their ancestor."""
        return self._encoded

    # Keys are immutable and a request encodes and hashes each many times over (as
    # a cursor, an id, a loader's dict key): both are worked out once per key.
    @_once
    def _encoded(self) -> str:
        return _PATH_SEPARATOR.join(
            f"{_quoted(kind)}{_PATH_SEPARATOR}{_quoted(name)}" for kind, name in self.path
        )

    @_once
    def _hash(self) -> int:
        return hash(self.path)

    def __hash__(self) -> int:
        return self._hash

    @staticmethod
    def decode(encoded: str) -> Key:
        return _decoded(encoded)

    def __str__(self) -> str:
        return self.encode()


@lru_cache(maxsize=16384)
def _decoded(encoded: str) -> Key:
    # The keys of a page's entities come back from the cache and the cursors encoded,
    # the same ones request after request: a key decoded once is that key again
    # (immutable, with its hash, parent and encoding already worked out).
    parts = encoded.split(_PATH_SEPARATOR)
    if len(parts) % 2:
        raise ValueError(f"not an encoded key: {encoded!r}")
    return Key.of(*(unquote(part) for part in parts))
