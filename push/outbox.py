"""The local push adapter: every push becomes a row in the embedded SQLite file.

Nothing leaves the machine. Each row holds the FCM HTTP v1 message that production
would have sent (push/message.py), so what you inspect is what a phone would get:

    python -m push.outbox              # the 20 most recent pushes
    python -m push.outbox --limit 5
    python -m push.outbox --unregister TOKEN   # from now on, answer as FCM does for
                                               # an uninstalled app: the token is dead

The table (`push_outbox`) lives beside the store's and the queue's tables in
`var/timeline.db`, on a connection of its own.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sqlite3
import sys
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar

from push.message import fcm_message
from push.port import DELIVERED, UNREGISTERED, Platform, PushMessage, PushResult
from store.sqlite_files import open_wal

T = TypeVar("T")

_SCHEMA = """
CREATE TABLE IF NOT EXISTS push_outbox (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    sent_at TEXT NOT NULL,
    platform TEXT NOT NULL,
    token TEXT NOT NULL,
    status TEXT NOT NULL,
    message TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS push_outbox_dead_tokens (token TEXT PRIMARY KEY);
"""


@dataclass(frozen=True)
class OutboxEntry:
    id: int
    sent_at: datetime
    platform: str
    token: str
    status: str
    message: dict[str, Any]  # the FCM message, {"message": {...}}

    @property
    def title(self) -> str:
        return str(self.message["message"]["notification"]["title"])

    @property
    def body(self) -> str:
        return str(self.message["message"]["notification"]["body"])

    @property
    def data(self) -> dict[str, str]:
        return dict(self.message["message"].get("data", {}))


class OutboxPush:
    def __init__(self, path: Path | str) -> None:
        self.path = str(path)
        self._conn: sqlite3.Connection | None = None
        # One statement at a time on the shared connection; SQLite has one writer anyway.
        self._lock = threading.Lock()

    async def send(self, token: str, platform: Platform, message: PushMessage) -> PushResult:
        body = json.dumps(fcm_message(token, platform, message), separators=(",", ":"))
        sent_at = datetime.now(UTC).isoformat()

        def record(conn: sqlite3.Connection) -> bool:
            dead = conn.execute(
                "SELECT 1 FROM push_outbox_dead_tokens WHERE token = ?", (token,)
            ).fetchone()
            status = "unregistered" if dead else "delivered"
            conn.execute(
                "INSERT INTO push_outbox (sent_at, platform, token, status, message) "
                "VALUES (?, ?, ?, ?, ?)",
                (sent_at, platform, token, status, body),
            )
            return dead is None

        delivered = await asyncio.to_thread(self._call, record)
        return DELIVERED if delivered else UNREGISTERED

    async def recent(self, limit: int = 20) -> list[OutboxEntry]:
        """The most recent pushes, newest first."""
        return await asyncio.to_thread(self.recent_blocking, limit)

    def recent_blocking(self, limit: int = 20) -> list[OutboxEntry]:
        rows = self._call(
            lambda conn: conn.execute(
                "SELECT id, sent_at, platform, token, status, message FROM push_outbox "
                "ORDER BY id DESC LIMIT ?",
                (limit,),
            ).fetchall()
        )
        return [
            OutboxEntry(
                row[0], datetime.fromisoformat(row[1]), row[2], row[3], row[4], _json(row[5])
            )
            for row in rows
        ]

    def unregister_blocking(self, token: str) -> None:
        """Make `token` dead, as FCM does once its app is uninstalled."""
        self._call(
            lambda conn: conn.execute(
                "INSERT OR IGNORE INTO push_outbox_dead_tokens (token) VALUES (?)", (token,)
            )
        )

    async def close(self) -> None:
        with self._lock:
            if self._conn is not None:
                self._conn.close()
                self._conn = None

    def _call(self, work: Callable[[sqlite3.Connection], T]) -> T:
        with self._lock:
            conn = self._connection()
            with conn:
                return work(conn)

    def _connection(self) -> sqlite3.Connection:
        if self._conn is None:
            Path(self.path).parent.mkdir(parents=True, exist_ok=True)
            conn = open_wal(self.path, isolation_level="DEFERRED")
            conn.executescript(_SCHEMA)
            self._conn = conn
        return self._conn


def _json(text: str) -> dict[str, Any]:
    value = json.loads(text)
    assert isinstance(value, dict)
    return value


def _describe(entry: OutboxEntry) -> str:
    token = entry.token if len(entry.token) <= 24 else f"{entry.token[:10]}…{entry.token[-10:]}"
    data = " ".join(f"{key}={value}" for key, value in sorted(entry.data.items()))
    when = entry.sent_at.strftime("%Y-%m-%d %H:%M:%S")
    return (
        f"#{entry.id} {when} {entry.platform:<7} {token} [{entry.status}]\n"
        f"    {entry.title}: {entry.body}" + (f"\n    data: {data}" if data else "")
    )


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m push.outbox", description="Print the pushes the local outbox recorded."
    )
    parser.add_argument("--limit", type=int, default=20, help="how many, newest first")
    parser.add_argument("--db", help="the SQLite file (default: TIMELINE_SQLITE_PATH's)")
    parser.add_argument("--json", action="store_true", help="print the FCM messages as JSON")
    parser.add_argument("--unregister", metavar="TOKEN", help="answer 'unregistered' for TOKEN")
    args = parser.parse_args(argv)
    if args.limit <= 0:
        parser.error("--limit must be positive")
    outbox = OutboxPush(args.db or _default_path())
    if args.unregister:
        outbox.unregister_blocking(args.unregister)
        sys.stdout.write("the outbox now answers 'unregistered' for that token\n")
        return 0
    entries = outbox.recent_blocking(args.limit)
    for entry in entries:
        text = json.dumps(entry.message, indent=2) if args.json else _describe(entry)
        sys.stdout.write(text + "\n")
    if not entries:
        sys.stdout.write(f"no pushes recorded in {outbox.path}\n")
    return 0


def _default_path() -> Path:
    from settings import local_sqlite_path

    return local_sqlite_path()


if __name__ == "__main__":
    raise SystemExit(main())
