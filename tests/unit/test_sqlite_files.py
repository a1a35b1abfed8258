"""SQLite files shared by threads and processes (the corpus and the response cache):
a concurrent creator's lock is waited out, a lock held too long or a file of another
kind is a clear error."""

from __future__ import annotations

import sqlite3
import time
from pathlib import Path
from typing import Any

import pytest

from newsqa import ConfigError, DocumentError
from newsqa.llm.cache import ResponseCache
from newsqa.retrieval.sqlite_index import SQLiteIndex


class _LockedAtFirst(sqlite3.Connection):
    """A connection whose switch to WAL finds the file locked the first ``fails`` times,
    as SQLite reports it (at once, without a busy wait) when a concurrent creator holds
    a lock the switch could deadlock with."""

    fails = 2

    def execute(self, sql: str, *args: Any) -> sqlite3.Cursor:
        if sql == "PRAGMA journal_mode=WAL" and type(self).fails > 0:
            type(self).fails -= 1
            raise sqlite3.OperationalError("database is locked")
        return super().execute(sql, *args)


def _connect_locked(monkeypatch: pytest.MonkeyPatch, fails: int) -> None:
    connect = sqlite3.connect
    _LockedAtFirst.fails = fails
    monkeypatch.setattr(
        "newsqa.sqlite_files.sqlite3.connect",
        lambda *a, **k: connect(*a, **k, factory=_LockedAtFirst),
    )


def test_a_new_corpus_waits_out_a_concurrent_creator_locking_the_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _connect_locked(monkeypatch, fails=3)
    index = SQLiteIndex(tmp_path / "corpus.sqlite")
    mode = index._db.execute("PRAGMA journal_mode").fetchone()[0]
    index.close()
    assert (mode, _LockedAtFirst.fails) == ("wal", 0)


def test_a_corpus_locked_for_too_long_is_reported_busy_not_foreign(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _connect_locked(monkeypatch, fails=10**9)
    monkeypatch.setattr("newsqa.sqlite_files.BUSY_SECONDS", 0.3)
    started = time.monotonic()
    with pytest.raises(DocumentError, match="locked too long") as caught:
        SQLiteIndex(tmp_path / "corpus.sqlite")
    assert caught.value.reason == "busy"
    assert _LockedAtFirst.fails < 10**9 - 1  # it tried again before giving up
    assert time.monotonic() - started < 5


def test_a_new_response_cache_waits_out_a_concurrent_creator_locking_the_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _connect_locked(monkeypatch, fails=3)
    cache = ResponseCache(str(tmp_path / "cache.sqlite"))  # a str path works as a Path
    cache.put("k", "reply", "stop", 3, 1)
    mode = cache._db.execute("PRAGMA journal_mode").fetchone()[0]
    assert (mode, _LockedAtFirst.fails, cache.get("k")) == ("wal", 0, ("reply", "stop", 3, 1))
    cache.close()


def test_a_response_cache_locked_for_too_long_is_a_config_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _connect_locked(monkeypatch, fails=10**9)
    monkeypatch.setattr("newsqa.sqlite_files.BUSY_SECONDS", 0.3)
    with pytest.raises(ConfigError, match=r"not a usable response cache.*locked"):
        ResponseCache(tmp_path / "cache.sqlite")


@pytest.mark.parametrize(
    "make",
    [
        lambda p: p.write_bytes(b"these are notes, not a database\n" * 200),
        lambda p: sqlite3.connect(p).execute("CREATE TABLE responses (a)").connection.commit(),
        lambda p: sqlite3.connect(p).execute("CREATE TABLE users (a)").connection.commit(),
    ],
    ids=["text file", "other responses", "other table"],
)
def test_a_response_cache_on_a_file_of_another_kind_is_a_config_error_and_left_alone(
    tmp_path: Path, make: Any
) -> None:
    path = tmp_path / "cache.sqlite"
    make(path)
    before = path.read_bytes()
    with pytest.raises(ConfigError, match="not a usable response cache"):
        ResponseCache(path)
    assert path.read_bytes() == before
