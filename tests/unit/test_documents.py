from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest

from newsqa import DocumentError, chunk_document, document_from_text, load_document, load_documents
from newsqa.documents import split_sentences
from newsqa.types import Document
from tests.conftest import SEED


def test_seed_date_prefix_becomes_the_date(seed: Document) -> None:
    assert seed.date == dt.date(2024, 11, 8)
    assert seed.id == SEED.stem
    assert seed.text.startswith("Russian President Vladimir Putin")
    assert "date 2024" not in seed.text


def test_seed_sentences_slice_back_and_keep_abbreviations(seed: Document) -> None:
    assert len(seed.sentences) == 15
    for s in seed.sentences:
        assert seed.text[s.start : s.end] == s.text
    aid = [s for s in seed.sentences if "64.1 billion" in s.text]
    assert len(aid) == 1
    assert aid[0].text.endswith("according to U.S. Department of State data.")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Mr. Smith went to Washington. He left.", ["Mr. Smith went to Washington.", "He left."]),
        ("He said “yes.” Then he left!", ["He said “yes.”", "Then he left!"]),
        ("Title line\n\nBody starts here. Ends.", ["Title line", "Body starts here.", "Ends."]),
        (
            "Costs rose 3.5 percent. Why? Nobody knows.",
            ["Costs rose 3.5 percent.", "Why?", "Nobody knows."],
        ),
        ("John F. Kennedy spoke. Crowds cheered.", ["John F. Kennedy spoke.", "Crowds cheered."]),
    ],
)
def test_split_sentences_examples(text: str, expected: list[str]) -> None:
    assert [s.text for s in split_sentences(text)] == expected


@pytest.mark.parametrize("text", ["", "   \n\t  ", "\n\n"])
def test_empty_text_is_refused(text: str) -> None:
    with pytest.raises(DocumentError) as info:
        document_from_text(text)
    assert info.value.reason == "empty"


def test_date_only_text_is_empty() -> None:
    with pytest.raises(DocumentError, match="empty"):
        document_from_text("date 2024-01-01 ")


def test_binary_file_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "blob.txt"
    path.write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" * 10)
    with pytest.raises(DocumentError) as info:
        load_document(path)
    assert info.value.reason == "binary"


def test_control_characters_without_nul_are_binary() -> None:
    with pytest.raises(DocumentError, match="binary"):
        document_from_text("\x01\x02\x03\x04" * 50)


def test_invalid_utf8_is_refused_with_the_byte(tmp_path: Path) -> None:
    path = tmp_path / "latin1.txt"
    path.write_bytes("Café crème in Kyiv.".encode("latin-1"))
    with pytest.raises(DocumentError, match=r"not valid UTF-8 \(byte 3\)") as info:
        load_document(path)
    assert info.value.reason == "encoding"


def test_oversized_file_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "huge.txt"
    path.write_text("Word. " * 1000)
    with pytest.raises(DocumentError) as info:
        load_document(path, max_bytes=1000)
    assert info.value.reason == "too_large"


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(DocumentError, match="no such file"):
        load_document(tmp_path / "nope.txt")


def test_utf8_bom_is_dropped(tmp_path: Path) -> None:
    path = tmp_path / "bom.txt"
    path.write_bytes("\ufeffKyiv said no. Moscow said yes.".encode())
    doc = load_document(path)
    assert doc.text.startswith("Kyiv")


def test_jsonl_records_and_folders(tmp_path: Path) -> None:
    records = [
        {"id": "a", "text": "First story. It is short.", "date": "2024-01-02", "title": "A"},
        {"id": 7, "text": "Second story.", "source": "wire"},
    ]
    (tmp_path / "news.jsonl").write_text("\n".join(json.dumps(r) for r in records) + "\n\n")
    (tmp_path / "c.txt").write_text("date 2023-05-06\nThird story.")
    docs = load_documents([tmp_path])
    assert [d.id for d in docs] == ["c", "a", "7"]
    assert docs[0].date == dt.date(2023, 5, 6)
    assert docs[1].title == "A" and docs[1].date == dt.date(2024, 1, 2)
    assert docs[2].source == "wire" and docs[2].date is None


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ("{not json", "not valid JSON"),
        ('{"text": "no id"}', "needs 'id' and 'text'"),
        ('{"id": 1, "text": 5}', "must be a string"),
        ('{"id": 1, "text": "  "}', "empty"),
    ],
)
def test_bad_jsonl_lines_name_the_line(tmp_path: Path, line: str, message: str) -> None:
    path = tmp_path / "bad.jsonl"
    path.write_text('{"id": "ok", "text": "Fine."}\n' + line + "\n")
    with pytest.raises(DocumentError, match=message) as info:
        load_documents([path])
    assert str(info.value).startswith(f"{path}:2")


def test_empty_folder_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(DocumentError, match=r"no \.txt"):
        load_documents([tmp_path])


def test_chunks_hold_whole_sentences_within_budget(seed: Document) -> None:
    chunks = chunk_document(seed, max_tokens=150, overlap_tokens=40)
    assert len(chunks) > 2
    for chunk in chunks:
        assert chunk.tokens <= 150
        first, last = seed.sentence(chunk.sentence_ids[0]), seed.sentence(chunk.sentence_ids[-1])
        assert (chunk.start, chunk.end) == (first.start, last.end)
    covered = {i for c in chunks for i in c.sentence_ids}
    assert covered == {s.id for s in seed.sentences}
    # overlap: consecutive chunks share trailing sentences
    assert set(chunks[0].sentence_ids) & set(chunks[1].sentence_ids)


def test_chunk_arguments_are_checked(seed: Document) -> None:
    with pytest.raises(ValueError):
        chunk_document(seed, max_tokens=0)
    with pytest.raises(ValueError):
        chunk_document(seed, max_tokens=10, overlap_tokens=10)


def test_oversized_sentence_gets_its_own_chunk() -> None:
    doc = document_from_text("Short one. " + "word " * 150 + "ends here. Tail.")
    chunks = chunk_document(doc, max_tokens=50)
    big = [c for c in chunks if c.tokens > 50]
    assert len(big) == 1 and len(big[0].sentence_ids) == 1
