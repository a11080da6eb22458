"""The local mail adapter: every e-mail becomes a row in the embedded SQLite file.

Nothing leaves the machine. Each row holds the message as SMTP would carry it
(mail/mime.py: headers, the text part and the HTML part), so what you read is
what an inbox would get:

    python -m mail.outbox              # the 20 most recent e-mails, one line each
    python -m mail.outbox --limit 5
    python -m mail.outbox --show 12    # e-mail #12 in full (headers, text)
    python -m mail.outbox --html 12    # e-mail #12's HTML part, to open in a browser

The table (`mail_outbox`) lives beside the store's, the queue's and the push
outbox's in `var/timeline.db`, reached through the file's one access layer
(store/sqlite_db.py): recording an e-mail is one job on its single writer.
"""

from __future__ import annotations

import argparse
import sqlite3
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from email import message_from_string
from email.message import EmailMessage
from email.policy import default
from pathlib import Path
from typing import Any

from clock import Clock, system_clock
from mail.mime import mime_message
from mail.port import SENT, MailMessage, MailResult
from settings.mail import LOCAL_SENDER
from store.sqlite_db import SQLiteDatabase, shared_database

_SCHEMA = """
CREATE TABLE IF NOT EXISTS mail_outbox (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    sent_at TEXT NOT NULL,
    recipient TEXT NOT NULL,
    subject TEXT NOT NULL,
    message TEXT NOT NULL
);
"""


@dataclass(frozen=True)
class OutboxMail:
    id: int
    sent_at: datetime
    to: str
    subject: str
    raw: str  # the RFC 5322 message

    @property
    def message(self) -> EmailMessage:
        parsed = message_from_string(self.raw, policy=default)
        assert isinstance(parsed, EmailMessage)
        return parsed

    def part(self, subtype: str) -> str:
        body = self.message.get_body(preferencelist=(subtype,))
        assert isinstance(body, EmailMessage), f"no {subtype} part"
        return str(body.get_content()).replace("\r\n", "\n")  # SMTP's CRLF, for reading

    @property
    def text(self) -> str:
        return self.part("plain")

    @property
    def html(self) -> str:
        return self.part("html")


class MailOutbox:
    def __init__(
        self,
        file: Path | str | SQLiteDatabase,
        *,
        sender: str = LOCAL_SENDER,
        clock: Clock = system_clock,
    ) -> None:
        self._clock = clock
        self._db = file if isinstance(file, SQLiteDatabase) else shared_database(file)
        self.path = self._db.path
        self._sender = sender
        self._db.ensure_schema(_SCHEMA)

    async def send(self, message: MailMessage) -> MailResult:
        raw = mime_message(self._sender, message).as_string()
        row = (self._clock().isoformat(), message.to, message.subject, raw)
        await self._db.write(
            lambda conn: conn.execute(
                "INSERT INTO mail_outbox (sent_at, recipient, subject, message) "
                "VALUES (?, ?, ?, ?)",
                row,
            )
        )
        return SENT

    async def recent(self, limit: int = 20) -> list[OutboxMail]:
        """The most recent e-mails, newest first."""
        return _mails(await self._db.read(lambda conn: _select(conn, limit, None)))

    def recent_blocking(self, limit: int = 20, *, only: int | None = None) -> list[OutboxMail]:
        return _mails(self._db.read_blocking(lambda conn: _select(conn, limit, only)))

    async def close(self) -> None:
        self._db.close()

    def close_blocking(self) -> None:
        self._db.close()


def _select(conn: sqlite3.Connection, limit: int, only: int | None) -> list[Any]:
    where, args = ("WHERE id = ?", (only, limit)) if only is not None else ("", (limit,))
    return conn.execute(
        f"SELECT id, sent_at, recipient, subject, message FROM mail_outbox {where} "
        "ORDER BY id DESC LIMIT ?",
        args,
    ).fetchall()


def _mails(rows: list[Any]) -> list[OutboxMail]:
    return [OutboxMail(r[0], datetime.fromisoformat(r[1]), r[2], r[3], r[4]) for r in rows]


def _describe(mail: OutboxMail) -> str:
    when = mail.sent_at.strftime("%Y-%m-%d %H:%M:%S")
    return f"#{mail.id} {when} to {mail.to}: {mail.subject}"


def _in_full(mail: OutboxMail) -> str:
    headers = "\n".join(f"{name}: {value}" for name, value in mail.message.items())
    return f"{headers}\n\n{mail.text}"


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m mail.outbox", description="Print the e-mails the local outbox recorded."
    )
    parser.add_argument("--limit", type=int, default=20, help="how many, newest first")
    parser.add_argument("--db", help="the SQLite file (default: TIMELINE_SQLITE_PATH's)")
    shown = parser.add_mutually_exclusive_group()
    shown.add_argument("--show", type=int, metavar="ID", help="one e-mail's headers and text")
    shown.add_argument("--html", type=int, metavar="ID", help="one e-mail's HTML part")
    args = parser.parse_args(argv)
    if args.limit <= 0:
        parser.error("--limit must be positive")
    outbox = MailOutbox(SQLiteDatabase(args.db or _default_path()))
    only = args.show if args.show is not None else args.html
    try:
        mails = outbox.recent_blocking(1 if only is not None else args.limit, only=only)
    finally:
        outbox.close_blocking()
    if only is not None and not mails:
        sys.stderr.write(f"no e-mail #{only} in {outbox.path}\n")
        return 1
    for mail in mails:
        if args.show is not None:
            text = _in_full(mail)
        elif args.html is not None:
            text = mail.html
        else:
            text = _describe(mail)
        sys.stdout.write(text + "\n")
    if not mails:
        sys.stdout.write(f"no e-mails recorded in {outbox.path}\n")
    return 0


def _default_path() -> Path:
    from settings import local_sqlite_path

    return local_sqlite_path()


if __name__ == "__main__":
    raise SystemExit(main())
