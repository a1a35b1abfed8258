"""The PostgreSQL corpus on a real, throwaway cluster: a URL opens a database (never a
folder), the same hits and documents as the SQLite corpus, as-of dates, idempotent
concurrent indexing, and clear refusals."""

from __future__ import annotations

import datetime as dt
import json
import re
import threading
from pathlib import Path
from typing import Any

import pytest

from newsqa import Corpus, DocumentError, document_from_text, load_document
from newsqa.cli import main
from newsqa.retrieval import Retriever, postgres_index
from newsqa.types import Document
from tests.conftest import SEED
from tests.support.fake_openai import FakeOpenAI, Reply, schema_reply

psycopg = pytest.importorskip("psycopg", reason="needs the postgres extra: psycopg")

DATA = Path(__file__).resolve().parent.parent / "data"


def _docs(seed: Document) -> list[Document]:
    return [seed, load_document(DATA / "fisheries.txt"), load_document(DATA / "injection.txt")]


def _stored(url: str) -> int:
    """How many documents the database itself holds."""
    with psycopg.connect(url) as conn:
        row = conn.execute("SELECT count(*) FROM newsqa_documents").fetchone()
    assert row is not None
    return int(row[0])


def test_a_url_opens_a_postgres_corpus_and_no_folder(
    postgres_url: str, seed: Document, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    with Corpus(postgres_url) as corpus:
        stats = corpus.add(_docs(seed))
        assert (stats.added, len(corpus)) == (3, 3)
        assert isinstance(corpus, Retriever)
    assert list(tmp_path.iterdir()) == []  # no `postgresql:` folder, no SQLite file
    with psycopg.connect(postgres_url) as conn:
        assert conn.execute("SELECT count(*) FROM newsqa_documents").fetchone() == (3,)


def test_the_word_statistics_list_the_10000_most_common_words(
    postgres_url: str, seed: Document
) -> None:
    """ANALYZE keeps the frequencies of 10,000 words (not PostgreSQL's 1,000), so a
    search counts by scanning only rarer ones; the statistics exist after an add."""
    with Corpus(postgres_url) as corpus:
        corpus.add(_docs(seed))
    with psycopg.connect(postgres_url) as conn:
        target = conn.execute(
            "SELECT attstattarget FROM pg_attribute WHERE attrelid = "
            "'newsqa_passages'::regclass AND attname = 'tsv'"
        ).fetchone()
        listed = conn.execute(
            "SELECT array_length(most_common_elems, 1) FROM pg_stats "
            "WHERE tablename = 'newsqa_passages' AND attname = 'tsv'"
        ).fetchone()
    assert target == (1000,)
    assert listed is not None and listed[0] > 100  # analyzed: the seed's words are listed


def _holding(url: str, word: str) -> int:
    """How many passages hold ``word``, counted by the database itself."""
    with psycopg.connect(url) as conn:
        row = conn.execute(
            "SELECT count(*) FROM newsqa_passages WHERE tsv @@ plainto_tsquery('english', %s)",
            (word,),
        ).fetchone()
    assert row is not None
    return int(row[0])


def _statements(index: Any, monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Every SQL statement ``index`` sends from now on, in order."""
    sent: list[str] = []
    execute = index._db.execute

    def spy(sql: str, *args: Any, **kwargs: Any) -> Any:
        sent.append(sql)
        return execute(sql, *args, **kwargs)

    monkeypatch.setattr(index._db, "execute", spy)
    return sent


def test_word_statistics_are_read_once_per_analyze(
    postgres_url: str, seed: Document, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A search reads the 10,000-word statistics only when ANALYZE has run since the
    last read, and its word counts follow the fresh ones."""
    with Corpus(postgres_url) as corpus:
        corpus.add(_docs(seed))
        index: Any = corpus.index
        sent = _statements(index, monkeypatch)
        corpus.search("How much military aid has the U.S. committed to Ukraine?", 3)
        corpus.search("Ukraine talks on grain quotas", 3)
        assert sum("pg_stats" in sql for sql in sent) == 1
        assert index._counts(["ukraine"]) == {"ukraine": _holding(postgres_url, "ukraine")}
        other = [
            document_from_text(f"Harbour {n} reopened. Ferries sailed again.", id=f"h{n}")
            for n in range(40)
        ]
        corpus.add(other)  # more passages, none about Ukraine: its share falls
        corpus.search("Ukraine talks on grain quotas", 3)
        assert sum("pg_stats" in sql for sql in sent) == 2
        assert index._counts(["ukraine"]) == {"ukraine": _holding(postgres_url, "ukraine")}


def test_searches_are_not_jit_compiled(postgres_url: str) -> None:
    """A search's plan can cost enough for the server to JIT-compile it, which takes
    longer than running it: the corpus's connection turns JIT off."""
    with Corpus(postgres_url) as corpus:
        index: Any = corpus.index
        assert index._db.execute("SHOW jit").fetchone() == ("off",)


def _two_topics() -> list[Document]:
    """60 articles about ferries and 60 about tractors: no passage holds both words."""
    return [
        document_from_text(f"{what} {n} were seen in the {place}.", id=f"{what[0]}{n}")
        for n in range(60)
        for what, place in (("Ferries", "harbour"), ("Tractors", "field"))
    ]


def test_an_add_analyzes_again_only_past_a_tenth_of_the_passages_counted(
    postgres_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """ANALYZE samples every month's partition, so an add runs it only when it wrote
    more than a tenth of the passages the statistics last counted (or none were)."""
    with Corpus(postgres_url) as corpus:
        sent = _statements(corpus.index, monkeypatch)

        def analyzed(docs: list[Document]) -> bool:
            sent.clear()
            corpus.add(docs)
            return any(sql.startswith("ANALYZE") for sql in sent)

        assert analyzed(_two_topics())  # 120 passages, none counted before
        assert not analyzed([document_from_text("Ferries at dawn.", id="one")])  # 1 of 120
        assert not analyzed(_two_topics())  # unchanged: nothing written
        barges = [document_from_text(f"Barges {n} sailed.", id=f"b{n}") for n in range(25)]
        assert not analyzed(barges[:12])  # 12 of 120: not more than a tenth
        assert analyzed(barges[12:])  # 13 of 120


def test_a_word_in_many_passages_is_scanned_for_a_rare_one_looked_up(
    postgres_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """When no passage holds every word, the rarest is looked up in the GIN index,
    unless it is in more than sqrt(budget x passages) passages: then the table is
    read until the budget is filled, which finds the same best passages."""
    with Corpus(postgres_url) as corpus:
        corpus.add([*_two_topics(), document_from_text("Ferries and a rowing boat.", id="rare")])
        index: Any = corpus.index
        monkeypatch.setattr(postgres_index, "ROW_BUDGET", 4)  # 61 > sqrt(4 x 121)
        counts = index._counts(["ferries", "tractors", "rowing"])
        assert counts == {w: _holding(postgres_url, w) for w in counts}  # listed: not capped
        statements = _statements(index, monkeypatch)
        hits = corpus.search("tractors ferries", 3)
        assert len(hits) == 3 and all("Tractors" in h.text for h in hits)  # the rarer
        assert any("enable_bitmapscan = off" in sql for sql in statements)
        statements.clear()
        monkeypatch.setattr(postgres_index, "ROW_BUDGET", 40)  # 61 < sqrt(40 x 122)
        corpus.search("tractors ferries", 3)
        assert not any("enable_bitmapscan" in sql for sql in statements)
        monkeypatch.setattr(postgres_index, "ROW_BUDGET", 1000)
        words, weights = ["ferries", "rowing"], [1.0, 4.0]
        looked_up = index._ranked(words, weights, "OR", 5, "", [], scan=False)
        scanned = index._ranked(words, weights, "OR", 5, "", [], scan=True)
        assert scanned == looked_up and looked_up[0][0] == "rare"


def test_hits_and_documents_match_the_sqlite_corpus(
    postgres_url: str, seed: Document, tmp_path: Path
) -> None:
    question = "How much military aid has the U.S. committed to Ukraine?"
    with Corpus(postgres_url) as pg, Corpus(tmp_path / "c.sqlite") as lite:
        for corpus in (pg, lite):
            corpus.add(_docs(seed))
        assert pg.ids() == lite.ids() and _stored(postgres_url) == 3
        for doc_id in pg.ids():
            assert pg.document(doc_id) == lite.document(doc_id)
        hits = pg.search(question, 3)
        assert hits and hits[0].doc_id == seed.id
        assert any("64.1 billion" in h.text for h in hits)
        for hit in hits:
            doc = pg.document(hit.doc_id)
            assert doc.text[hit.start : hit.end] == hit.text
            assert doc.sentence(hit.sentence_ids[0]).start == hit.start
            assert doc.sentence(hit.sentence_ids[-1]).end == hit.end
            assert (hit.title, hit.date) == (doc.title, doc.date)
        with pytest.raises(KeyError, match="nope"):
            pg.document("nope")


def test_date_bounds_leave_out_other_days_and_undated_articles(
    postgres_url: str, seed: Document
) -> None:
    undated = document_from_text("Ukraine talks on grain quotas resumed.", id="undated")
    with Corpus(postgres_url) as corpus:
        corpus.add([*_docs(seed), undated])
        query = "Ukraine talks quota grain"
        assert "undated" in {h.doc_id for h in corpus.search(query, 20)}
        early = corpus.search(query, 10, until=dt.date(2024, 10, 31))
        assert {h.doc_id for h in early} == {"fisheries"}
        late = corpus.search(query, 10, since=dt.date(2024, 11, 9))
        assert {h.doc_id for h in late} == {"injection"}
        both = corpus.search(query, 10, since=dt.date(2024, 11, 1), until=dt.date(2024, 11, 8))
        assert {h.doc_id for h in both} == {SEED.stem}
        assert corpus.undated() == 1 and _stored(postgres_url) == 4


def test_passages_are_kept_by_month_and_an_as_of_search_reads_no_later_month(
    postgres_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Each passage lands in its document's month (undated ones apart), months are made
    as documents need them, also by another writer, and a search until a date plans no
    partition after it."""
    docs = [
        document_from_text(f"Grain talks resumed, report {n}.", id=f"m{n}", date=date)
        for n, date in enumerate(["2024-01-15", "2024-02-29", "2024-03-01", "9999-12-31"], 1)
    ]
    undated = document_from_text("Grain talks resumed without a date.", id="u")
    with Corpus(postgres_url) as corpus:
        corpus.add(docs[:2])
    with Corpus(postgres_url) as corpus:  # another writer, which made none of the months
        assert corpus.add([*docs, undated]).added == 3
        with psycopg.connect(postgres_url) as conn:
            placed = set(
                conn.execute("SELECT tableoid::regclass::text, doc_id FROM newsqa_passages")
            )
        assert placed == {
            ("newsqa_passages_2024_01", "m1"),
            ("newsqa_passages_2024_02", "m2"),
            ("newsqa_passages_2024_03", "m3"),
            ("newsqa_passages_9999_12", "m4"),
            ("newsqa_passages_undated", "u"),
        }
        index: Any = corpus.index
        sent: list[tuple[str, Any]] = []
        execute = index._db.execute

        def spy(sql: str, params: Any = None, **kwargs: Any) -> Any:
            sent.append((sql, params))
            return execute(sql, params, **kwargs)

        monkeypatch.setattr(index._db, "execute", spy)
        hits = corpus.search("grain talks report", 10, until=dt.date(2024, 2, 29))
        assert {h.doc_id for h in hits} == {"m1", "m2"}
        searches = [(sql, params) for sql, params in sent if "newsqa_passages p" in sql]
        assert searches
        for sql, params in searches:
            plan = "\n".join(r[0] for r in execute("EXPLAIN " + sql, params))
            assert "2024_01" in plan and "2024_02" in plan
            assert "2024_03" not in plan and "9999_12" not in plan and "undated" not in plan


def test_passages_holding_every_word_come_first(postgres_url: str) -> None:
    """AND before OR: the one passage with both words outranks many that repeat one."""
    noise = [
        document_from_text(f"Grain grain grain prices rose {i}.", id=f"n{i}") for i in range(30)
    ]
    both = document_from_text("The Danube corridor carried grain again.", id="both")
    with Corpus(postgres_url) as corpus:
        corpus.add([*noise, both])
        hits = corpus.search("grain Danube", 5)
        assert hits[0].doc_id == "both"
        assert len(hits) == 5  # topped up from the OR of the words
        assert corpus.search("of the and", 5) == corpus.search("", 5) == []


def test_a_rare_word_outweighs_a_common_one(postgres_url: str) -> None:
    """No passage holds both words: the one with the rare word ranks above those that
    repeat the common one (inverse document frequency, as BM25 weighs them)."""
    common = [
        document_from_text(f"Grain grain grain prices rose again {i}.", id=f"g{i}")
        for i in range(30)
    ]
    rare = document_from_text("Barges returned to the Danube corridor.", id="rare")
    with Corpus(postgres_url) as corpus:
        corpus.add([*common, rare])
        hits = corpus.search("grain Danube", 3)
        assert hits[0].doc_id == "rare"
        assert hits[0].score > hits[1].score


def test_reindexing_skips_unchanged_replaces_changed_and_prunes(
    postgres_url: str, seed: Document
) -> None:
    other = document_from_text("Kyiv said no.", id="other", date="2024-01-01")
    with Corpus(postgres_url) as corpus:
        first = corpus.add([seed, other])
        assert (first.added, first.unchanged) == (2, 0)
        edited = document_from_text("Kyiv said yes.", id="other", date="2024-01-01")
        moved = seed.model_copy(update={"source": "elsewhere.txt"})
        again = corpus.add([moved, edited], on_done=lambda d, o: None)
        assert (again.added, again.replaced, again.unchanged) == (0, 1, 1)
        assert corpus.document("other").text == "Kyiv said yes."
        assert corpus.document(seed.id).source == "elsewhere.txt"
        assert corpus.search("yes Kyiv", 3)[0].doc_id == "other"
        pruned = corpus.add([seed.model_copy(update={"source": "elsewhere.txt"})], prune=True)
        assert (pruned.unchanged, pruned.pruned) == (1, 1)
        assert corpus.ids() == {seed.id} and _stored(postgres_url) == 1
        assert "other" not in {h.doc_id for h in corpus.search("Kyiv yes", 10)}
        with pytest.raises(DocumentError, match="share the id"):
            corpus.add([other, other])


def test_concurrent_indexers_store_each_document_once(postgres_url: str) -> None:
    docs = [
        document_from_text(
            f"Report {i} on the grain deal. It was signed.",
            id=f"d{i}",
            date=f"2024-{i % 12 + 1:02d}-01",
        )
        for i in range(400)
    ]
    Corpus(postgres_url).close()  # created once; the writers race on the documents and months
    outcomes: list[int] = []
    errors: list[BaseException] = []

    def index(part: list[Document]) -> None:
        try:
            with Corpus(postgres_url) as corpus:
                outcomes.append(corpus.add(part).added)
        except BaseException as e:  # pragma: no cover - reported below
            errors.append(e)

    parts = (docs, docs[::-1], docs[200:] + docs[:200])  # every writer has every document
    threads = [threading.Thread(target=index, args=(part,)) for part in parts]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert sum(outcomes) == len(docs)
    with psycopg.connect(postgres_url) as conn:
        assert conn.execute("SELECT count(*) FROM newsqa_documents").fetchone() == (400,)
        passages = conn.execute(
            "SELECT count(DISTINCT (doc_id, first_sid)) = count(*) FROM newsqa_passages"
        ).fetchone()
        assert passages == (True,)


def test_a_database_of_something_else_is_refused_and_left_alone(postgres_url: str) -> None:
    with psycopg.connect(postgres_url, autocommit=True) as conn:
        conn.execute("CREATE TABLE invoices (id int)")
    with pytest.raises(DocumentError, match=r"not a newsqa corpus.*invoices") as info:
        Corpus(postgres_url)
    assert info.value.reason == "format"
    with psycopg.connect(postgres_url) as conn:
        tables = conn.execute("SELECT tablename FROM pg_tables WHERE schemaname='public'")
        assert [r[0] for r in tables] == ["invoices"]


def test_another_corpus_format_and_a_missing_corpus_are_refused(postgres_url: str) -> None:
    with pytest.raises(DocumentError, match="no newsqa corpus") as info:
        Corpus(postgres_url, create=False)
    assert info.value.reason == "not_found"
    Corpus(postgres_url).close()
    with psycopg.connect(postgres_url, autocommit=True) as conn:
        conn.execute("UPDATE newsqa_meta SET value = 'newsqa-pg-corpus-9' WHERE key = 'format'")
    with pytest.raises(DocumentError, match=r"'newsqa-pg-corpus-9' is not .*a new database"):
        Corpus(postgres_url)


def test_an_unreachable_server_is_a_clear_error_without_the_password(tmp_path: Path) -> None:
    url = f"postgresql://reader:s3cret@/news?host={tmp_path}/nosocket"
    with pytest.raises(DocumentError, match="cannot reach the database") as info:
        Corpus(url)
    assert info.value.reason == "unreachable" and "s3cret" not in str(info.value)
    assert list(tmp_path.iterdir()) == []


def test_another_url_scheme_is_refused_not_made_a_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    with pytest.raises(DocumentError, match="mysql:// is not a corpus engine"):
        Corpus("mysql://localhost/news")
    assert list(tmp_path.iterdir()) == []


def test_the_cli_indexes_asks_and_draws_a_timeline_on_postgres(
    postgres_url: str,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.chdir(tmp_path)
    assert main(["index", str(SEED), str(DATA), "--db", postgres_url, "-q"]) == 0
    out = capsys.readouterr().out
    assert "3 added" in out and "3 documents" in out
    assert list(tmp_path.iterdir()) == []
    model = ["--model", "fake", "-q", "--no-cache", "--json"]

    def cite_the_figure(request: dict[str, Any]) -> Reply:
        found = re.search(r"\[(\d+)\][^\n]*64\.1 billion", request["messages"][-1]["content"])
        assert found, "the figure's passage was retrieved"
        return Reply.json({"sentences": [int(found[1])], "answer": "64.1 billion dollars"})

    with FakeOpenAI([], responder=cite_the_figure) as server:
        question = "How much military aid has the U.S. committed to Ukraine?"
        ask = ["ask", "-Q", question, "--db", postgres_url, "--until", "2024-11-08"]
        assert main([*ask, "--base-url", server.base_url, *model]) == 0
    answer = json.loads(capsys.readouterr().out)
    assert answer["answer"] == "64.1 billion dollars"
    assert answer["citations"] and answer["citations"][0]["doc"] == SEED.stem
    with FakeOpenAI([], responder=schema_reply) as server:
        timeline = ["timeline", "--db", postgres_url, "--until", "2024-11-08"]
        assert main([*timeline, "--base-url", server.base_url, *model]) == 0
    points = json.loads(capsys.readouterr().out)["actors"]
    assert points and all(p["date"] <= "2024-11-08" for ps in points.values() for p in ps)
    assert main(["ask", "-Q", "Who?", "--db", postgres_url.replace("/t_", "/absent_")]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "cannot reach the database" in err[0]
