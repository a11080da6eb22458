"""Trusted documents: an operation manifest as Apollo's codegen writes it, loaded at
start; with it only the listed operations run."""

from __future__ import annotations

import hashlib
import json
from dataclasses import replace
from pathlib import Path
from typing import Any

import httpx
import pytest

from app import create_app
from settings import PersistedQuerySettings, Settings, load_settings
from store.sqlite import SQLiteStore
from tests.utils.clients import app_client
from trusted_documents import ManifestError

LISTED = "query Listed { __typename }"
UNLISTED = "query Unlisted { photos(first: 1) { edges { cursor } } }"


def sha(document: str) -> str:
    return hashlib.sha256(document.encode()).hexdigest()


def operation(document: str, **overrides: Any) -> dict[str, Any]:
    return {"id": sha(document), "name": "Listed", "type": "query", "body": document, **overrides}


def manifest(*operations: dict[str, Any], **overrides: Any) -> dict[str, Any]:
    return {
        "format": "apollo-persisted-query-manifest",
        "version": 1,
        "operations": list(operations),
        **overrides,
    }


def trusting(settings: Settings, path: Path) -> Settings:
    return replace(settings, persisted_queries=PersistedQuerySettings(trusted_documents=path))


@pytest.fixture
def manifest_path(tmp_path: Path) -> Path:
    path = tmp_path / "persisted-query-manifest.json"
    path.write_text(json.dumps(manifest(operation(LISTED))))
    return path


def code_of(response: httpx.Response) -> str:
    code: str = response.json()["errors"][0]["extensions"]["code"]
    return code


async def test_only_listed_operations_run(settings: Settings, manifest_path: Path) -> None:
    async with app_client(trusting(settings, manifest_path)) as http:
        by_hash = {"extensions": {"persistedQuery": {"version": 1, "sha256Hash": sha(LISTED)}}}
        answer = await http.post("/graphql", json=by_hash)
        assert answer.json() == {"data": {"__typename": "Query"}}
        over_get = await http.get(
            "/graphql", params={"extensions": json.dumps(by_hash["extensions"])}
        )
        assert over_get.json() == {"data": {"__typename": "Query"}}
        as_text = await http.post("/graphql", json={"query": LISTED})
        assert as_text.json() == {"data": {"__typename": "Query"}}

        unknown = {"extensions": {"persistedQuery": {"version": 1, "sha256Hash": sha(UNLISTED)}}}
        missing = await http.post("/graphql", json=unknown)
        assert missing.status_code == 200
        assert code_of(missing) == "PERSISTED_QUERY_NOT_FOUND"
        # What Apollo's link sends next: the hash with the document. It is not registered.
        for body in ({"query": UNLISTED, **unknown}, {"query": UNLISTED}):
            refused = await http.post("/graphql", json=body)
            assert refused.status_code == 403
            assert code_of(refused) == "OPERATION_NOT_TRUSTED"
        refused = await http.get("/graphql", params={"query": UNLISTED})
        assert code_of(refused) == "OPERATION_NOT_TRUSTED"
        assert code_of(await http.post("/graphql", json=unknown)) == "PERSISTED_QUERY_NOT_FOUND"


@pytest.mark.parametrize(
    "content",
    [
        "not json",
        json.dumps([operation(LISTED)]),
        json.dumps(manifest(operation(LISTED), format="relay")),
        json.dumps(manifest(operation(LISTED), version=2)),
        json.dumps(manifest(operation(LISTED, id=sha(UNLISTED)))),  # the id is another's hash
        json.dumps(manifest(operation(LISTED, id=sha(LISTED).upper()))),
        json.dumps(manifest(operation(LISTED, body=None))),
        json.dumps(manifest(operation(LISTED, type="fragment"))),
        json.dumps(manifest(operation(LISTED, name=None))),
        json.dumps(manifest(operations={})),
    ],
)
def test_a_malformed_manifest_refuses_the_start(
    settings: Settings, tmp_path: Path, content: str
) -> None:
    path = tmp_path / "manifest.json"
    path.write_text(content)
    with pytest.raises(ManifestError):
        create_app(trusting(settings, path), store=SQLiteStore(settings.sqlite_path))


def test_a_missing_manifest_refuses_the_start(settings: Settings, tmp_path: Path) -> None:
    with pytest.raises(ManifestError, match="cannot read"):
        create_app(trusting(settings, tmp_path / "absent.json"))


def test_the_settings_read_both_switches(tmp_path: Path) -> None:
    environ = {"TIMELINE_ENV": "local", "TIMELINE_VAR_DIR": str(tmp_path)}
    assert load_settings(environ).persisted_queries == PersistedQuerySettings()
    chosen = load_settings(
        {
            **environ,
            "TIMELINE_PERSISTED_QUERIES": "0",
            "TIMELINE_TRUSTED_DOCUMENTS": str(tmp_path / "m.json"),
        }
    ).persisted_queries
    assert chosen == PersistedQuerySettings(enabled=False, trusted_documents=tmp_path / "m.json")
