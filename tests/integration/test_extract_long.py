"""Long articles and recall: a document over the context budget read in chunks in
parallel (bounded), what the chunks find merged (lists without duplicates, a
conflict settled by the evidence and reported), and ``passes`` that each ask
something new."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
from pydantic import BaseModel, Field

import newsqa
from newsqa import DocumentError, document_from_text
from newsqa.cli import main
from newsqa.tasks.extract import READERS
from tests.conftest import fake_client
from tests.support.fake_openai import FakeOpenAI, Reply

PLANTED: dict[str, dict[str, Any]] = {
    "Envoys from Qatar met in Doha.": {"countries": "Qatar", "place": "Doha"},
    "Officials said 12 people died.": {"deaths": 12},
    "Envoys from Egypt joined them.": {"countries": "Egypt"},
    "Medics said 14 people died.": {"deaths": 14},
    "Later, envoys from Qatar spoke again.": {"countries": "Qatar"},
    "A hospital confirmed that 14 people died.": {"deaths": 14},
}


def _article() -> str:
    parts = []
    for i, planted in enumerate(PLANTED):
        parts += [f"Filler sentence {i}-{j} says nothing of note at all." for j in range(30)]
        parts.append(planted)
    return " ".join(parts)


class Talks(BaseModel):
    countries: list[str] = Field([], description="countries whose envoys attended")
    deaths: int | None = Field(None, description="people killed")
    place: str = Field(description="where the envoys met")


def _shown(request: dict[str, Any]) -> dict[int, str]:
    """The numbered sentences a request shows."""
    prompt = request["messages"][-1]["content"]
    return {int(n): text for n, text in re.findall(r"^\[(\d+)\] (.*)$", prompt, re.MULTILINE)}


def _answer(request: dict[str, Any]) -> Reply:
    """What a faithful model answers from the sentences it is shown."""
    draft: dict[str, Any] = {
        "countries": [],
        "deaths": {"sentences": [], "value": None},
        "place": {"sentences": [], "value": None},
    }
    for number, text in _shown(request).items():
        for field, value in PLANTED.get(text, {}).items():
            cited = {"sentences": [number], "value": value}
            if field == "countries":
                draft["countries"].append(cited)
            elif draft[field]["value"] is None:
                draft[field] = cited
    return Reply.json(draft, delay=0.2)  # long enough for the chunks to overlap


def test_a_long_article_is_read_in_chunks_at_once_and_merged() -> None:
    doc = document_from_text(_article(), id="long")
    with FakeOpenAI([], responder=_answer) as server:
        result = newsqa.extract(doc, Talks, client=fake_client(server, context_tokens=400))
        shown = [_shown(r) for r in server.requests]
        peak = server.peak_in_flight
    assert len(shown) >= 3
    numbers = [n for one in shown for n in one]
    assert sorted(numbers) == [s.id for s in doc.sentences]  # each sentence read once
    assert 2 <= peak <= READERS
    assert result.usage.calls == len(shown)
    assert result.value.countries == ["Qatar", "Egypt"]  # Qatar twice, kept once
    qatar = [e.text for e in result.evidence["countries[0]"]]
    assert qatar == ["Envoys from Qatar met in Doha.", "Later, envoys from Qatar spoke again."]
    assert result.value.place == "Doha"  # required, stated in one chunk only
    assert result.value.deaths == 14
    assert [e.text for e in result.evidence["deaths"]] == [
        "Medics said 14 people died.",
        "A hospital confirmed that 14 people died.",
    ]
    assert result.dropped["deaths"] == (
        "12 (sentences [62]): conflicts with 14, which more sentences state"
    )
    for path, span in result.spans.items():
        assert doc.text[span.start : span.end] == span.text and span.alignment == "exact", path


def test_focus_reads_a_long_article_in_one_call() -> None:
    doc = document_from_text(_article(), id="long")
    with FakeOpenAI([], responder=_answer) as server:
        newsqa.extract(doc, Talks, client=fake_client(server, context_tokens=400), reading="focus")
        assert len(server.requests) == 1


def test_passes_over_a_long_article_move_the_chunk_boundaries() -> None:
    doc = document_from_text(_article(), id="long")
    with FakeOpenAI([], responder=_answer) as server:
        client = fake_client(server, context_tokens=400)
        once = newsqa.extract(doc, Talks, client=client)
        first = len(server.requests)
        twice = newsqa.extract(doc, Talks, client=client, passes=2)
        chunks = [tuple(_shown(r)) for r in server.requests[first:]]
    assert len(set(chunks)) == len(chunks)  # no request repeats another (the cache would answer)
    starts = sorted(c[0] for c in chunks)
    assert starts.count(1) == 2 and len(starts) > 2 * (first - 1)
    assert twice.value == once.value  # the same facts, nothing doubled
    assert set(twice.evidence) == set(once.evidence)


class Names(BaseModel):
    people: list[str] = Field([], description="people named")


def test_a_second_pass_over_a_short_article_lists_what_was_found() -> None:
    doc = document_from_text("Ann Lee spoke first. Then Bob Kay spoke.", id="short")
    first = {"people": [{"sentences": [1], "value": "Ann Lee"}]}
    second = {
        "people": [{"sentences": [1], "value": "Ann Lee"}, {"sentences": [2], "value": "Bob Kay"}]
    }
    with FakeOpenAI([Reply.json(first), Reply.json(second)]) as server:
        result = newsqa.extract(doc, Names, client=fake_client(server), passes=2)
        prompts = [r["messages"][-1]["content"] for r in server.requests]
    assert len(prompts) == 2 and "already found" not in prompts[0]
    found = json.dumps({"people": ["Ann Lee"]})
    assert f"<found>{found}</found>" in prompts[1]
    assert result.value.people == ["Ann Lee", "Bob Kay"]
    assert [e.sentence_id for e in result.evidence["people[1]"]] == [2]


def test_passes_below_one_are_refused() -> None:
    doc = document_from_text("Ann Lee spoke.", id="d")
    with FakeOpenAI([]) as server, pytest.raises(ValueError, match="passes"):
        newsqa.extract(doc, Names, client=fake_client(server), passes=0)
    assert server.requests == []


def _huge() -> str:
    filler = [f"Filler sentence {i} says nothing of note at all today." for i in range(900)]
    return " ".join([*filler[:450], "Envoys from Qatar met in Doha.", *filler[450:]])


def test_an_article_over_the_call_limit_is_read_focused_or_refused_when_chunks_are_asked() -> None:
    doc = document_from_text(_huge(), id="huge")
    with FakeOpenAI([], responder=_answer) as server:
        client = fake_client(server, context_tokens=400)
        result = newsqa.extract(doc, Talks, client=client)
        assert len(server.requests) == 1  # focused: one call over the best sentences
        assert result.value.place == "Doha"
        with pytest.raises(DocumentError, match="model calls"):
            newsqa.extract(doc, Talks, client=client, reading="chunks")
        assert len(server.requests) == 1


def test_the_task_and_the_cli_take_passes_and_the_reading(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert "passes" not in newsqa.Extract(Names).job()
    assert newsqa.Extract(Names, passes=2, reading="focus").job() | {"schema": "Names"} == {
        "task": "extract",
        "schema": "Names",
        "instructions": None,
        "passes": 2,
        "reading": "focus",
    }
    article = tmp_path / "a.txt"
    article.write_text("Ann Lee spoke first. Then Bob Kay spoke.")
    schema = tmp_path / "names.json"
    schema.write_text(
        json.dumps(
            {
                "title": "Names",
                "type": "object",
                "properties": {"people": {"type": "array", "items": {"type": "string"}}},
            }
        )
    )
    first = {"people": [{"sentences": [1], "value": "Ann Lee"}]}
    second = {"people": [{"sentences": [2], "value": "Bob Kay"}]}
    with FakeOpenAI([Reply.json(first), Reply.json(second)]) as server:
        args = ["extract", str(article), "--schema", str(schema), "--passes", "2", "--json"]
        assert main([*args, "--base-url", server.base_url, "--model", "f", "-q", "--no-cache"]) == 0
        assert len(server.requests) == 2
    assert json.loads(capsys.readouterr().out)["value"] == {"people": ["Ann Lee", "Bob Kay"]}
    with pytest.raises(SystemExit) as refused:
        main(["extract", str(article), "--schema", str(schema), "--passes", "0"])
    assert refused.value.code == 2 and "--passes: must be at least 1" in capsys.readouterr().err
