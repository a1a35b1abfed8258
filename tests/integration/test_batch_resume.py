"""Batch resume keys: a result is reused only for the same job and the same document."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any, Literal

import pytest
from pydantic import BaseModel, Field, create_model

import newsqa
from newsqa import Ask, Extract, Stances, Summarize
from newsqa.batch.run import BatchReport, job_key, run_batch
from newsqa.documents import document_from_text, load_document
from newsqa.tasks.base import Task
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


BASE = Stances("the war")


@pytest.mark.parametrize(
    ("doc_changes", "task"),
    [
        ({"text": "Kyiv said yes to the plan."}, BASE),
        ({"id": "other"}, BASE),
        ({"title": "Yes"}, BASE),
        ({"date": dt.date(2024, 11, 9)}, BASE),
        ({"date": None}, BASE),
        ({}, Stances("the talks")),
        ({}, Stances("the war", actors={"Hungary": ["Orban"]})),
        ({}, Summarize()),
        ({}, Ask("Who said no?")),
        ({}, Ask("Who said no?", choices=["Kyiv", "Moscow"])),
    ],
)
def test_every_field_of_the_job_and_document_changes_the_key(
    doc_changes: dict[str, Any], task: Task[Any]
) -> None:
    before = job_key(_doc(), BASE)
    after = job_key(_doc(**doc_changes), task)
    assert after != before
    assert job_key(_doc(), BASE) == before  # stable


def test_questions_change_ask_keys_and_parameters_a_task_does_not_take_are_refused() -> None:
    doc = _doc()
    assert job_key(doc, Ask("A?")) != job_key(doc, Ask("B?"))
    with pytest.raises(ValueError, match="the summarize task takes no question"):
        newsqa.task("summarize", question="A?")
    with pytest.raises(ValueError, match="the ask task takes no topic"):
        newsqa.task("ask", question="A?", topic="x")


def test_an_edited_document_runs_again_and_its_new_result_is_written(tmp_path: Path) -> None:
    out = tmp_path / "out.jsonl"
    path = tmp_path / "news.txt"
    path.write_text("Kyiv said no to the plan.")
    with FakeOpenAI([Reply.json(GOOD)] * 2) as server:
        client = fake_client(server)
        first = run_batch([load_document(path)], Ask("Who?"), out, client=client)
        path.write_text("Kyiv said yes to the plan.")
        second = run_batch([load_document(path)], Ask("Who?"), out, client=client)
        third = run_batch([load_document(path)], Ask("Who?"), out, client=client)
        assert len(server.requests) == 2
    assert (first.done, second.done, second.skipped, third.skipped) == (1, 1, 0, 1)


def test_stances_resume_is_keyed_on_the_topic(tmp_path: Path) -> None:
    out = tmp_path / "out.jsonl"
    doc = _doc()
    key_war = job_key(doc, Stances("the war"))
    out.write_text(f'{{"id": "news", "key": "{key_war}", "result": {{}}}}\n')
    with FakeOpenAI([]) as server:
        report = run_batch([doc], Stances("the war"), out, client=fake_client(server))
        assert (report.skipped, len(server.requests)) == (1, 0)


def test_two_documents_with_one_id_are_refused_before_any_call(tmp_path: Path) -> None:
    a = document_from_text("Kyiv said no.", id="news", source="x1/news.txt")
    b = document_from_text("Moscow said yes.", id="news", source="x2/news.txt")
    with FakeOpenAI([Reply.json(GOOD)] * 2) as server:
        with pytest.raises(ValueError, match=r"'news' \(x1/news.txt and x2/news.txt\)"):
            run_batch([a, b], Ask("Q"), tmp_path / "o.jsonl", client=fake_client(server))
        assert server.requests == []
        with pytest.raises(ValueError, match="share the id 'news'"):  # lazily: at the second
            run_batch(iter([a, b]), Ask("Q"), tmp_path / "o.jsonl", client=fake_client(server))
        assert len(server.requests) == 1  # the first ran and was written before the error
    assert '"id": "news"' in (tmp_path / "o.jsonl").read_text()


# --- extract: the schema and instructions are part of the job -----------------------


def _facts(**fields: Any) -> type[BaseModel]:
    """A model named ``Facts`` (as each variant is: a key made of the name alone would
    not tell them apart), declared anew each time as another process would."""
    base: dict[str, Any] = {
        "casualties": (int | None, Field(None, description="people killed")),
        "side": (Literal["Kyiv", "Moscow"] | None, None),
    }
    return create_model("Facts", **{**base, **fields})


Facts = _facts()


def _extract_key(schema: type[BaseModel] = Facts, instructions: str | None = None) -> str:
    return job_key(_doc(), Extract(schema, instructions=instructions))


@pytest.mark.parametrize(
    "changed",
    [
        lambda: _extract_key(_facts(place=(str | None, None))),
        lambda: _extract_key(
            _facts(casualties=(float | None, Field(None, description="people killed")))
        ),
        lambda: _extract_key(_facts(casualties=(int | None, Field(None, description="wounded")))),
        lambda: _extract_key(_facts(side=(Literal["Kyiv", "Moscow", "Minsk"] | None, None))),
        lambda: _extract_key(instructions="Count only civilians."),
        lambda: job_key(_doc(text="Kyiv said yes to the plan."), Extract(Facts)),
        lambda: job_key(_doc(), Summarize()),
    ],
    ids=["field added", "retyped", "description", "choices", "instructions", "text", "task"],
)
def test_the_extract_key_holds_the_whole_schema_and_the_instructions(
    changed: Callable[[], str],
) -> None:
    assert changed() != _extract_key()


def test_the_extract_key_is_that_of_the_schema_not_of_the_class_object() -> None:
    assert _facts() is not Facts and _extract_key(_facts()) == _extract_key()
    assert _extract_key(instructions="") == _extract_key(instructions=None)
    assert _extract_key(instructions="a") == _extract_key(instructions="a")


def test_other_tasks_keep_their_keys() -> None:
    """Outputs written before ``extract`` existed still resume: the same keys."""
    doc = _doc()
    assert job_key(doc, Summarize()) == (
        "a559ef44f5a1edf511e2ef5ca7711b26f51acb60597ee9d376725b1b4e8419a9"
    )
    assert job_key(doc, Stances("the war")) == (
        "7650d3b5a14d5572c347653d4b09fa2f73ff7682eb254d0074b78a81ded79f1f"
    )
    assert job_key(doc, Ask("Who?")) == (
        "4e30406af1d1206b8f75980f14c364f805f66795030e15b74615bcf2e5fc2811"
    )


DRAFT = {"casualties": {"sentences": [1], "value": 3}, "side": {"sentences": [], "value": None}}


def test_changing_the_model_or_instructions_reruns_the_documents(tmp_path: Path) -> None:
    out = tmp_path / "out.jsonl"
    doc = document_from_text("Three people died in Kyiv.", id="news")
    draft2 = {**DRAFT, "place": {"sentences": [1], "value": "Kyiv"}}
    with_place = _facts(place=(str | None, None))
    script = [Reply.json(DRAFT), Reply.json(draft2), Reply.json(DRAFT)]
    with FakeOpenAI(script) as server:
        client = fake_client(server)
        reports = [
            run_batch([doc], Extract(Facts), out, client=client),
            run_batch([doc], Extract(_facts()), out, client=client),
            run_batch([doc], Extract(with_place), out, client=client),
            run_batch([doc], Extract(Facts, instructions="Civilians."), out, client=client),
            run_batch([doc], Extract(Facts, instructions="Civilians."), out, client=client),
        ]
        assert len(server.requests) == 3
    assert [(r.done, r.skipped) for r in reports] == [(1, 0), (0, 1), (1, 0), (1, 0), (0, 1)]
    lines = [json.loads(line) for line in out.read_text().splitlines()]
    assert [line["result"]["value"] for line in lines] == [
        {"casualties": 3, "side": None},
        {"casualties": 3, "side": None, "place": "Kyiv"},
        {"casualties": 3, "side": None},
    ]
    assert [(line["schema"], line["instructions"]) for line in lines] == [
        ("Facts", None),
        ("Facts", None),
        ("Facts", "Civilians."),
    ]


def test_the_day_a_question_is_asked_is_part_of_the_ask_key(tmp_path: Path) -> None:
    doc = _doc(date=dt.date(2022, 3, 1))
    plain = job_key(doc, Ask("Who said no this week?"))
    june = job_key(doc, Ask("Who said no this week?", as_of=dt.date(2024, 6, 14)))
    assert plain != june != job_key(doc, Ask("Who said no this week?", as_of=dt.date(2024, 6, 15)))
    out = tmp_path / "out.jsonl"
    with FakeOpenAI([Reply.json(GOOD)] * 2) as server:
        client = fake_client(server)

        def asked_on(day: dt.date) -> BatchReport:
            question = "Who said no this week?"
            return run_batch([doc], Ask(question, as_of=day), out, client=client)

        late = asked_on(dt.date(2024, 6, 14))
        again = asked_on(dt.date(2024, 6, 14))
        then = asked_on(dt.date(2022, 3, 2))
        assert len(server.requests) == 2  # the second run reused the first's line
    assert (late.done, again.skipped, then.done) == (1, 1, 1)
    lines = [json.loads(line) for line in out.read_text().splitlines()]
    # an article of 2022 cannot say who said no in a week of 2024; in its own week it can
    assert [line["result"]["answerable"] for line in lines] == [False, True]
    assert [line["as_of"] for line in lines] == ["2024-06-14", "2022-03-02"]
    assert [line["question"] for line in lines] == ["Who said no this week?"] * 2


@pytest.mark.parametrize("task", ["summarize", "stances", "extract"])
def test_as_of_is_refused_for_another_task_given_by_name(tmp_path: Path, task: str) -> None:
    with (
        FakeOpenAI([]) as server,
        pytest.warns(DeprecationWarning, match="task object"),
        pytest.raises(ValueError, match="as_of"),
    ):
        newsqa.batch(
            [],
            task,
            tmp_path / "o.jsonl",
            client=fake_client(server),
            schema=Facts,
            as_of=dt.date(2024, 6, 14),
        )
