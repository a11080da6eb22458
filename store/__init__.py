"""Persistence: the store port, its models, and the SQLite and Datastore adapters."""

from store.errors import StoreError, StoreUnavailable, TransactionConflict, TransactionTooLarge
from store.keys import Key
from store.port import MAX_BATCH, Entity, Position, Query, Result, Store, Transaction

__all__ = [
    "MAX_BATCH",
    "Entity",
    "Key",
    "Position",
    "Query",
    "Result",
    "Store",
    "StoreError",
    "StoreUnavailable",
    "Transaction",
    "TransactionConflict",
    "TransactionTooLarge",
]
