"""Errors the store port raises, whatever adapter is behind it.

StoreError
 ├── TransactionConflict   another writer touched the entity group; retry
 └── TransactionTooLarge   more entity groups or entities than one commit takes
"""


class StoreError(Exception):
    """A store operation failed."""


class TransactionConflict(StoreError):
    """The transaction lost a race for its entity groups and did not commit."""


class TransactionTooLarge(StoreError):
    """The transaction touched more than the store allows in one commit."""
