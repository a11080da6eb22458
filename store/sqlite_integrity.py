"""Start-up integrity of the embedded store's file: a store that held data is never
silently made again.

SQLite opens a missing or empty file as a new, empty database. So a lost, emptied
or damaged `var/timeline.db` would start healthy with nobody's data in it (and,
with demo data on, be seeded over). The store therefore keeps a marker beside its
file (`timeline.db.marker`, JSON), written once the schema exists. At start:

    no marker, no file or an empty one   a brand-new store: made, then marked
    no marker, a file with data          a store from before markers: checked, marked
    marker, file missing or empty        refused
    marker, file truncated or corrupt    refused (header checks, then integrity_check,
                                         or quick_check on large files)

A refusal is a StoreFileDamaged naming the file, the cause and what to do.
"""

from __future__ import annotations

import json
import logging
import os
import sqlite3
import urllib.parse
from dataclasses import dataclass
from pathlib import Path

from clock import Clock
from store.errors import StoreFileDamaged

log = logging.getLogger("timeline.store")

# integrity_check reads every page and index; quick_check skips the index checks.
FULL_CHECK_BELOW_BYTES = 64 * 1024 * 1024
_MAGIC = b"SQLite format 3\x00"
_HEADER_BYTES = 100
_PROBLEMS_SHOWN = 5
_BUSY_CODES = {sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED}


@dataclass(frozen=True)
class StoreFile:
    path: Path
    is_new: bool  # it never held data, so it may be made (and demo data seeded)


def marker_path(path: Path) -> Path:
    return path.with_name(path.name + ".marker")


def check_store_file(path: Path) -> StoreFile:
    """Whether `path` is a new store or a sound existing one; StoreFileDamaged if
    neither. Call before the file is opened: opening it would make it anew."""
    marker = marker_path(path)
    held_data = marker.exists()
    if not path.exists() or path.stat().st_size == 0:
        if not held_data:
            return StoreFile(path, is_new=True)
        cause = "is missing" if not path.exists() else "is empty (0 bytes)"
        raise _refusal(path, cause)
    problem = _damage(path)
    if problem is not None:
        raise _refusal(path, problem)
    return StoreFile(path, is_new=False)


def mark_store_file(path: Path, *, is_new: bool, clock: Clock) -> None:
    """Write the marker once the file has its schema (never rewrite one), stamped
    with the app's clock."""
    marker = marker_path(path)
    if marker.exists():
        return
    now = clock().isoformat()
    content = {
        "file": path.name,
        "created_at": now if is_new else None,  # unknown for a store from before markers
        "marked_at": now,
        "note": "The store beside this file held data: if that file is missing, empty or "
        "damaged the server refuses to start instead of making a new one.",
    }
    # Per process: two processes making one store at once (uvicorn --workers) both mark it.
    partial = marker.with_name(f"{marker.name}.{os.getpid()}.partial")
    partial.write_text(json.dumps(content, indent=2) + "\n")
    os.replace(partial, marker)


def _damage(path: Path) -> str | None:
    """What is wrong with a non-empty store file, or None."""
    size = path.stat().st_size
    with path.open("rb") as file:
        header = file.read(_HEADER_BYTES)
    if len(header) < _HEADER_BYTES:
        return f"is truncated: {size} bytes, shorter than a SQLite header"
    if not header.startswith(_MAGIC):
        return "is not a SQLite database (its first bytes are not a SQLite header)"
    page_size = int.from_bytes(header[16:18], "big")
    page_size = 65536 if page_size == 1 else page_size
    if page_size < 512 or size % page_size:
        return f"is truncated: {size} bytes is not a whole number of {page_size}-byte pages"
    pages = int.from_bytes(header[28:32], "big")
    # The header's page count holds when the file was last written whole: its change
    # counter matches, and no write-ahead log holds pages still to be copied back.
    counted = header[92:96] == header[24:28] and not _has_wal(path)
    if counted and pages * page_size > size:
        return f"is truncated: its header counts {pages} pages, the file holds {size // page_size}"
    return _integrity_problems(path, size)


def _has_wal(path: Path) -> bool:
    wal = path.with_name(path.name + "-wal")
    return wal.exists() and wal.stat().st_size > 0


def _integrity_problems(path: Path, size: int) -> str | None:
    pragma = "integrity_check" if size < FULL_CHECK_BELOW_BYTES else "quick_check"
    # mode=rw: never create the file; the check only reads.
    uri = f"file:{urllib.parse.quote(str(path.resolve()))}?mode=rw"
    try:
        conn = sqlite3.connect(uri, uri=True, timeout=10)
        try:
            rows = conn.execute(f"PRAGMA {pragma}({_PROBLEMS_SHOWN})").fetchall()
        finally:
            conn.close()
    except sqlite3.Error as error:
        if (getattr(error, "sqlite_errorcode", 0) or 0) & 0xFF in _BUSY_CODES:
            return None  # another process is busy with it: the process lock will say so
        unreadable = getattr(error, "sqlite_errorname", type(error).__name__)
        return f"is corrupt: {pragma} could not read it ({unreadable}: {error})"
    problems = [str(row[0]) for row in rows]
    if problems == ["ok"]:
        return None
    return f"is corrupt ({pragma}): " + "; ".join(problems)


def _refusal(path: Path, cause: str) -> StoreFileDamaged:
    refusal = StoreFileDamaged(_explanation(path, cause))
    log.critical("%s", refusal)
    return refusal


def _explanation(path: Path, cause: str) -> str:
    marker = marker_path(path)
    if marker.exists():
        held = f"Its marker {marker} says it held data{_created(marker)}, so it is not made again."
        start_over = f"delete both {path} and {marker}"
    else:
        held = "It holds data, so it is not made again."
        start_over = f"delete {path}"
    return (
        f"refusing to start: the embedded store {path} {cause}. {held} "
        f"Restore {path} from a backup (or move it aside to inspect it), then start again; "
        f"to start over with an empty store on purpose, {start_over}."
    )


def _created(marker: Path) -> str:
    try:
        created = json.loads(marker.read_text()).get("created_at")
    except (OSError, ValueError, AttributeError):
        return ""
    return f" (created {created})" if created else ""
