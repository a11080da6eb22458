"""GraphiQL's files come from the app (local mode only): the page names only this
origin, each file it names is served with a year's caching, the licences too, and
nothing else from node_modules. The browser test is tests/e2e/test_graphiql_browser.py."""

from __future__ import annotations

import re
from dataclasses import replace
from pathlib import Path

import httpx
import pytest

from app import create_app
from graphiql.assets import NODE_MODULES
from settings import Settings
from tests.utils.processes import missing_tool


@pytest.fixture
def installed() -> None:
    if not (NODE_MODULES / "graphiql" / "package.json").is_file():
        missing_tool("node_modules is not installed: run `npm ci`")


async def get(settings: Settings, path: str, node_modules: Path = NODE_MODULES) -> httpx.Response:
    app = create_app(settings, node_modules=node_modules)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
        return await http.get(path, headers={"accept": "text/html"})


def named_files(html: str) -> list[str]:
    return re.findall(r'(?:src|href)="([^"]+)"', html)


@pytest.mark.usefixtures("installed")
async def test_the_page_names_only_files_of_this_origin(settings: Settings) -> None:
    page = await get(settings, "/graphql")
    assert page.status_code == 200
    assert "unpkg" not in page.text
    files = [url for url in named_files(page.text) if not url.startswith("data:")]
    assert {re.sub(r"@\d[^/]*/.*", "", url) for url in files} >= {
        "/graphiql/assets/react",
        "/graphiql/assets/react-dom",
        "/graphiql/assets/graphiql",
        "/graphiql/assets/@graphiql/plugin-explorer",
    }
    assert all(url.startswith("/graphiql/assets/") for url in files)


@pytest.mark.usefixtures("installed")
async def test_every_named_file_and_licence_is_served_for_a_year(settings: Settings) -> None:
    page = await get(settings, "/graphql")
    licences = re.search(r"licences: ([^>]*) -->", page.text)
    assert licences is not None
    urls = named_files(page.text)[1:] + licences.group(1).split()  # [0]: the data: favicon
    assert len(licences.group(1).split()) == 6
    for url in urls:
        response = await get(settings, url)
        assert response.status_code == 200, url
        assert response.headers["cache-control"] == "public, max-age=31536000, immutable"
        assert response.headers["x-content-type-options"] == "nosniff"
        kind = response.headers["content-type"]
        if url.endswith(".js"):
            assert kind.startswith("text/javascript"), url
        elif url.endswith(".css"):
            assert kind.startswith("text/css"), url
        else:
            assert kind.startswith("text/plain"), url
            assert "MIT License" in response.text or "Permission is hereby granted" in response.text


@pytest.mark.usefixtures("installed")
async def test_nothing_else_from_node_modules_is_served(settings: Settings) -> None:
    for path in (
        "/graphiql/assets/graphiql@3.9.0/package.json",
        "/graphiql/assets/graphiql@0.0.1/graphiql.min.js",
        "/graphiql/assets/graphiql@3.9.0/../../package-lock.json",
        "/graphiql/assets/%2e%2e/%2e%2e/settings.py",
        "/graphiql/assets/@apollo/client/package.json",
    ):
        assert (await get(settings, path)).status_code == 404, path


async def test_without_node_modules_the_page_says_to_run_npm_ci(
    settings: Settings, tmp_path: Path
) -> None:
    page = await get(settings, "/graphql", node_modules=tmp_path / "node_modules")
    assert page.status_code == 503
    assert "npm ci" in page.text
    assert "<script" not in page.text
    # The API does not need the files.
    app = create_app(settings, node_modules=tmp_path / "node_modules")
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
        answer = await http.post("/graphql", json={"query": "{ __typename }"})
    assert answer.json() == {"data": {"__typename": "Query"}}


@pytest.mark.usefixtures("installed")
async def test_production_serves_neither_the_page_nor_its_files(settings: Settings) -> None:
    production = replace(settings, environment="production", graphiql=False)
    page = await get(settings, "/graphql")
    url = named_files(page.text)[1]
    assert (await get(production, url)).status_code == 404
    assert "graphiql" not in (await get(production, "/graphql")).text.lower()
