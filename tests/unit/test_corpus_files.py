"""Corpus files under concurrent use: overlapping writers index every document once; a database
of another application is refused."""

from __future__ import annotations

import sqlite3
import threading
from pathlib import Path

import pytest

from newsqa import (
    DocumentError,
    document_from_text,
)
from newsqa.retrieval.sqlite_index import SQLiteIndex
from newsqa.types import Document


def test_concurrent_writers_on_overlapping_inputs_index_every_document_once(
    tmp_path: Path,
) -> None:
    db = tmp_path / "corpus.sqlite"
    docs = [document_from_text(f"Report {i} on grain and ports.", id=f"r{i}") for i in range(240)]
    shares = [docs[0:120], docs[60:180], docs[120:240], docs[0:240:2]]
    barrier = threading.Barrier(len(shares), timeout=60)
    errors: list[BaseException] = []

    def write(part: list[Document]) -> None:
        try:
            barrier.wait()  # every writer creates the new file at once, then indexes
            index = SQLiteIndex(db)
            index.add(part)
            index.close()
        except BaseException as e:  # collected: the test fails on any
            errors.append(e)
            barrier.abort()  # the others stop waiting, so a failure never hangs the run

    threads = [threading.Thread(target=write, args=(part,), daemon=True) for part in shares]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert errors == []
    assert not any(t.is_alive() for t in threads)
    index = SQLiteIndex(db)
    assert index.ids() == {d.id for d in docs}
    rows = index._db.execute("SELECT COUNT(*), COUNT(DISTINCT doc_id) FROM sentences").fetchone()
    index.close()
    assert rows == (240, 240)


def test_index_refuses_a_database_of_another_application(tmp_path: Path) -> None:
    db = tmp_path / "app.sqlite"
    with sqlite3.connect(db) as con:
        con.execute("CREATE TABLE users (name TEXT)")
    con.close()
    with pytest.raises(DocumentError, match="not a newsqa corpus"):
        SQLiteIndex(db)
    with sqlite3.connect(db) as con:
        tables = [r[0] for r in con.execute("SELECT name FROM sqlite_master")]
        mode = con.execute("PRAGMA journal_mode").fetchone()[0]
    con.close()
    assert tables == ["users"] and mode == "delete"


def test_opening_a_foreign_database_read_only_changes_nothing(tmp_path: Path) -> None:
    foreign = tmp_path / "other.sqlite"
    with sqlite3.connect(foreign) as db:
        db.execute("CREATE TABLE t (x)")
    with pytest.raises(DocumentError, match="not a newsqa corpus"):
        SQLiteIndex(foreign, create=False)
    with sqlite3.connect(foreign) as db:
        tables = {r[0] for r in db.execute("SELECT name FROM sqlite_master")}
    assert tables == {"t"}
