"""Errors the store port raises, whatever adapter is behind it.

StoreError
 ├── TransactionConflict   another writer touched the entity group; retry
 ├── TransactionTooLarge   more entity groups or entities than one commit takes
 └── StoreUnavailable      the store refused for now (contention, overload); retry later

Clients see TransactionConflict (once run_in_transaction's retries are spent) and
StoreUnavailable as the retryable `UNAVAILABLE` (schema/errors.py).
"""


class StoreError(Exception):
    """A store operation failed."""


class TransactionConflict(StoreError):
    """The transaction lost a race for its entity groups and did not commit."""


class TransactionTooLarge(StoreError):
    """The transaction touched more than the store allows in one commit."""


class StoreUnavailable(StoreError):
    """The store could not serve a call for now; the same call may succeed later."""
