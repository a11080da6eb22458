"""What one GraphQL document may ask for (checked before it runs; why these defaults:
schema/query_limits.py), and which documents may run at all (persisted_queries.py)."""

from __future__ import annotations

from dataclasses import dataclass, fields
from pathlib import Path

from settings.variables import Reader, Section, Variable, flag, path, whole


@dataclass(frozen=True)
class QueryLimits:
    """What one GraphQL document may ask for, checked before it runs; why these
    defaults: schema/query_limits.py."""

    max_bytes: int = 16 * 1024
    max_tokens: int = 2_000
    max_operations: int = 10
    max_fields: int = 150
    max_aliases: int = 30
    max_directives: int = 50
    max_depth: int = 12
    max_cost: int = 10_000


@dataclass(frozen=True)
class PersistedQuerySettings:
    """Automatic persisted queries and trusted documents (persisted_queries.py)."""

    enabled: bool = True  # APQ: clients may register documents by hash
    # An operation manifest (Apollo's format): when set, only its operations run.
    trusted_documents: Path | None = None


_LIMITS = {  # QueryLimits field -> what its variable limits
    "max_bytes": "the document's size in bytes",
    "max_tokens": "the document's lexical tokens",
    "max_operations": "operations in one document",
    "max_fields": "fields selected, fragments expanded",
    "max_aliases": "aliases",
    "max_directives": "directives",
    "max_depth": "how deep selections nest",
    "max_cost": "the estimated cost: list sizes multiplied down the selection",
}
QUERY_LIMITS = {
    limit.name: Variable(
        "MAX_QUERY_" + limit.name.removeprefix("max_").upper(),
        whole(),
        f"at most {_LIMITS[limit.name]}",
        default=str(limit.default),
    )
    for limit in fields(QueryLimits)
}
PERSISTED_QUERIES = Variable(
    "PERSISTED_QUERIES",
    flag(),
    "automatic persisted queries: clients may register documents by hash",
    default="1",
)
TRUSTED_DOCUMENTS = Variable(
    "TRUSTED_DOCUMENTS",
    path(),
    "an operation manifest (Apollo's format): when set, only its operations run",
)
SECTION = Section(
    "GraphQL",
    "What one document may ask for, and which documents may run.",
    (*QUERY_LIMITS.values(), PERSISTED_QUERIES, TRUSTED_DOCUMENTS),
)


def load_query_limits(reader: Reader) -> QueryLimits:
    return QueryLimits(
        **{attribute: reader.value(variable) for attribute, variable in QUERY_LIMITS.items()}
    )


def load_persisted_query_settings(reader: Reader) -> PersistedQuerySettings:
    return PersistedQuerySettings(
        enabled=reader.value(PERSISTED_QUERIES),
        trusted_documents=reader.optional(TRUSTED_DOCUMENTS),
    )
