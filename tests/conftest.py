"""Fixtures: the real app in process, over each store adapter.

`store` is parametrised over the embedded SQLite adapter and the Datastore adapter
(against the official emulator), so every test that takes it runs on both.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from settings import Settings
from store.datastore import DatastoreStore
from store.port import Store
from store.sqlite import SQLiteStore
from tests.utils import firebase_sign_in, schedule_oracle
from tests.utils.clients import app_client
from tests.utils.crash_server import CrashSite, crash_site
from tests.utils.datastore_emulator import PROJECT_ID, DatastoreEmulator
from tests.utils.fcm_stub import FcmStub, serving_fcm
from tests.utils.pubsub_emulator import PubSubEmulator
from tests.utils.redis_server import RedisServer
from tests.utils.storage_emulator import StorageEmulator

STORE_KINDS = ["sqlite", "datastore"]

# Google's cron schedule parser (the SDK's googlecron, given pytz) as a fixture for
# every module that compares against it.
groc = schedule_oracle.groc
# Firebase sign-ins through the real verifier, for the modules that sign in so.
firebase_key = firebase_sign_in.firebase_key
firebase_certs = firebase_sign_in.firebase_certs
firebase_client = firebase_sign_in.firebase_client


_EMULATOR_FIXTURES = {
    "datastore_emulator",
    "eventual_datastore_emulator",
    "storage_emulator",
    "pubsub_emulator",
}


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Marks what needs an emulator, so `make test-fast` (-m "not datastore") can
    leave it out: the `store` fixture's Datastore half, and the emulator fixtures."""
    for item in items:
        callspec = getattr(item, "callspec", None)
        uses_emulator = _EMULATOR_FIXTURES.intersection(getattr(item, "fixturenames", ()))
        if uses_emulator or (callspec is not None and callspec.params.get("store") == "datastore"):
            item.add_marker(pytest.mark.datastore)


@pytest.fixture(scope="session")
def datastore_emulator(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DatastoreEmulator]:
    emulator = DatastoreEmulator(tmp_path_factory.mktemp("emulator"))
    yield emulator
    emulator.stop()


@pytest.fixture(scope="session")
def eventual_datastore_emulator(
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[DatastoreEmulator]:
    """Global queries see a write only now and then, as on legacy Datastore."""
    emulator = DatastoreEmulator(tmp_path_factory.mktemp("eventual"), consistency=0.05)
    yield emulator
    emulator.stop()


@pytest.fixture(scope="session")
def storage_emulator(tmp_path_factory: pytest.TempPathFactory) -> Iterator[StorageEmulator]:
    """Cloud Storage (gcp-storage-emulator); each test makes its own bucket."""
    emulator = StorageEmulator(tmp_path_factory.mktemp("storage"))
    yield emulator
    emulator.stop()


@pytest.fixture(scope="session")
def pubsub_emulator(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PubSubEmulator]:
    """Pub/Sub (the Cloud SDK's emulator); each test makes its own topic."""
    emulator = PubSubEmulator(tmp_path_factory.mktemp("pubsub"))
    yield emulator
    emulator.stop()


def make_test_store(kind: str, request: pytest.FixtureRequest, tmp_path: Path) -> Store:
    if kind == "sqlite":
        return SQLiteStore(tmp_path / "timeline.db")
    emulator: DatastoreEmulator = request.getfixturevalue("datastore_emulator")
    emulator.reset()
    return DatastoreStore(PROJECT_ID, client=emulator.client())


@pytest.fixture(params=STORE_KINDS)
async def store(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Store]:
    instance = make_test_store(request.param, request, tmp_path)
    yield instance
    await instance.close()


@pytest.fixture
async def crash(
    store: Store, request: pytest.FixtureRequest, tmp_path: Path
) -> AsyncIterator[CrashSite]:
    """The store and a queue file, shared with servers in subprocesses that the test
    starts and kills (SIGKILL) at crash points (tests/utils/crash_server.py)."""
    async with crash_site(store, request, tmp_path) as site:
        yield site


@pytest.fixture
def fcm() -> Iterator[FcmStub]:
    """The FCM stub (tests/utils/fcm_stub.py); no request to it may be malformed."""
    with serving_fcm("demo-timeline") as stub:
        yield stub
        assert stub.problems == []


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    # Local mode (dev tokens, GraphiQL, introspection), as `make run` serves it.
    return Settings(
        environment="local",
        var_dir=tmp_path,
        sqlite_path=tmp_path / "timeline.db",
        secret_key=b"test-secret-" * 4,
    )


@pytest.fixture
async def client(store: Store, settings: Settings) -> AsyncIterator[httpx.AsyncClient]:
    async with app_client(settings, store) as http:
        yield http


async def graphql(
    http: httpx.AsyncClient, query: str, variables: dict[str, Any] | None = None
) -> dict[str, Any]:
    response = await http.post("/graphql", json={"query": query, "variables": variables or {}})
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


@pytest.fixture(scope="session")
def redis_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RedisServer]:
    """One redis-server for the session; tests that stop it start their own."""
    server = RedisServer(tmp_path_factory.mktemp("redis"))
    server.start()
    yield server
    server.stop()


@pytest.fixture
def redis_url(redis_server: RedisServer) -> str:
    redis_server.flush()
    return redis_server.url
