"""Unexpected failures reach clients as an error id only; the log keeps the rest."""

from __future__ import annotations

import logging

import httpx
import pytest

from store import models
from store.port import Store
from tests.conftest import graphql
from tests.utils.builders import BASE_TIME


async def test_a_bug_is_masked_for_the_client_and_logged_with_its_id(
    client: httpx.AsyncClient, store: Store, caplog: pytest.LogCaptureFixture
) -> None:
    orphan = models.Photo("ghost", "p1", "no owner", BASE_TIME)
    await store.put_many([models.photo_to_entity(orphan)])
    with caplog.at_level(logging.ERROR, logger="timeline.errors"):
        body = await graphql(client, "{ photos { edges { node { caption owner { id } } } } }")
    [error] = body["errors"]
    assert error["message"] == "Internal server error."
    assert error["extensions"]["code"] == "INTERNAL_SERVER_ERROR"
    error_id = error["extensions"]["errorId"]
    assert "ghost" not in str(body)
    [record] = [r for r in caplog.records if error_id in r.getMessage()]
    assert record.exc_info is not None
    assert "has no owner" in str(record.exc_info[1])
