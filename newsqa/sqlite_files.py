"""SQLite files shared by threads and processes: one way to open them and turn on WAL.

A connection waits up to :data:`BUSY_SECONDS` for another writer. Switching a file to
WAL needs it to itself, and SQLite answers "locked" at once (no busy wait) when
another connection holds a lock the switch could deadlock with, so the switch is
tried again, at random short intervals, for as long.

A file this process cannot write (a read-only mount, an immutable file or folder) is
opened read-only: SQLite cannot create the ``-shm`` file a WAL reader needs there, so
when none exists (no writer has it open) the file is read as immutable.
"""

from __future__ import annotations

import os
import sqlite3
from pathlib import Path

from tenacity import Retrying, retry_if_exception, stop_after_delay, wait_random

__all__ = ["BUSY_SECONDS", "connect", "locked", "use_wal", "writable"]

BUSY_SECONDS = 30
"""How long a connection waits for another thread's or process's write."""


def locked(error: BaseException) -> bool:
    """Whether ``error`` is SQLite giving up on a lock another connection holds."""
    return isinstance(error, sqlite3.OperationalError) and "locked" in str(error)


def writable(path: Path) -> bool:
    """Whether this process may write ``path`` and create files beside it (as SQLite
    does); ``False`` on a read-only mount or for an immutable file, also for root."""
    return os.access(path, os.W_OK) and os.access(path.parent, os.W_OK)


def connect(path: Path, *, read_only: bool = False) -> sqlite3.Connection:
    """A connection in autocommit mode, usable from any thread, that waits for locks;
    ``read_only``: one that never writes (see the module's docstring)."""
    if not read_only:
        return _open(str(path))
    uri = path.resolve().as_uri()
    db = _open(f"{uri}?mode=ro", uri=True)
    try:
        db.execute("SELECT count(*) FROM sqlite_master").fetchone()
        return db
    except sqlite3.OperationalError:
        db.close()
        if Path(f"{path}-wal").exists():  # a writer has it open: nothing to do safely
            raise
    return _open(f"{uri}?immutable=1", uri=True)


def _open(target: str, *, uri: bool = False) -> sqlite3.Connection:
    return sqlite3.connect(
        target, timeout=BUSY_SECONDS, isolation_level=None, check_same_thread=False, uri=uri
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
