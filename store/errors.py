"""Errors the store port raises, whatever adapter is behind it.

StoreError
 ├── TransactionConflict   another writer touched the entity group; retry
 ├── TransactionTooLarge   more entity groups or entities than one commit takes
 ├── StoreUnavailable      the store cannot serve now (locked by another process,
 │                         disk full, read-only, I/O error, corrupt); retry later
 ├── StoreFileDamaged      at start: the embedded store's file held data and is now
 │                         missing, empty, truncated or corrupt; refused, never re-made
 └── StoreInUse            at start: a process it may not share with holds the embedded file

Clients see StoreUnavailable, and a TransactionConflict that outlasted
run_in_transaction's retries, as the retryable `UNAVAILABLE` (schema/errors.py).
"""


class StoreError(Exception):
    """A store operation failed."""


class TransactionConflict(StoreError):
    """The transaction lost a race for its entity groups and did not commit."""


class TransactionTooLarge(StoreError):
    """The transaction touched more than the store allows in one commit."""


class StoreUnavailable(StoreError):
    """The store could not serve the call now; trying again later may succeed."""

    def __init__(self, message: str, *, retry_after_seconds: int = 1) -> None:
        super().__init__(message)
        self.retry_after_seconds = retry_after_seconds


class StoreFileDamaged(StoreError):
    """The embedded store's file is not what its marker says it held."""


class StoreInUse(StoreError):
    """Another process holds the embedded store's file, and one of the two must run
    alone on it (store/sqlite_lock.py)."""
