"""The local push adapter: every push becomes a row in the embedded SQLite file.

Nothing leaves the machine. Each row holds the FCM HTTP v1 message that production
would have sent (push/message.py), so what you inspect is what a phone would get:

    python -m push.outbox              # the 20 most recent pushes
    python -m push.outbox --limit 5
    python -m push.outbox --unregister TOKEN   # from now on, answer as FCM does for
                                               # an uninstalled app: the token is dead

The table (`push_outbox`) lives beside the store's and the queue's tables in
`var/timeline.db`, reached through the file's one access layer (store/sqlite_db.py):
recording a push is one job on its single writer.
"""

from __future__ import annotations

import argparse
import json
import sqlite3
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from clock import Clock, system_clock
from push.message import fcm_message
from push.port import DELIVERED, UNREGISTERED, Platform, PushMessage, PushResult
from store.sqlite_db import SQLiteDatabase, shared_database

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
    def __init__(self, file: Path | str | SQLiteDatabase, *, clock: Clock = system_clock) -> None:
        self._clock = clock
        self._db = file if isinstance(file, SQLiteDatabase) else shared_database(file)
        self.path = self._db.path
        self._db.ensure_schema(_SCHEMA)

    async def send(self, token: str, platform: Platform, message: PushMessage) -> PushResult:
        body = json.dumps(fcm_message(token, platform, message), separators=(",", ":"))
        sent_at = self._clock().isoformat()

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

        delivered = await self._db.write(record)
        return DELIVERED if delivered else UNREGISTERED

    async def recent(self, limit: int = 20) -> list[OutboxEntry]:
        """The most recent pushes, newest first."""
        return _entries(await self._db.read(lambda conn: _select_recent(conn, limit)))

    def recent_blocking(self, limit: int = 20) -> list[OutboxEntry]:
        return _entries(self._db.read_blocking(lambda conn: _select_recent(conn, limit)))

    def unregister_blocking(self, token: str) -> None:
        """Make `token` dead, as FCM does once its app is uninstalled."""
        self._db.write_blocking(
            lambda conn: conn.execute(
                "INSERT OR IGNORE INTO push_outbox_dead_tokens (token) VALUES (?)", (token,)
            )
        )

    async def close(self) -> None:
        self._db.close()

    def close_blocking(self) -> None:
        self._db.close()


def _select_recent(conn: sqlite3.Connection, limit: int) -> list[Any]:
    return conn.execute(
        "SELECT id, sent_at, platform, token, status, message FROM push_outbox "
        "ORDER BY id DESC LIMIT ?",
        (limit,),
    ).fetchall()


def _entries(rows: list[Any]) -> list[OutboxEntry]:
    return [
        OutboxEntry(row[0], datetime.fromisoformat(row[1]), row[2], row[3], row[4], _json(row[5]))
        for row in rows
    ]


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
    outbox = OutboxPush(SQLiteDatabase(args.db or _default_path()))
    try:
        if args.unregister:
            outbox.unregister_blocking(args.unregister)
            sys.stdout.write("the outbox now answers 'unregistered' for that token\n")
            return 0
        entries = outbox.recent_blocking(args.limit)
    finally:
        outbox.close_blocking()
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
