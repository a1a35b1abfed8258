"""The SQLite corpus on a real database: incremental indexing, dates, hostile queries."""

from __future__ import annotations

import datetime as dt
import json
import sqlite3
import threading
from pathlib import Path

import pytest

from newsqa import DocumentError, document_from_text, load_document, load_documents
from newsqa.retrieval import Retriever, SQLiteIndex
from newsqa.retrieval.sqlite_index import IndexStats, fts_query, query_words
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
    with pytest.raises(KeyError, match="nope"):
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


_SIX = (
    "Ports reopened on Monday. Grain ships left Odesa. Insurers raised premiums. "
    "Ministers met in Ankara. Talks resumed on Friday. Exports rose again."
)


def _windows(index: SQLiteIndex, doc_id: str) -> list[tuple[int, int]]:
    rows = index._db.execute(
        "SELECT first_sid, last_sid FROM passages WHERE doc_id = ? ORDER BY first_sid", (doc_id,)
    )
    return [(int(first), int(last)) for first, last in rows]


def test_passages_are_windows_of_three_sentences_overlapping_by_one(tmp_path: Path) -> None:
    idx = SQLiteIndex(tmp_path / "c.sqlite")
    five = _SIX.rsplit(" ", 3)[0]  # the first five sentences
    idx.add([document_from_text(_SIX, id="six"), document_from_text(five, id="five")])
    assert _windows(idx, "six") == [(1, 3), (3, 5), (5, 6)]
    assert _windows(idx, "five") == [(1, 3), (3, 5)]


def test_a_title_is_searchable_in_the_first_passage_only(tmp_path: Path) -> None:
    idx = SQLiteIndex(tmp_path / "c.sqlite")
    titled = document_from_text(_SIX, id="titled", title="Zebra accord")
    idx.add([titled, document_from_text(_SIX.replace("Odesa", "Izmail"), id="untitled")])
    hits = idx.search("zebra", 5)
    assert [(h.doc_id, h.title, h.sentence_ids) for h in hits] == [
        ("titled", "Zebra accord", (1, 2, 3))
    ]
    assert idx.search("none", 5) == []  # an untitled passage has no title line


def test_hits_span_their_sentence_ids_best_first(index: SQLiteIndex) -> None:
    hits = index.search("Ukraine military aid billion", 8)
    assert len(hits) > 2
    for hit in hits:
        doc = index.document(hit.doc_id)
        ids = hit.sentence_ids
        assert ids == tuple(range(ids[0], ids[0] + len(ids)))
        assert (doc.sentence(ids[0]).start, doc.sentence(ids[-1]).end) == (hit.start, hit.end)
    scores = [h.score for h in hits]
    assert all(score > 0 for score in scores) and scores == sorted(scores, reverse=True)


def test_search_returns_eight_hits_unless_told_otherwise(tmp_path: Path) -> None:
    idx = _many(tmp_path)
    assert len(idx.search("talks")) == 8
    assert len(idx.search("talks", 12)) == 12


def test_a_query_is_searched_by_its_first_32_distinct_words() -> None:
    words = [f"word{chr(97 + i // 26)}{chr(97 + i % 26)}" for i in range(40)]
    assert query_words(" ".join(words + words)) == words[:32]
    assert fts_query(" ".join(words)) == " OR ".join(f'"{w}"' for w in words[:32])


def test_reindexing_a_jsonl_after_a_line_was_prepended_skips_the_unchanged_records(
    tmp_path: Path,
) -> None:
    feed = tmp_path / "feed.jsonl"
    records = [{"id": f"d{i}", "text": f"Kyiv said {w}."} for i, w in enumerate(["no", "yes"])]
    feed.write_text("".join(json.dumps(r) + "\n" for r in records))
    idx = SQLiteIndex(tmp_path / "c.sqlite")
    assert idx.add(load_documents([feed])) == IndexStats(added=2)
    new = {"id": "d9", "text": "Moscow said maybe."}
    feed.write_text("".join(json.dumps(r) + "\n" for r in [new, *records]))
    assert idx.add(load_documents([feed])) == IndexStats(added=1, unchanged=2)
    assert idx.document("d1").source == f"{feed}:3"  # where it is read now


def test_indexing_reports_what_it_did_per_document_and_in_total(tmp_path: Path) -> None:
    idx = SQLiteIndex(tmp_path / "c.sqlite")
    a, b = (document_from_text(f"Kyiv said {w}.", id=w) for w in ("no", "yes"))
    a2, b2 = (document_from_text(f"Kyiv said {w} again.", id=w) for w in ("no", "yes"))
    done: list[tuple[str, str]] = []

    def on_done(doc: Document, outcome: str) -> None:
        done.append((doc.id, outcome))

    assert idx.add([a, b], on_done=on_done) == IndexStats(added=2)
    assert idx.add([a, b], on_done=on_done) == IndexStats(unchanged=2)
    assert idx.add([a2, b2], on_done=on_done) == IndexStats(replaced=2)
    assert idx.add([a2], prune=True, on_done=on_done) == IndexStats(unchanged=1, pruned=1)
    assert done == [
        ("no", "added"),
        ("yes", "added"),
        ("no", "unchanged"),
        ("yes", "unchanged"),
        ("no", "replaced"),
        ("yes", "replaced"),
        ("no", "unchanged"),
    ]


def test_a_repeated_id_is_a_format_error_naming_the_second_source(tmp_path: Path) -> None:
    idx = SQLiteIndex(tmp_path / "c.sqlite")
    first = document_from_text("Kyiv said no.", id="n", source="a.txt")
    second = document_from_text("Kyiv said yes.", id="n", source="b.txt")
    with pytest.raises(DocumentError, match="two documents share the id 'n'") as caught:
        idx.add([first, second])
    assert (caught.value.reason, caught.value.source) == ("format", "b.txt")


def test_reindexing_unchanged_documents_does_not_wait_for_another_writer(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("newsqa.sqlite_files.BUSY_SECONDS", 0.2)
    path = tmp_path / "c.sqlite"
    idx = SQLiteIndex(path)
    doc = document_from_text("Kyiv said no.", id="n")
    idx.add([doc])
    writer = sqlite3.connect(path, isolation_level=None)
    writer.execute("BEGIN IMMEDIATE")  # holds the write lock
    try:
        assert idx.add([doc]) == IndexStats(unchanged=1)
    finally:
        writer.execute("ROLLBACK")
        writer.close()
        idx.close()


def test_words_are_kept_while_their_passages_add_up_to_the_budget(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from newsqa.retrieval import sqlite_index

    idx = _many(tmp_path)  # "tariffs", "ports" and "budgets" are in one passage each
    monkeypatch.setattr(sqlite_index, "ROW_BUDGET", 2)
    monkeypatch.setattr(sqlite_index, "MIN_TERMS", 1)
    assert idx._match("tariffs ports") == '"tariffs" OR "ports"'  # 2 passages: the budget
    assert idx._match("tariffs ports budgets") == '"tariffs" OR "ports"'


def test_a_date_filtered_search_ranks_again_only_while_the_dates_leave_too_few_hits(
    tmp_path: Path,
) -> None:
    idx = _many(tmp_path)
    statements: list[str] = []
    idx._db.set_trace_callback(statements.append)

    def rounds(query: str, k: int, until: dt.date) -> int:
        statements.clear()
        idx.search(query, k, until=until)
        return sum("order by rank" in s.lower() for s in statements)

    # the first round (the best 32 of 61 matches) holds three February hits: no second one
    assert rounds("talks on the grain corridor", 3, dt.date(2024, 2, 28)) == 1
    # the one January passage ranks last: the next round (fourfold) ranks every match
    assert rounds("talks on the grain corridor", 1, dt.date(2024, 1, 31)) == 2
