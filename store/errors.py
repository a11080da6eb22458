"""Errors the store port raises, whatever adapter is behind it.

StoreError
 ├── TransactionConflict   another writer touched the entity group; retry
 ├── TransactionTooLarge   more entity groups or entities than one commit takes
 ├── StoreUnavailable      the store cannot read or write now (disk full, read-only,
 │                         I/O error, corrupt file); retrying at once will not help
 ├── StoreFileDamaged      at start: the embedded store's file held data and is now
 │                         missing, empty, truncated or corrupt; refused, never re-made
 └── StoreInUse            at start: another process already runs on the embedded file
"""


class StoreError(Exception):
    """A store operation failed."""


class TransactionConflict(StoreError):
    """The transaction lost a race for its entity groups and did not commit."""


class TransactionTooLarge(StoreError):
    """The transaction touched more than the store allows in one commit."""


class StoreUnavailable(StoreError):
    """The store cannot serve reads or writes for a reason outside the request: a full
    or read-only disk, an I/O error, a corrupt file. Not a conflict: it is not retried
    in a transaction loop, and clients are told to come back later."""


class StoreFileDamaged(StoreError):
    """The embedded store's file is not what its marker says it held."""


class StoreInUse(StoreError):
    """Another process holds the embedded store's file."""
