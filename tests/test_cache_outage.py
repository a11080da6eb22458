"""Redis down: the app answers from the store, says so in its logs (once, not per
request), and never fails a request because the cache is unreachable."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from resolvers.node_ids import to_global_id
from settings import Settings
from store import models
from store.port import Store
from tests.test_cache import FOLLOW, profile, sign_up, with_cache
from tests.utils.accounts import UPDATE_PROFILE, call
from tests.utils.clients import app_client
from tests.utils.draining import drain
from tests.utils.processes import free_port
from tests.utils.redis_server import RedisServer


def cache_warnings(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [
        record.getMessage()
        for record in caplog.records
        if record.name == "timeline.cache" and record.levelno == logging.WARNING
    ]


async def test_a_redis_where_nothing_listens_serves_everything_from_the_store(
    settings: Settings, store: Store, caplog: pytest.LogCaptureFixture
) -> None:
    nowhere = with_cache(settings, "redis", f"redis://127.0.0.1:{free_port()}/0")
    with caplog.at_level(logging.WARNING, logger="timeline.cache"):
        async with app_client(nowhere, store) as http:
            alice = await sign_up(http, nowhere, "alice")
            for name in ("A", "B", "C"):
                await call(http, UPDATE_PROFILE, {"input": {"displayName": name}}, alice)
                assert (await profile(http, "alice"))["displayName"] == name
    [warning] = cache_warnings(caplog)  # one, however many requests met the outage
    assert "redis cache unreachable" in warning
    assert "serving from the store" in warning


async def test_a_redis_stopped_mid_test_costs_round_trips_not_answers(
    settings: Settings, store: Store, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    server = RedisServer(tmp_path)
    server.start()
    try:
        cached = with_cache(settings, "redis", server.url)
        async with app_client(cached, store) as http:
            alice = await sign_up(http, cached, "alice")
            bob = await sign_up(http, cached, "bob")
            await drain(http)
            await profile(http, "alice")
            before = store.round_trips
            await profile(http, "alice")
            assert store.round_trips == before  # served by Redis

            server.stop()
            with caplog.at_level(logging.WARNING, logger="timeline.cache"):
                alice_id = to_global_id(models.USER, models.user_key("id-alice"))
                body = await call(http, FOLLOW, {"i": {"userId": alice_id}}, bob)
                assert body["data"]["follow"]["errors"] == []
                await call(http, UPDATE_PROFILE, {"input": {"displayName": "Al"}}, alice)
                await drain(http)  # the follow's count is folded by a task
                before = store.round_trips
                seen = await profile(http, "alice")
                assert store.round_trips > before  # from the store now
                assert (seen["displayName"], seen["followerCount"]) == ("Al", 1)
    finally:
        server.stop()
    assert len(cache_warnings(caplog)) == 1
