"""Batch resume keys: a result is reused only for the same job and the same document."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest

from newsqa.documents import document_from_text, load_document
from newsqa.tasks.batch import job_key, run_batch
from newsqa.types import Document
from tests.conftest import fake_client
from tests.support.fake_openai import FakeOpenAI, Reply

GOOD = {"sentences": [1], "answer": "Kyiv"}


def _doc(**changes: Any) -> Document:
    fields: dict[str, Any] = {
        "text": "Kyiv said no to the plan.",
        "id": "news",
        "title": "No",
        "date": dt.date(2024, 11, 8),
        **changes,
    }
    return document_from_text(fields.pop("text"), **fields)


BASE: dict[str, Any] = {"task": "stances", "question": None, "topic": "the war"}


@pytest.mark.parametrize(
    ("doc_changes", "job_changes"),
    [
        ({"text": "Kyiv said yes to the plan."}, {}),
        ({"id": "other"}, {}),
        ({"title": "Yes"}, {}),
        ({"date": dt.date(2024, 11, 9)}, {}),
        ({"date": None}, {}),
        ({}, {"topic": "the talks"}),
        ({}, {"task": "summarize"}),
        ({}, {"task": "ask", "question": "Who said no?"}),
    ],
)
def test_every_field_of_the_job_and_document_changes_the_key(
    doc_changes: dict[str, Any], job_changes: dict[str, Any]
) -> None:
    before = job_key(_doc(), **BASE)
    after = job_key(_doc(**doc_changes), **{**BASE, **job_changes})
    assert after != before
    assert job_key(_doc(), **BASE) == before  # stable


def test_questions_change_ask_keys_and_parameters_a_task_ignores_do_not() -> None:
    doc = _doc()
    assert job_key(doc, "ask", question="A?") != job_key(doc, "ask", question="B?")
    assert job_key(doc, "summarize", question="A?", topic="x") == job_key(doc, "summarize")
    assert job_key(doc, "ask", question="A?", topic="x") == job_key(doc, "ask", question="A?")


def test_an_edited_document_runs_again_and_its_new_result_is_written(tmp_path: Path) -> None:
    out = tmp_path / "out.jsonl"
    path = tmp_path / "news.txt"
    path.write_text("Kyiv said no to the plan.")
    with FakeOpenAI([Reply.json(GOOD)] * 2) as server:
        client = fake_client(server)
        first = run_batch([load_document(path)], "ask", out, client=client, question="Who?")
        path.write_text("Kyiv said yes to the plan.")
        second = run_batch([load_document(path)], "ask", out, client=client, question="Who?")
        third = run_batch([load_document(path)], "ask", out, client=client, question="Who?")
        assert len(server.requests) == 2
    assert (first.done, second.done, second.skipped, third.skipped) == (1, 1, 0, 1)


def test_stances_resume_is_keyed_on_the_topic(tmp_path: Path) -> None:
    out = tmp_path / "out.jsonl"
    doc = _doc()
    key_war = job_key(doc, "stances", topic="the war")
    out.write_text(f'{{"id": "news", "key": "{key_war}", "result": {{}}}}\n')
    with FakeOpenAI([]) as server:
        report = run_batch([doc], "stances", out, client=fake_client(server), topic="the war")
        assert (report.skipped, len(server.requests)) == (1, 0)


def test_two_documents_with_one_id_are_refused_before_any_call(tmp_path: Path) -> None:
    a = document_from_text("Kyiv said no.", id="news", source="x1/news.txt")
    b = document_from_text("Moscow said yes.", id="news", source="x2/news.txt")
    with FakeOpenAI([Reply.json(GOOD)] * 2) as server:
        with pytest.raises(ValueError, match=r"'news' \(x1/news.txt and x2/news.txt\)"):
            run_batch([a, b], "ask", tmp_path / "o.jsonl", client=fake_client(server), question="Q")
        assert server.requests == []
        with pytest.raises(ValueError, match="share the id 'news'"):  # lazily: at the second
            run_batch(
                iter([a, b]), "ask", tmp_path / "o.jsonl", client=fake_client(server), question="Q"
            )
        assert len(server.requests) == 1  # the first ran and was written before the error
    assert '"id": "news"' in (tmp_path / "o.jsonl").read_text()
