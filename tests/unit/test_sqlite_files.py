"""SQLite files shared by threads and processes (the corpus and the response cache):
a concurrent creator's lock is waited out, a lock held too long or a file of another
kind is a clear error."""

from __future__ import annotations

import itertools
import sqlite3
import time
from pathlib import Path
from typing import Any, ClassVar

import pytest

from newsqa import ConfigError, DocumentError
from newsqa.llm.cache import ResponseCache
from newsqa.retrieval.sqlite_index import SQLiteIndex
from newsqa.sqlite_files import BUSY_SECONDS, connect, use_wal


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
    with pytest.raises(DocumentError, match="locked too long; try again when it is done") as caught:
        SQLiteIndex(tmp_path / "corpus.sqlite")
    assert (caught.value.reason, caught.value.source) == ("busy", str(tmp_path / "corpus.sqlite"))
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


class _RecordedAttempts(sqlite3.Connection):
    """A connection whose switch to WAL always fails with ``error``, recording when each
    attempt was made."""

    error: sqlite3.Error = sqlite3.OperationalError("database is locked")
    attempts: ClassVar[list[float]] = []

    def execute(self, sql: str, *args: Any) -> sqlite3.Cursor:
        if sql == "PRAGMA journal_mode=WAL":
            type(self).attempts.append(time.monotonic())
            raise type(self).error
        return super().execute(sql, *args)


def _recorded(path: Path, error: sqlite3.Error) -> sqlite3.Connection:
    _RecordedAttempts.error = error
    _RecordedAttempts.attempts = []
    return sqlite3.connect(path, isolation_level=None, factory=_RecordedAttempts)


def test_a_connection_waits_busy_seconds_for_another_writer(tmp_path: Path) -> None:
    db = connect(tmp_path / "any.sqlite")
    waits_ms = db.execute("PRAGMA busy_timeout").fetchone()[0]
    db.close()
    assert waits_ms == BUSY_SECONDS * 1000


def test_a_locked_switch_to_wal_is_tried_again_at_short_random_intervals(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("newsqa.sqlite_files.BUSY_SECONDS", 1.0)
    db = _recorded(tmp_path / "any.sqlite", sqlite3.OperationalError("database is locked"))
    with pytest.raises(sqlite3.OperationalError, match="locked"):
        use_wal(db)
    db.close()
    times = _RecordedAttempts.attempts
    gaps = [later - earlier for earlier, later in itertools.pairwise(times)]
    # waits of 10 to 100 ms: no busy loop on the file, yet many tries within the time
    assert len(gaps) >= 4
    assert all(0.009 <= gap < 0.5 for gap in gaps), gaps
    assert times[-1] - times[0] < 3


def test_a_switch_to_wal_failing_for_another_reason_is_not_tried_again(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("newsqa.sqlite_files.BUSY_SECONDS", 0.3)
    db = _recorded(tmp_path / "any.sqlite", sqlite3.OperationalError("disk I/O error"))
    with pytest.raises(sqlite3.OperationalError, match="disk I/O error"):
        use_wal(db)
    db.close()
    assert len(_RecordedAttempts.attempts) == 1


def test_a_corpus_in_a_new_nested_folder_creates_its_folders(tmp_path: Path) -> None:
    path = tmp_path / "a" / "b" / "corpus.sqlite"
    SQLiteIndex(path).close()
    assert path.is_file()


def _other_format(path: Path) -> None:
    SQLiteIndex(path).close()
    with sqlite3.connect(path) as db:
        db.execute("UPDATE meta SET value = 'newsqa-corpus-0' WHERE key = 'format'")
    db.close()


@pytest.mark.parametrize(
    ("make", "create", "message", "reason"),
    [
        (lambda p: None, False, "no such corpus; build it with `newsqa index`", "not_found"),
        (lambda p: p.mkdir(), True, r"cannot open \(unable to open database file\)", "format"),
        (lambda p: p.write_bytes(b"notes\n" * 1000), True, r"not a newsqa corpus \(", "format"),
        (
            lambda p: sqlite3.connect(p).execute("CREATE TABLE t (a)").connection.commit(),
            True,
            r"not a newsqa corpus \(it holds other tables\); choose another file",
            "format",
        ),
        (_other_format, True, "corpus format 'newsqa-corpus-0' is not supported", "format"),
    ],
    ids=["missing", "a folder", "text file", "other tables", "other format"],
)
def test_a_corpus_that_cannot_be_used_names_its_file_and_why(
    tmp_path: Path, make: Any, create: bool, message: str, reason: str
) -> None:
    path = tmp_path / "corpus.sqlite"
    make(path)
    with pytest.raises(DocumentError, match=message) as caught:
        SQLiteIndex(path, create=create)
    assert str(caught.value).startswith(f"{path}: ")
    assert (caught.value.reason, caught.value.source) == (reason, str(path))


@pytest.mark.parametrize(
    "table",
    ["CREATE TABLE responses (a)", "CREATE TABLE users (key, text)"],
    ids=["other responses", "other table"],
)
def test_a_response_cache_on_another_database_says_to_choose_another_file(
    tmp_path: Path, table: str
) -> None:
    path = tmp_path / "cache.sqlite"
    with sqlite3.connect(path) as db:
        db.execute(table)
    db.close()
    with pytest.raises(
        ConfigError, match=r"\(it holds other tables or columns; choose another file\)"
    ):
        ResponseCache(path)


def test_a_response_cache_on_a_folder_is_a_config_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="cannot open the response cache"):
        ResponseCache(tmp_path)
