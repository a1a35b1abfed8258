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


def _reference(index: SQLiteIndex, query: str, k: int, until: dt.date | None) -> list[str]:
    """Ranking of the full OR query joined with every document (the former search)."""
    sql = (
        "SELECT p.doc_id || ':' || p.first_sid FROM passages p JOIN documents d "
        "ON d.id = p.doc_id WHERE passages MATCH ?"
    )
    params: list[object] = [fts_query(query)]
    if until is not None:
        sql += " AND d.date IS NOT NULL AND d.date <= ?"
        params.append(until.isoformat())
    rows = index._db.execute(sql + " ORDER BY bm25(passages) LIMIT ?", [*params, k])
    return [r[0] for r in rows]


def _many(tmp_path: Path) -> SQLiteIndex:
    idx = SQLiteIndex(tmp_path / "many.sqlite")
    docs = [
        document_from_text(
            f"Talks on the grain corridor resumed in round {i}. Talks stalled again.",
            id=f"feb{i}",
            date="2024-02-10",
        )
        for i in range(60)
    ]
    docs.append(
        document_from_text(
            "Officials from many ministries met on the first day of January to discuss "
            "budgets, ports, tariffs and, briefly, the corridor.",
            id="jan",
            date="2024-01-05",
        )
    )
    idx.add(docs)
    return idx


def test_ranking_only_the_best_matches_keeps_the_date_filtered_order(tmp_path: Path) -> None:
    idx = _many(tmp_path)
    # the one January passage ranks below 60 February ones: found once the dates apply
    hits = idx.search("talks on the grain corridor", 1, until=dt.date(2024, 1, 31))
    assert [h.doc_id for h in hits] == ["jan"]
    assert idx.search("talks on the grain corridor", 5, since=dt.date(2024, 3, 1)) == []
    for query, k, until in [
        ("talks on the grain corridor", 3, None),
        ("grain corridor round", 7, dt.date(2024, 2, 28)),
        ("ports tariffs corridor", 2, dt.date(2024, 1, 31)),
    ]:
        got = [f"{h.doc_id}:{h.sentence_ids[0]}" for h in idx.search(query, k, until=until)]
        assert got == _reference(idx, query, k, until)


def test_common_words_are_left_out_when_over_the_row_budget(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from newsqa.retrieval import sqlite_index

    idx = _many(tmp_path)
    assert idx._match("talks tariffs corridor zebra") == '"talks" OR "tariffs" OR "corridor"'
    monkeypatch.setattr(sqlite_index, "ROW_BUDGET", 10)
    monkeypatch.setattr(sqlite_index, "MIN_TERMS", 1)
    # "talks" and "corridor" are in (nearly) every passage: only the rare word is scored
    assert idx._match("talks tariffs corridor zebra") == '"tariffs"'
    assert [h.doc_id for h in idx.search("talks tariffs corridor", 3)] == ["jan"]
    # every word over the budget: counted in full, the rarest is kept (not the first)
    assert idx._match("corridor talks") == '"talks"'
    monkeypatch.setattr(sqlite_index, "MIN_TERMS", 2)
    assert idx._match("talks tariffs corridor") == '"talks" OR "tariffs"'
    assert idx._match("zebra unicorn") is None
    assert idx.search("zebra unicorn", 3) == []
