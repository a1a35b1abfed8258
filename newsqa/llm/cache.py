"""On-disk response cache (SQLite, WAL): a repeated request costs no model call.

The key is a SHA-256 of everything that shapes the answer: endpoint, model,
messages, response format (schema included), token cap and temperature. The API key
is never part of the key nor stored. Safe across threads and processes.

The cache is an optimisation: a damaged file (a corrupt page) or a full disk under it
is reported once, as a warning naming the file, and the run goes on without it.
"""

from __future__ import annotations

import errno
import hashlib
import json
import logging
import sqlite3
import threading
import time
from pathlib import Path
from typing import Any

from newsqa.errors import ConfigError
from newsqa.sqlite_files import connect, use_wal

__all__ = ["ResponseCache", "cache_key"]

_log = logging.getLogger(__name__)

_SCHEMA = """
CREATE TABLE IF NOT EXISTS responses (
    key TEXT PRIMARY KEY,
    text TEXT NOT NULL,
    finish_reason TEXT,
    prompt_tokens INTEGER NOT NULL,
    completion_tokens INTEGER NOT NULL,
    created REAL NOT NULL
)
"""
_COLUMNS = ["key", "text", "finish_reason", "prompt_tokens", "completion_tokens", "created"]


def cache_key(base_url: str, request: dict[str, Any]) -> str:
    """Stable key of one chat request sent to ``base_url``."""
    payload = json.dumps({"base_url": base_url, **request}, sort_keys=True, ensure_ascii=False)
    return hashlib.sha256(payload.encode()).hexdigest()


_DISK_ERRNOS = {errno.ENOSPC, errno.EIO, errno.EFBIG, getattr(errno, "EDQUOT", errno.ENOSPC)}
_DAMAGE = ("malformed", "disk is full", "disk i/o error")


def _damage(error: BaseException) -> bool:
    """Whether ``error`` is the file failing (a corrupt page, a full disk, an I/O
    error) rather than a mistake to report (another kind of file, a lock held)."""
    if isinstance(error, OSError):
        return error.errno in _DISK_ERRNOS
    return isinstance(error, sqlite3.DatabaseError) and any(
        words in str(error).lower() for words in _DAMAGE
    )


class ResponseCache:
    """A SQLite file of completed responses.

    Args:
        path: the database file (created with its folder).

    Raises:
        ConfigError: ``path`` is another kind of file, or stays locked by another
            process for :data:`newsqa.sqlite_files.BUSY_SECONDS`.
    """

    def __init__(self, path: str | Path) -> None:
        self.path = path = Path(path)
        self.usable = True
        """False once the file failed (damaged, disk full): then nothing is read or
        stored."""
        path.parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()
        try:
            self._db = connect(path)
        except sqlite3.Error as e:
            raise ConfigError(f"{path}: cannot open the response cache ({e})") from e
        try:
            self._check()  # before anything is written: never change another kind of file
            use_wal(self._db)
            # No fsync per stored reply (3.8 ms each, under the lock every thread needs):
            # with WAL this stays consistent and survives a crashed process; a power loss
            # can only forget the last replies, which are then asked again.
            self._db.execute("PRAGMA synchronous=NORMAL")
            self._db.execute(_SCHEMA)
        except (sqlite3.DatabaseError, OSError) as e:
            if _damage(e):
                self._give_up(e)
                return
            self._db.close()
            raise ConfigError(f"{path}: not a usable response cache ({e})") from e

    def _give_up(self, error: BaseException) -> None:
        """Stop using the file, saying so once."""
        if self.usable:
            self.usable = False
            _log.warning(
                "newsqa: warning: the response cache %s failed (%s); going on without it "
                "(delete the file to start a new one)",
                self.path,
                error,
            )

    def _check(self) -> None:
        """Raise unless the file is empty or holds exactly the ``responses`` table."""
        tables = {
            r[0] for r in self._db.execute("SELECT name FROM sqlite_master WHERE type='table'")
        }
        columns = [r[1] for r in self._db.execute("PRAGMA table_info(responses)")]
        if tables - {"responses"} or (tables and columns != _COLUMNS):
            raise sqlite3.DatabaseError("it holds other tables or columns; choose another file")

    def get(self, key: str) -> tuple[str, str | None, int, int] | None:
        """The cached ``(text, finish_reason, prompt_tokens, completion_tokens)``
        (``None`` also once the file failed)."""
        with self._lock:
            if not self.usable:
                return None
            try:
                row = self._db.execute(
                    "SELECT text, finish_reason, prompt_tokens, completion_tokens "
                    "FROM responses WHERE key = ?",
                    (key,),
                ).fetchone()
            except (sqlite3.DatabaseError, OSError) as e:
                if not _damage(e):
                    raise
                self._give_up(e)
                return None
        return None if row is None else (row[0], row[1], int(row[2]), int(row[3]))

    def put(
        self,
        key: str,
        text: str,
        finish_reason: str | None,
        prompt_tokens: int,
        completion_tokens: int,
    ) -> None:
        """Store one response (the last writer wins; nothing once the file failed)."""
        with self._lock:
            if not self.usable:
                return
            try:
                self._db.execute(
                    "INSERT OR REPLACE INTO responses VALUES (?, ?, ?, ?, ?, ?)",
                    (key, text, finish_reason, prompt_tokens, completion_tokens, time.time()),
                )
            except (sqlite3.DatabaseError, OSError) as e:
                if not _damage(e):
                    raise
                self._give_up(e)

    def __len__(self) -> int:
        with self._lock:
            return int(self._db.execute("SELECT COUNT(*) FROM responses").fetchone()[0])

    def close(self) -> None:
        """Close the database."""
        with self._lock:
            self._db.close()
