"""Inputs that cost money or memory when misread: a mistyped path taken for text, a
folder where one document is taken, late binary bytes, deeply nested or huge JSONL
lines, and a batch's own output among its inputs."""

from __future__ import annotations

import io
import json
import tracemalloc
from pathlib import Path

import pytest

import newsqa
from newsqa import DocumentError
from newsqa.documents import Inputs, as_document, count_inputs, iter_inputs

TEXT = "Kyiv rejected the proposal on Monday. Moscow welcomed it."


@pytest.mark.parametrize(
    "typo", ["seeds/typo.txt", "typo.txt", "notes.md", "articles/", "./story", "a/b.jsonl"]
)
def test_a_string_that_looks_like_a_missing_path_is_refused_before_any_call(
    typo: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    with pytest.raises(DocumentError) as info:
        newsqa.summarize(typo)  # no client: it must fail before one is made
    assert info.value.reason == "not_found"
    assert str(info.value).startswith(f"{typo}: no such file")
    assert "document_from_text" in str(info.value)


@pytest.mark.parametrize(
    "text", [TEXT, "Kyiv", "U.S.", "Talks resume in Geneva/Vienna next week.", "3.5%"]
)
def test_text_that_is_no_path_stays_text(text: str) -> None:
    doc = as_document(text)
    assert (doc.id, doc.text) == ("text", text)


def test_text_that_looks_like_a_path_passes_as_text_explicitly() -> None:
    doc = newsqa.document_from_text("seeds/typo.txt")
    assert doc.text == "seeds/typo.txt"


def test_an_existing_file_named_by_a_string_is_loaded(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "my story.txt").write_text(TEXT)
    assert as_document("my story.txt").id == "my story"


@pytest.mark.parametrize("as_path", [True, False])
def test_a_folder_given_for_one_document_says_it_takes_one(tmp_path: Path, as_path: bool) -> None:
    (tmp_path / "a.txt").write_text(TEXT)
    (tmp_path / "b.bin.txt").write_bytes(b"\x00\x01\x02" * 50)  # reported only if read
    with pytest.raises(DocumentError) as info:
        as_document(tmp_path if as_path else str(tmp_path))
    assert info.value.reason == "not_one"
    assert str(info.value).startswith(f"{tmp_path}: a folder, and this takes one document")


def test_a_jsonl_path_is_its_one_record_and_several_are_refused(tmp_path: Path) -> None:
    one = tmp_path / "one.jsonl"
    one.write_text(json.dumps({"id": "r1", "text": TEXT}) + "\n")
    doc = as_document(one)
    assert (doc.id, doc.text) == ("r1", TEXT)
    many = tmp_path / "many.jsonl"
    many.write_text("".join(json.dumps({"id": f"r{i}", "text": TEXT}) + "\n" for i in range(3)))
    with pytest.raises(DocumentError, match=r"holds 3 documents, and this takes one") as info:
        as_document(str(many))
    assert info.value.reason == "not_one"


def test_a_deeply_nested_jsonl_line_is_that_lines_error(tmp_path: Path) -> None:
    path = tmp_path / "records.jsonl"
    lines = [
        json.dumps({"id": "a", "text": TEXT}),
        "[" * 100_000,
        '{"a": ' * 50_000,
        json.dumps({"id": "b", "text": TEXT}),
    ]
    path.write_text("\n".join(lines) + "\n")
    items = list(iter_inputs(path))
    assert [i.id for i in items if not isinstance(i, DocumentError)] == ["a", "b"]
    errors = [i for i in items if isinstance(i, DocumentError)]
    assert [str(e) for e in errors] == [
        f"{path}:2: not valid JSON (nested too deeply)",
        f"{path}:3: not valid JSON (nested too deeply)",
    ]


def test_nested_json_on_standard_input_is_that_lines_error() -> None:
    data = b'{"id": "a", "text": "Kyiv said no."}\n' + b"[" * 100_000 + b"\n"
    items = list(iter_inputs("-", stdin=io.BytesIO(data)))
    assert isinstance(items[0], newsqa.Document)
    assert isinstance(items[1], DocumentError)
    assert str(items[1]) == "-:2: not valid JSON (nested too deeply)"


@pytest.mark.parametrize("late", ["\x00", "\x1b[2J" * 2000])  # a NUL; escapes over 1%
def test_binary_bytes_after_the_first_64_kb_are_refused(tmp_path: Path, late: str) -> None:
    text = "Kyiv rejected the proposal on Monday. " * 2000 + late + "Moscow welcomed it."
    assert len(text) > 70_000
    with pytest.raises(DocumentError, match="looks like binary data") as info:
        newsqa.document_from_text(text)
    assert info.value.reason == "binary"
    path = tmp_path / "late.txt"
    path.write_text(text)
    [item] = list(iter_inputs(path))
    assert isinstance(item, DocumentError)
    assert item.reason == "binary"


def test_a_few_stray_control_characters_are_still_text() -> None:
    text = "Kyiv rejected the proposal on Monday.\x0c " * 8 + "Moscow welcomed it. " * 4000
    assert newsqa.document_from_text(text).text.startswith("Kyiv")


def test_a_jsonl_line_over_the_limit_is_refused_without_being_read_whole(
    tmp_path: Path,
) -> None:
    path = tmp_path / "records.jsonl"
    with path.open("w") as fh:
        fh.write(json.dumps({"id": "huge", "text": "x " * 10_000_000}) + "\n")  # 20 MB line
        fh.write(json.dumps({"id": "after", "text": TEXT}) + "\n")
    tracemalloc.start()
    try:
        items = list(iter_inputs(path, max_bytes=1_000_000))
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert isinstance(items[0], DocumentError)
    assert str(items[0]) == f"{path}:1: record is over the 1,000,000-byte limit"
    assert items[0].reason == "too_large"
    assert isinstance(items[1], newsqa.Document) and items[1].id == "after"
    assert peak < 5_000_000  # the 20 MB line was never held
    tracemalloc.start()
    try:
        assert count_inputs(path) == 2
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 5_000_000


def test_a_record_of_exactly_the_limit_is_read(tmp_path: Path) -> None:
    line = json.dumps({"id": "r", "text": "x" * 100})
    path = tmp_path / "records.jsonl"
    path.write_text(line + "\n" + line.replace('"r"', '"s"'))  # the last without newline
    items = list(iter_inputs(path, max_bytes=len(line)))
    assert [getattr(i, "id", None) for i in items] == ["r", "s"]
    items = list(iter_inputs(path, max_bytes=len(line) - 1))
    assert all(isinstance(i, DocumentError) and i.reason == "too_large" for i in items)


def test_the_files_to_skip_are_never_read(tmp_path: Path) -> None:
    (tmp_path / "a.txt").write_text(TEXT)
    out = tmp_path / "out.jsonl"
    out.write_text(json.dumps({"id": "a", "task": "summarize", "result": {}}) + "\n")
    partial = tmp_path / "out.jsonl.partial"
    partial.write_text('{"id": "a", "tas\n')
    skip = [out, partial]
    found = list(iter_inputs([tmp_path, out, partial], skip=skip))
    assert [getattr(i, "id", i) for i in found] == ["a"]
    assert count_inputs([tmp_path, partial], skip=skip) == 1


def test_inputs_walk_again_and_keep_standard_input(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "a.txt").write_text(TEXT)
    stdin = io.BytesIO(b'{"id": "s1", "text": "Kyiv said no."}\n')
    monkeypatch.setattr("sys.stdin", io.TextIOWrapper(stdin))
    inputs = Inputs([tmp_path / "a.txt", "-"])
    first = [d.id for d in inputs if isinstance(d, newsqa.Document)]
    assert first == [d.id for d in inputs if isinstance(d, newsqa.Document)] == ["a", "s1"]
