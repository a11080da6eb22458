"""A bounded fuzz run: schemathesis generates operations from the schema's SDL
(every query and mutation, with random arguments and selections) and sends them
to the real app, without a token and with one. No answer may be a server error,
neither a 5xx nor an INTERNAL_SERVER_ERROR inside a 200, and every error carries
a GraphQL error body with `extensions.code`."""

from __future__ import annotations

from datetime import UTC
from pathlib import Path
from typing import Any

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis.graphql import nodes

from schema import build_schema
from settings import Settings
from tests.utils.accounts import bearer, create_profile
from tests.utils.clients import app_client

EXAMPLES = 100  # per run: together 200 requests, a few seconds

schemathesis.graphql.scalar("Upload", st.just(nodes.Null))
schemathesis.graphql.scalar(
    "DateTime",
    st.datetimes(timezones=st.just(UTC)).map(lambda moment: nodes.String(moment.isoformat())),
)
SCHEMA = schemathesis.graphql.from_file(str(build_schema()))


def generated_operations() -> list[str]:
    """EXAMPLES documents, the same every run (CI cannot flake on a new example)."""
    documents: list[str] = []

    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        database=None,
        derandomize=True,
        suppress_health_check=list(HealthCheck),
    )
    @given(case=SCHEMA.as_strategy())
    def collect(case: Any) -> None:
        documents.append(case.body)

    collect()
    return documents


def check(response: httpx.Response) -> None:
    assert response.status_code < 500, response.text
    assert response.headers["content-type"] == "application/json", response.text
    body = response.json()
    if response.status_code >= 400:
        assert body["errors"], body
    for error in body.get("errors", []):
        assert error["extensions"]["code"] != "INTERNAL_SERVER_ERROR", (body, error)


@pytest.mark.slow
@pytest.mark.parametrize("signed_in", [False, True], ids=["anonymous", "bearer"])
async def test_fuzzed_operations_never_meet_a_server_error(tmp_path: Path, signed_in: bool) -> None:
    app_settings = Settings(
        environment="local", var_dir=tmp_path, sqlite_path=tmp_path / "t.db", secret_key=b"f" * 48
    )
    headers = bearer(app_settings, "fuzzer") if signed_in else {}
    async with app_client(app_settings) as http:
        if signed_in:
            await create_profile(http, headers, username="fuzzer", displayName="Fuzzer")
        for document in generated_operations():
            check(await http.post("/graphql", json={"query": document}, headers=headers))
