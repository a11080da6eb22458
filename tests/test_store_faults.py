"""A full, read-only or broken disk under the embedded store: the real SQLite errors,
what they become (StoreUnavailable, never a TransactionConflict to retry), and what
clients and the log see (UNAVAILABLE with a retry hint; the cause)."""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

import httpx
import pytest

from auth.dev_tokens import key_path_in, mint_dev_token
from store.errors import StoreUnavailable
from store.sqlite_write_txn import translate
from taskqueue.embedded.database import task_database
from taskqueue.embedded.queue import EmbeddedQueue
from taskqueue.port import TaskRequest
from tests.utils.accounts import CREATE_PROFILE, UPDATE_PROFILE, VIEWER
from tests.utils.app_server import AppServer


def table(path: Path) -> sqlite3.Connection:
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("CREATE TABLE IF NOT EXISTS t (x TEXT)")
    return conn


def raised(conn: sqlite3.Connection, sql: str, *params: Any) -> sqlite3.Error:
    with pytest.raises(sqlite3.Error) as caught:
        conn.execute(sql, params)
    return caught.value


def test_a_full_file_is_unavailable(tmp_path: Path) -> None:
    conn = table(tmp_path / "full.db")
    (pages,) = conn.execute("PRAGMA page_count").fetchone()
    conn.execute(f"PRAGMA max_page_count = {pages}")  # SQLite's own SQLITE_FULL
    translated = translate(raised(conn, "INSERT INTO t VALUES (?)", "x" * 100_000))
    assert isinstance(translated, StoreUnavailable)
    assert "full" in str(translated)


def test_a_read_only_file_is_unavailable(tmp_path: Path) -> None:
    table(tmp_path / "ro.db").close()
    # Root ignores file modes; SQLite's own read-only modes are real for everyone.
    read_only = sqlite3.connect(f"file:{tmp_path / 'ro.db'}?mode=ro", uri=True)
    query_only = table(tmp_path / "ro.db")
    query_only.execute("PRAGMA query_only = 1")
    for conn in (read_only, query_only):
        translated = translate(raised(conn, "INSERT INTO t VALUES ('x')"))
        assert isinstance(translated, StoreUnavailable)
        assert "read-only" in str(translated)


def test_a_file_that_is_not_a_database_is_unavailable_and_a_bug_stays_a_bug(
    tmp_path: Path,
) -> None:
    (tmp_path / "junk.db").write_bytes(b"\xab" * 8192)
    junk = sqlite3.connect(tmp_path / "junk.db")
    assert isinstance(translate(raised(junk, "SELECT * FROM sqlite_master")), StoreUnavailable)
    bug = raised(table(tmp_path / "ok.db"), "SELEC 1")
    assert translate(bug) is bug


async def test_the_embedded_queue_on_a_full_file_raises_store_unavailable(
    tmp_path: Path,
) -> None:
    db = task_database(tmp_path / "timeline.db")

    def cap_at_current_size(conn: sqlite3.Connection) -> None:
        (pages,) = conn.execute("PRAGMA page_count").fetchone()
        conn.execute(f"PRAGMA max_page_count = {pages}")

    await db.write(cap_at_current_size)
    request = TaskRequest(queue="default", handler="h", payload=b"x" * 100_000)
    with pytest.raises(StoreUnavailable, match="full"):
        await EmbeddedQueue(db).add(request)
    db.close()


@pytest.mark.slow  # servers in subprocesses
async def test_writes_on_a_full_disk_answer_unavailable_and_reads_go_on(tmp_path: Path) -> None:
    """A real server whose files cannot grow past a limit, as on a disk that filled
    up: every write is refused with a retryable UNAVAILABLE (before, each was retried
    as a transaction conflict, then answered INTERNAL_SERVER_ERROR)."""
    first = AppServer(tmp_path, "setup")  # makes the schema, the marker and the keys
    first.start()
    first.stop()
    limit = (tmp_path / "timeline.db").stat().st_size + 128 * 1024
    server = AppServer(tmp_path, "full", file_size_limit=limit)
    server.start()
    headers = {"Authorization": f"Bearer {mint_dev_token(key_path_in(tmp_path), 'filler')}"}
    try:
        async with httpx.AsyncClient(base_url=server.url, timeout=60) as http:

            async def call(query: str, variables: dict[str, Any]) -> dict[str, Any]:
                response = await http.post(
                    "/graphql", json={"query": query, "variables": variables}, headers=headers
                )
                assert response.status_code in (200, 503), response.text
                body: dict[str, Any] = response.json()
                return body

            profile = {"input": {"username": "filler", "displayName": "F"}}
            assert "errors" not in await call(CREATE_PROFILE, profile)
            refusal: dict[str, Any] | None = None
            for n in range(400):
                body = await call(UPDATE_PROFILE, {"input": {"displayName": f"Filler {n}"}})
                if "errors" in body:
                    refusal = body["errors"][0]
                    break
                assert body["data"]["updateProfile"]["errors"] == []
            read = await call(VIEWER, {})
    finally:
        server.stop()
    assert refusal is not None, "the writes never reached the limit"
    assert refusal["extensions"]["code"] == "UNAVAILABLE", refusal
    assert refusal["extensions"]["retryAfterSeconds"] > 0
    assert read["data"]["viewer"]["user"]["username"] == "filler", "reads still work"
    log = server.log()
    assert "store unavailable" in log
    assert "internal error" not in log
