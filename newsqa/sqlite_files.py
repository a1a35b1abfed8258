"""SQLite files shared by threads and processes: one way to open them and turn on WAL.

A connection waits up to :data:`BUSY_SECONDS` for another writer. Switching a file to
WAL needs it to itself, and SQLite answers "locked" at once (no busy wait) when
another connection holds a lock the switch could deadlock with, so the switch is
tried again, at random short intervals, for as long.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

from tenacity import Retrying, retry_if_exception, stop_after_delay, wait_random

__all__ = ["BUSY_SECONDS", "connect", "locked", "use_wal"]

BUSY_SECONDS = 30
"""How long a connection waits for another thread's or process's write."""


def locked(error: BaseException) -> bool:
    """Whether ``error`` is SQLite giving up on a lock another connection holds."""
    return isinstance(error, sqlite3.OperationalError) and "locked" in str(error)


def connect(path: Path) -> sqlite3.Connection:
    """A connection in autocommit mode, usable from any thread, that waits for locks."""
    return sqlite3.connect(
        path, timeout=BUSY_SECONDS, isolation_level=None, check_same_thread=False
    )


def use_wal(db: sqlite3.Connection) -> None:
    """Switch ``db`` to WAL (readers never wait for a writer), waiting out other
    connections that hold the file."""
    for attempt in Retrying(
        retry=retry_if_exception(locked),
        stop=stop_after_delay(BUSY_SECONDS),
        wait=wait_random(0.01, 0.1),
        reraise=True,
    ):
        with attempt:
            db.execute("PRAGMA journal_mode=WAL")
