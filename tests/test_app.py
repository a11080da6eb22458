"""The transport: GraphiQL, health, and the module-level app for uvicorn."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import httpx


async def test_graphiql_is_served_to_browsers(client: httpx.AsyncClient) -> None:
    response = await client.get("/graphql", headers={"Accept": "text/html"})
    assert response.status_code == 200
    assert "graphiql" in response.text.lower()


async def test_queries_over_get_work_for_cdn_friendly_clients(client: httpx.AsyncClient) -> None:
    response = await client.get("/graphql", params={"query": "{ __typename }"})
    assert response.json() == {"data": {"__typename": "Query"}}


async def test_mutations_over_get_are_refused(client: httpx.AsyncClient) -> None:
    response = await client.get("/graphql", params={"query": "mutation { __typename }"})
    assert response.status_code in (400, 405)


async def test_health(client: httpx.AsyncClient) -> None:
    response = await client.get("/healthz")
    assert response.json() == {"status": "ok"}


def test_importing_app_reads_no_environment(tmp_path: Path) -> None:
    # `import app` must not open a store or write var/: uvicorn builds it on access.
    root = Path(__file__).resolve().parents[1]
    code = "import app; import os; print(os.path.exists('var'))"
    out = subprocess.run(
        [sys.executable, "-c", code],
        cwd=tmp_path,
        env={"PYTHONPATH": str(root)},
        capture_output=True,
        text=True,
        check=True,
    )
    assert out.stdout.strip() == "False"
