"""Inputs refused with a clear error: documents sharing an id, JSONL fields of the wrong
type."""

from __future__ import annotations

from pathlib import Path

import pytest

from newsqa import DocumentError, load_documents
from newsqa.documents import iter_inputs
from newsqa.grounding import Passage
from newsqa.retrieval import SQLiteIndex


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
