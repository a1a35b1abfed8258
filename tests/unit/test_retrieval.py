"""The SQLite corpus on a real database: incremental indexing, dates, hostile queries."""

from __future__ import annotations

import datetime as dt
import threading
from pathlib import Path

import pytest

from newsqa import DocumentError, document_from_text, load_document
from newsqa.retrieval import Retriever, SQLiteIndex
from newsqa.retrieval.sqlite_index import fts_query
from newsqa.types import Document
from tests.conftest import SEED

DATA = Path(__file__).resolve().parent.parent / "data"


@pytest.fixture
def index(tmp_path: Path, seed: Document) -> SQLiteIndex:
    idx = SQLiteIndex(tmp_path / "news.sqlite")
    idx.add([seed, load_document(DATA / "fisheries.txt"), load_document(DATA / "injection.txt")])
    return idx


def test_search_finds_verbatim_passages(index: SQLiteIndex, seed: Document) -> None:
    hits = index.search("How much military aid has the U.S. committed to Ukraine?", 3)
    assert hits and hits[0].doc_id == seed.id
    assert any("64.1 billion" in h.text for h in hits)
    for hit in hits:
        doc = index.document(hit.doc_id)
        assert doc.text[hit.start : hit.end] == hit.text
        assert doc.sentence(hit.sentence_ids[0]).start == hit.start
    assert isinstance(index, Retriever)


def test_stored_documents_round_trip(index: SQLiteIndex, seed: Document) -> None:
    assert index.document(seed.id) == seed
    with pytest.raises(KeyError):
        index.document("nope")


def test_date_filters_exclude_later_and_earlier_articles(index: SQLiteIndex) -> None:
    early = index.search("Ukraine talks quota grain", 10, until=dt.date(2024, 10, 31))
    assert {h.doc_id for h in early} == {"fisheries"}
    late = index.search("Ukraine talks quota grain", 10, since=dt.date(2024, 11, 9))
    assert {h.doc_id for h in late} == {"injection"}
    both = index.search(
        "Ukraine talks quota grain", 10, since=dt.date(2024, 11, 1), until=dt.date(2024, 11, 8)
    )
    assert {h.doc_id for h in both} == {SEED.stem}


def test_reindexing_is_incremental(tmp_path: Path, seed: Document) -> None:
    idx = SQLiteIndex(tmp_path / "c.sqlite")
    other = document_from_text("Kyiv said no.", id="other", date="2024-01-01")
    first = idx.add([seed, other])
    assert (first.added, first.unchanged) == (2, 0)
    again = idx.add([seed, other])
    assert (again.added, again.replaced, again.unchanged) == (0, 0, 2)
    changed = document_from_text("Kyiv said yes.", id="other", date="2024-01-01")
    third = idx.add([changed])
    assert third.replaced == 1
    assert idx.search("yes", 5)[0].text == "Kyiv said yes."
    assert all(h.text != "Kyiv said no." for h in idx.search("Kyiv said", 5))
    pruned = idx.add([changed], prune=True)
    assert pruned.pruned == 1 and idx.ids() == {"other"}


@pytest.mark.parametrize(
    "query",
    [
        '"unbalanced',
        "Ukraine AND NOT",
        "NEAR(aid Ukraine, 2)",
        "aid*",
        "title:aid",
        "(((",
        "OR OR OR",
        "-aid",
        "^Ukraine",
        '"" AND ""',
        "aid) OR (1=1",
        "'; DROP TABLE documents; --",
        "",
        "   ",
        "?!",
        "Ukrainian NEAR/2 President",
        "{aid}",
        "ü*ñ",
    ],
)
def test_hostile_queries_never_crash_or_change_meaning(index: SQLiteIndex, query: str) -> None:
    hits = index.search(query, 5)
    assert isinstance(hits, list)
    match = fts_query(query)
    if match is not None:
        assert all(part.startswith('"') and part.endswith('"') for part in match.split(" OR "))
    assert len(index) == 3  # nothing was dropped


def test_operators_are_plain_words() -> None:
    assert fts_query("aid AND Ukraine") == '"aid" OR "ukraine"'
    assert fts_query('"peace talks" NEAR Kyiv*') == '"peace" OR "talks" OR "near" OR "kyiv"'


def test_missing_or_corrupt_database_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(DocumentError, match="no such corpus"):
        SQLiteIndex(tmp_path / "absent.sqlite", create=False)
    bad = tmp_path / "bad.sqlite"
    bad.write_bytes(b"this is not a database" * 100)
    with pytest.raises(DocumentError, match="not a newsqa corpus"):
        SQLiteIndex(bad)


def test_readers_keep_working_while_another_connection_indexes(
    tmp_path: Path, seed: Document
) -> None:
    path = tmp_path / "c.sqlite"
    SQLiteIndex(path).add([seed])
    writer = SQLiteIndex(path)
    reader = SQLiteIndex(path, create=False)
    errors: list[BaseException] = []
    counts: list[int] = []

    def write() -> None:
        try:
            for i in range(60):
                writer.add([document_from_text(f"Talks in round {i} failed.", id=f"r{i}")])
        except BaseException as e:  # pragma: no cover - reported below
            errors.append(e)

    thread = threading.Thread(target=write)
    thread.start()
    while thread.is_alive():
        counts.append(len(reader.search("Ukraine aid", 3)))
    thread.join()
    assert not errors
    assert counts and all(c > 0 for c in counts)
    assert len(reader) == 61
