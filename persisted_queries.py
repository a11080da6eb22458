"""Automatic persisted queries (Apollo's protocol) and trusted documents.

A request may carry `extensions.persistedQuery: {"version": 1, "sha256Hash": h}`
instead of, or beside, its document (over POST, or over GET so that the URL stays
short enough to cache):

    hash only, known          the document stored under h runs
    hash only, unknown        PersistedQueryNotFound, PERSISTED_QUERY_NOT_FOUND: the
                              client resends the hash with the document
    hash and document         h must be the document's SHA-256 (400 BAD_REQUEST
                              otherwise); it runs, and once it has passed the query
                              limits and validation it is stored under h
    APQ switched off          PersistedQueryNotSupported, PERSISTED_QUERY_NOT_SUPPORTED:
                              the client stops sending hashes

Both errors are HTTP 200 with `Cache-Control: private, no-cache, must-revalidate`,
as Apollo Server answers them, so that every Apollo client reads the body and
retries, and no cache keeps the miss.

Documents are kept where every instance finds them: root entities
`PersistedQuery/<hash>` in the store, behind a bounded in-process LRU (count and
bytes, as the parsed-document cache). A hit in the LRU costs no round trip, a miss
one get, a registration one put.

With trusted documents (an operation manifest, trusted_documents.py) only the
manifest's operations run, whether named by hash or sent as text; nothing is
registered. An unknown hash is PERSISTED_QUERY_NOT_FOUND, any other document
OPERATION_NOT_TRUSTED (HTTP 403).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from clock import Clock, system_clock
from errors import Unavailable
from graphql_media import RequestRefused
from schema.document_cache import DocumentCache
from settings.graphql import PersistedQuerySettings
from store.errors import StoreUnavailable
from store.keys import Key
from store.port import Entity, Store
from trusted_documents import SHA256_HEX, document_hash, load_manifest

log = logging.getLogger("timeline.persisted_queries")

KIND = "PersistedQuery"
# A document is at most TIMELINE_MAX_QUERY_BYTES (16 KiB); an app has tens to hundreds.
CACHED_DOCUMENTS = 2048
CACHED_DOCUMENT_BYTES = 4 * 1024 * 1024
_MISS_HEADERS = {"Cache-Control": "private, no-cache, must-revalidate"}


@dataclass(frozen=True)
class Resolved:
    """The document to run, and the hash to store it under once it has passed."""

    query: str | None
    register_as: str | None = None


class PersistedQueries:
    def __init__(
        self,
        store: Store,
        *,
        enabled: bool = True,
        trusted: dict[str, str] | None = None,
        clock: Clock = system_clock,
    ) -> None:
        self._store = store
        self._clock = clock
        self._enabled = enabled
        self._trusted = trusted
        self._cache: DocumentCache[str] = DocumentCache(CACHED_DOCUMENTS, CACHED_DOCUMENT_BYTES)

    @classmethod
    def from_settings(
        cls, store: Store, settings: PersistedQuerySettings, clock: Clock
    ) -> PersistedQueries:
        """A malformed manifest stops the start here (ManifestError)."""
        trusted = settings.trusted_documents
        return cls(
            store,
            enabled=settings.enabled,
            trusted=load_manifest(trusted) if trusted is not None else None,
            clock=clock,
        )

    async def resolve(self, query: str | None, extensions: dict[str, Any] | None) -> Resolved:
        persisted = (extensions or {}).get("persistedQuery")
        if persisted is None:
            if self._trusted is not None and query is not None:
                self._require_trusted(document_hash(query))
            return Resolved(query)
        if not self._enabled and self._trusted is None:
            raise RequestRefused(
                200, "PersistedQueryNotSupported", "PERSISTED_QUERY_NOT_SUPPORTED",
                headers=_MISS_HEADERS,
            )  # fmt: skip
        sha = _requested_hash(persisted)
        if query is not None and document_hash(query) != sha:
            raise RequestRefused(400, "provided sha does not match query", "BAD_REQUEST")
        if self._trusted is not None:
            if query is None and sha not in self._trusted:
                raise _not_found()
            self._require_trusted(sha)
            return Resolved(self._trusted[sha])
        if query is not None:
            return Resolved(query, None if self._cache.get(sha) is not None else sha)
        document = self._cache.get(sha) or await self._load(sha)
        if document is None:
            raise _not_found()
        return Resolved(document)

    async def register(self, sha: str, document: str) -> None:
        """Keep a document that passed the limits and validation. A store that
        cannot take it now only means the client will be asked for it again."""
        entity = Entity(
            Key.of(KIND, sha),
            {"document": document, "created_at": self._clock()},
            unindexed=frozenset({"document"}),
        )
        try:
            await self._store.put_many([entity])
        except StoreUnavailable as error:
            log.warning("persisted query %s not stored: %s", sha, error)
            return
        self._cache.put(sha, document, size=len(document))

    async def _load(self, sha: str) -> str | None:
        try:
            [entity] = await self._store.get_many([Key.of(KIND, sha)])
        except StoreUnavailable as error:
            busy = Unavailable(retry_after_seconds=error.retry_after_seconds)
            raise RequestRefused(
                503, busy.message, busy.code,
                headers={"Retry-After": str(busy.retry_after_seconds)}, **busy.extensions,
            ) from None  # fmt: skip
        if entity is None:
            return None
        document = entity.properties.get("document")
        if not isinstance(document, str):
            return None
        self._cache.put(sha, document, size=len(document))
        return document

    def _require_trusted(self, sha: str) -> None:
        assert self._trusted is not None
        if sha not in self._trusted:
            raise RequestRefused(
                403,
                "This server runs only the operations its apps were built with "
                "(trusted documents); this one is not among them.",
                "OPERATION_NOT_TRUSTED",
            )


def _requested_hash(persisted: object) -> str:
    if not isinstance(persisted, dict) or persisted.get("version") != 1:
        raise RequestRefused(400, "Unsupported persisted query version", "BAD_REQUEST")
    sha = persisted.get("sha256Hash")
    if not isinstance(sha, str) or not SHA256_HEX.fullmatch(sha):
        raise RequestRefused(
            400,
            "extensions.persistedQuery.sha256Hash must be the document's SHA-256 "
            "in lower-case hex.",
            "BAD_REQUEST",
        )
    return sha


def _not_found() -> RequestRefused:
    return RequestRefused(
        200, "PersistedQueryNotFound", "PERSISTED_QUERY_NOT_FOUND", headers=_MISS_HEADERS
    )
