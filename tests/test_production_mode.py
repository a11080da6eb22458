"""Production fails closed: it is what runs unless local mode is asked for, and it
keeps the schema to itself, sends the security headers, builds URLs from the
configured origin and answers CORS only for the configured web apps."""

from __future__ import annotations

import re
from dataclasses import replace
from pathlib import Path

import pytest

from graphiql import POLICY
from settings import PLACEHOLDER_SECRET, Settings, SettingsError, WebSettings, load_settings
from tests.utils import images
from tests.utils.accounts import bearer, create_profile
from tests.utils.clients import app_client
from tests.utils.uploads import create_photo

HOSTED = {"GOOGLE_CLOUD_PROJECT": "photo-timeline-prod", "TIMELINE_SECRET_KEY": "s" * 40}
INTROSPECTION = "{ __schema { types { name } } }"
TYPO = "{ photoz(first: 1) { edges { cursor } } }"
WEB_APP = "https://app.example.com"


def local(tmp_path: Path, **web: object) -> Settings:
    return Settings(
        environment="local",
        var_dir=tmp_path,
        sqlite_path=tmp_path / "timeline.db",
        secret_key=b"k" * 48,
        web=WebSettings(**web),  # type: ignore[arg-type]
    )


def production(tmp_path: Path, **web: object) -> Settings:
    # Production's own rules, over the embedded adapters the test can run.
    return replace(local(tmp_path, public_origin=None, **web), environment="production")


@pytest.mark.parametrize(
    "platform",
    [
        {},  # a plain VM
        {"K_SERVICE": "timeline"},  # Cloud Run
        {"GAE_ENV": "standard"},  # App Engine
    ],
)
def test_production_unless_local_mode_is_asked_for(platform: dict[str, str]) -> None:
    settings = load_settings({**HOSTED, **platform})
    assert settings.is_production
    assert not settings.auth.dev_tokens
    assert not settings.graphiql
    assert settings.app_engine == ("GAE_ENV" in platform)


def test_local_mode_must_be_asked_for_and_cannot_be_on_a_platform(tmp_path: Path) -> None:
    assert not load_settings(
        {"TIMELINE_ENV": "local", "TIMELINE_VAR_DIR": str(tmp_path)}
    ).is_production
    with pytest.raises(SettingsError, match="TIMELINE_SECRET_KEY must be set in production"):
        load_settings({"TIMELINE_VAR_DIR": str(tmp_path)})
    for marker in ("GAE_ENV", "K_SERVICE"):
        with pytest.raises(SettingsError, match=f"TIMELINE_ENV=local where {marker}"):
            load_settings({**HOSTED, "TIMELINE_ENV": "local", marker: "x"})
    with pytest.raises(SettingsError, match="TIMELINE_ENV must be 'local' or 'production'"):
        load_settings({**HOSTED, "TIMELINE_ENV": "dev"})


@pytest.mark.parametrize(
    ("extra", "names"),
    [
        ({"TIMELINE_DEV_TOKENS": "1"}, "TIMELINE_DEV_TOKENS"),
        ({"TIMELINE_GRAPHIQL": "1"}, "TIMELINE_GRAPHIQL"),
        ({"TIMELINE_DEMO_DATA": "1"}, "TIMELINE_DEMO_DATA"),
        ({"FIREBASE_AUTH_EMULATOR_HOST": "127.0.0.1:9099"}, "FIREBASE_AUTH_EMULATOR_HOST"),
        ({"TIMELINE_SECRET_KEY": ""}, "TIMELINE_SECRET_KEY"),
        ({"TIMELINE_SECRET_KEY": PLACEHOLDER_SECRET}, "TIMELINE_SECRET_KEY is still"),
        ({"TIMELINE_PUBLIC_ORIGIN": "http://timeline.example.com"}, "TIMELINE_PUBLIC_ORIGIN"),
        ({"TIMELINE_CORS_ORIGINS": "https://a.example.com/app"}, "TIMELINE_CORS_ORIGINS"),
    ],
)
def test_production_refuses_dev_only_settings_by_name(extra: dict[str, str], names: str) -> None:
    with pytest.raises(SettingsError, match=names):
        load_settings({**HOSTED, **extra})


def test_web_settings_are_read(tmp_path: Path) -> None:
    assert load_settings({**HOSTED}).web.public_origin is None
    web = load_settings(
        {
            **HOSTED,
            "TIMELINE_PUBLIC_ORIGIN": "https://timeline.example.com/",
            "TIMELINE_CORS_ORIGINS": f"{WEB_APP}, https://admin.example.com",
            "TIMELINE_BODY_TIMEOUT_SECONDS": "30",
        }
    ).web
    assert web.public_origin == "https://timeline.example.com"
    assert web.cors_origins == (WEB_APP, "https://admin.example.com")
    assert web.body_timeout_seconds == 30
    here = load_settings({"TIMELINE_ENV": "local", "TIMELINE_VAR_DIR": str(tmp_path)}).web
    assert (here.public_origin, here.cors_origins) == ("http://127.0.0.1:8080", ())


async def test_production_keeps_the_schema_to_itself(tmp_path: Path) -> None:
    async with app_client(production(tmp_path)) as http:
        body = (await http.post("/graphql", json={"query": INTROSPECTION})).json()
        assert body["errors"][0]["extensions"]["code"] == "GRAPHQL_VALIDATION_FAILED"
        assert "introspection" in body["errors"][0]["message"]
        body = (await http.post("/graphql", json={"query": TYPO})).json()
        assert body["errors"][0]["message"] == "Cannot query field 'photoz' on type 'Query'."
        bad_enum = "{ photos(first: 1) { edges { node { image(size: HUGE) { url } } } } }"
        message = (await http.post("/graphql", json={"query": bad_enum})).json()["errors"][0]
        assert "Did you mean" not in message["message"]
        page = await http.get("/graphql", headers={"accept": "text/html"})
        assert page.status_code == 404
        assert page.json()["errors"][0]["extensions"]["code"] == "NOT_FOUND"
        assert (await http.post("/graphql", json={"query": "{ __typename }"})).json() == {
            "data": {"__typename": "Query"}
        }


async def test_local_mode_shows_the_schema(tmp_path: Path) -> None:
    async with app_client(local(tmp_path)) as http:
        body = (await http.post("/graphql", json={"query": INTROSPECTION})).json()
        assert "errors" not in body
        body = (await http.post("/graphql", json={"query": TYPO})).json()
        assert "Did you mean 'photos'?" in body["errors"][0]["message"]


async def test_security_headers(tmp_path: Path) -> None:
    async with app_client(production(tmp_path)) as http:
        for response in (
            await http.get("/healthz"),
            await http.post("/graphql", json={"query": "{ __typename }"}),
            await http.post(
                "/graphql", content=b"null", headers={"content-type": "application/json"}
            ),
        ):
            assert response.headers["x-content-type-options"] == "nosniff"
            assert response.headers["x-frame-options"] == "DENY"
            assert "frame-ancestors 'none'" in response.headers["content-security-policy"]
            assert response.headers["referrer-policy"] == "no-referrer"
            assert response.headers["strict-transport-security"].startswith("max-age=63072000")
    async with app_client(local(tmp_path)) as http:
        response = await http.get("/healthz")
        assert response.headers["x-content-type-options"] == "nosniff"
        assert "strict-transport-security" not in response.headers


async def test_the_graphiql_page_runs_under_its_csp(tmp_path: Path) -> None:
    async with app_client(local(tmp_path)) as http:
        page = await http.get("/graphql", headers={"accept": "text/html"})
    assert page.status_code == 200
    policy = page.headers["content-security-policy"]
    assert policy == POLICY
    directives = dict(part.strip().split(" ", 1) for part in policy.split(";"))
    assert directives["default-src"] == "'none'"
    assert directives["frame-ancestors"] == "'none'"
    # Every script the page loads is a file from this origin, and none is inline.
    sources = re.findall(r'<script[^>]*\ssrc="([^"]+)"', page.text)
    assert sources
    for src in sources:
        assert src.startswith("/graphiql/assets/")
    assert directives["script-src"] == "'self'"
    assert not re.findall(r"<script>(.*?)</script>", page.text, re.DOTALL)
    assert "'unsafe-inline'" not in directives["script-src"]
    assert directives["connect-src"] == "'self'"


async def test_absolute_urls_come_from_the_configured_origin(tmp_path: Path) -> None:
    settings = local(tmp_path, public_origin="https://photos.example.com")
    async with app_client(settings) as http:
        headers = {**bearer(settings, "alice-uid"), "Host": "evil.example.net"}
        await create_profile(http, headers, username="alice", displayName="Alice")
        payload = await create_photo(http, headers, images.png())
    for size in ("thumbnail", "medium", "large"):
        assert payload["photo"][size].startswith("https://photos.example.com/media/")


async def test_cors_only_for_the_configured_web_apps(tmp_path: Path) -> None:
    preflight = {
        "origin": WEB_APP,
        "access-control-request-method": "POST",
        "access-control-request-headers": "authorization, content-type, apollo-require-preflight, "
        "x-apollo-operation-name",
    }
    async with app_client(production(tmp_path, cors_origins=(WEB_APP,))) as http:
        allowed = await http.options("/graphql", headers=preflight)
        assert allowed.status_code == 200
        assert allowed.headers["access-control-allow-origin"] == WEB_APP
        assert "apollo-require-preflight" in allowed.headers["access-control-allow-headers"]
        other = await http.options(
            "/graphql", headers={**preflight, "origin": "https://evil.example"}
        )
        assert other.status_code == 400
        assert "access-control-allow-origin" not in other.headers
        simple = await http.post(
            "/graphql", json={"query": "{ __typename }"}, headers={"origin": WEB_APP}
        )
        assert simple.headers["access-control-allow-origin"] == WEB_APP
    async with app_client(production(tmp_path)) as http:
        response = await http.post(
            "/graphql", json={"query": "{ __typename }"}, headers={"origin": WEB_APP}
        )
        assert "access-control-allow-origin" not in response.headers
        refused = await http.options("/graphql", headers=preflight)
        assert "access-control-allow-origin" not in refused.headers
