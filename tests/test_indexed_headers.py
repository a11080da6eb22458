"""The GraphQL route's headers (graphql_guards.IndexedHeaders) answer as Starlette's
Headers do: any case, the first of a repeated name, a missing one absent."""

from __future__ import annotations

import pytest
from starlette.datastructures import Headers

from graphql_guards import IndexedHeaders

RAW = [
    (b"accept", b"application/json"),
    (b"x-apollo-operation-name", b"First"),
    (b"x-apollo-operation-name", b"Second"),
    (b"user-agent", b"caf\xe9"),
]


@pytest.mark.parametrize(
    "name", ["accept", "Accept", "X-Apollo-Operation-Name", "user-agent", "authorization"]
)
def test_indexed_headers_answer_as_headers(name: str) -> None:
    plain, indexed = Headers(scope={"headers": list(RAW)}), IndexedHeaders({"headers": list(RAW)})
    assert indexed.get(name) == plain.get(name)
    assert indexed.get(name, "none") == plain.get(name, "none")
    assert (name in indexed) == (name in plain)
    if name in plain:
        assert indexed[name] == plain[name]
    else:
        with pytest.raises(KeyError):
            indexed[name]
    assert indexed.getlist(name) == plain.getlist(name)
