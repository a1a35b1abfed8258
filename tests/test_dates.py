"""Dates in common formats are read; a document is never dropped over its date, and the
undated ones a date bound leaves out are counted."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import pytest

from newsqa import Corpus
from newsqa.cli import main
from newsqa.documents import document_from_text, iter_inputs, parse_date
from tests.support.fake_openai import FakeOpenAI, schema_reply

NOV_8 = dt.date(2024, 11, 8)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("2024-11-08", NOV_8),
        ("2024-11-08T23:30:00-05:00", NOV_8),  # the day as written, not UTC
        ("2024-11-08 10:00:00Z", NOV_8),
        ("Fri, 08 Nov 2024 10:00:00 +0000", NOV_8),
        ("Fri, 08 Nov 2024 23:59:59 -0800", NOV_8),
        ("November 8, 2024", NOV_8),
        ("Nov 8 2024", NOV_8),
        ("8 November 2024", NOV_8),
        ("2024/11/08", NOV_8),
        ("11/08/2024", NOV_8),
        (" 2024-11-08 ", NOV_8),
        (dt.datetime(2024, 11, 8, 23, 0), NOV_8),
        (NOV_8, NOV_8),
        ("Nov 2024", None),  # no day: not a date
        ("2024", None),
        ("8", None),
        ("yesterday", None),
        ("", None),
        (None, None),
        (True, None),
        ("2024-13-45", None),
    ],
)
def test_parse_date(value: Any, expected: dt.date | None) -> None:
    assert parse_date(value) == expected


def test_records_with_written_or_unreadable_dates_are_kept(tmp_path: Path) -> None:
    src = tmp_path / "in.jsonl"
    records = [
        {"id": "written", "text": "Kyiv said no.", "date": "November 8, 2024"},
        {"id": "rfc", "text": "Kyiv said no.", "date": "Fri, 08 Nov 2024 10:00:00 +0000"},
        {"id": "unreadable", "text": "Kyiv said no.", "date": "last week"},
        {"id": "number", "text": "Kyiv said no.", "date": 20241108},
    ]
    src.write_text("".join(json.dumps(r) + "\n" for r in records))
    docs = {d.id: d.date for d in iter_inputs(src) if not isinstance(d, Exception)}
    assert docs == {"written": NOV_8, "rfc": NOV_8, "unreadable": None, "number": NOV_8}


def test_an_unreadable_date_prefix_leaves_the_document_undated() -> None:
    doc = document_from_text("date 2024-13-45 Kyiv said no.")
    assert doc.date is None and doc.text == "Kyiv said no."


def _corpus_inputs(tmp_path: Path) -> Path:
    src = tmp_path / "in.jsonl"
    records = [
        {"id": "dated", "text": "Kyiv rejected the plan.", "date": "November 8, 2024"},
        {"id": "undated", "text": "Kyiv rejected the plan again."},
        {"id": "odd", "text": "Kyiv rejected the plan once more.", "date": "some day"},
    ]
    src.write_text("".join(json.dumps(r) + "\n" for r in records))
    return src


def test_index_keeps_every_document_and_counts_the_undated(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    db = tmp_path / "c.sqlite"
    assert main(["index", str(_corpus_inputs(tmp_path)), "--db", str(db), "-q"]) == 0
    out = capsys.readouterr().out
    assert "3 added" in out and "0 skipped, 2 undated; 3 documents" in out
    with Corpus(db, create=False) as corpus:
        assert corpus.undated() == 2
        assert corpus.document("dated").date == NOV_8
        assert [h.doc_id for h in corpus.search("Kyiv", 5, since=NOV_8)] == ["dated"]


@pytest.mark.parametrize("bound", [["--since", "2024-01-01"], ["--until", "2025-01-01"]])
def test_a_date_bound_reports_the_undated_documents_it_left_out(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], bound: list[str]
) -> None:
    db = tmp_path / "c.sqlite"
    assert main(["index", str(_corpus_inputs(tmp_path)), "--db", str(db), "-q"]) == 0
    capsys.readouterr()
    with FakeOpenAI([], responder=schema_reply) as server:
        endpoint = ["--base-url", server.base_url, "--model", "fake", "-q", "--no-cache"]
        question = ["ask", "-Q", "Who rejected the plan?", "--db", str(db)]
        assert main([*question, *bound, *endpoint]) == 0
        assert "2 undated document(s) left out by --since/--until" in capsys.readouterr().err
        assert main([*question, *endpoint]) == 0  # no bound: nothing left out, nothing said
        assert "undated" not in capsys.readouterr().err
        stances = ["stances", "--db", str(db), "--topic", "the plan"]
        assert main([*stances, *bound, *endpoint]) == 0
        assert "2 undated document(s) left out" in capsys.readouterr().err
