"""Regressions for problems found in review: each failed before its fix."""

from __future__ import annotations

import sqlite3
import time
from pathlib import Path

import pytest

from newsqa import DocumentError, document_from_text, load_documents
from newsqa.documents import iter_inputs, split_sentences
from newsqa.grounding import Passage
from newsqa.retrieval import SQLiteIndex
from newsqa.types import Document
from tests.conftest import track


def test_long_punctuation_runs_split_in_linear_time() -> None:
    start = time.perf_counter()
    split_sentences("." * 200_000 + " Then more.")
    assert time.perf_counter() - start < 2.0


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Kyiv said no. Moscow agreed.", ["Kyiv said no.", "Moscow agreed."]),
        ("See No. 5 for details. Done.", ["See No. 5 for details.", "Done."]),
        ("Er sagte nein. Über alles.", ["Er sagte nein.", "Über alles."]),
    ],
)
def test_sentence_boundaries_found_in_review(text: str, expected: list[str]) -> None:
    assert [s.text for s in split_sentences(text)] == expected


def test_documents_with_the_same_id_are_refused(tmp_path: Path) -> None:
    for folder in ("d1", "d2"):
        (tmp_path / folder).mkdir()
        (tmp_path / folder / "a.txt").write_text(f"Text of {folder}.")
    docs = load_documents([tmp_path / "d1", tmp_path / "d2"])
    with pytest.raises(ValueError, match="distinct ids; repeated: a"):
        Passage.of(docs)
    with pytest.raises(DocumentError, match="share the id"):
        SQLiteIndex(tmp_path / "c.sqlite").add(docs)


def test_jsonl_fields_of_the_wrong_type_are_document_errors(tmp_path: Path) -> None:
    src = tmp_path / "r.jsonl"
    src.write_text(
        '{"id": "a", "text": "Fine."}\n{"id": "b", "text": "Ok.", "title": 5}\n'
        '{"id": "c", "text": "Also fine."}\n'
    )
    items = list(iter_inputs(src))
    assert isinstance(items[1], DocumentError) and "'title' must be a string" in str(items[1])
    assert [getattr(i, "id", None) for i in items] == ["a", None, "c"]


def test_opening_a_foreign_database_read_only_changes_nothing(tmp_path: Path) -> None:
    foreign = tmp_path / "other.sqlite"
    with sqlite3.connect(foreign) as db:
        db.execute("CREATE TABLE t (x)")
    with pytest.raises(DocumentError, match="not a newsqa corpus"):
        SQLiteIndex(foreign, create=False)
    with sqlite3.connect(foreign) as db:
        tables = {r[0] for r in db.execute("SELECT name FROM sqlite_master")}
    assert tables == {"t"}


def test_stances_of_a_document_without_sentences_is_empty() -> None:
    from newsqa import Settings
    from newsqa.llm.client import LLMClient
    from newsqa.tasks.stances import analyze_stances

    doc = Document(id="x", text="Kyiv.")
    client = track(LLMClient(Settings(base_url="http://127.0.0.1:9/v1", api_key="k")))
    assert analyze_stances(doc, client=client).stances == []
    with pytest.raises(ValueError, match="max_actors"):
        analyze_stances(document_from_text("Kyiv said no."), client=client, max_actors=0)
