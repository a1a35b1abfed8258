"""Provider batch runs against a loopback Files and Batches API: every task finishes in
the rounds it needs, with the results of a direct run on the same replies; failed and
expired items are retried; a restarted run polls what is in flight, never resubmits."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from pydantic import BaseModel, Field

import newsqa
from newsqa import LLMClient, Settings
from newsqa.batch.rounds import Observer, ProviderRun
from newsqa.batch.run import run_batch
from newsqa.batch.state import rounds_folder
from newsqa.llm.cache import ResponseCache
from newsqa.tasks.base import Task
from tests.conftest import track
from tests.support.fake_batches import FakeBatches, Fate
from tests.support.fake_openai import Reply, schema_instance

CITIES = ["Geneva", "Doha", "Vienna", "Oslo", "Ankara"]


class Meeting(BaseModel):
    place: str | None = Field(None, description="where they met")


class Talks(BaseModel):
    casualties: int | None = Field(None, description="people killed")
    meetings: list[Meeting] = Field(default_factory=list, description="meetings held")


def _docs(tmp_path: Path, count: int = 20, filler: int = 0) -> Path:
    folder = tmp_path / "in"
    folder.mkdir()
    for i in range(count):
        city = CITIES[i % len(CITIES)]
        extra = " ".join(f"Officials in {city} met on day {j} to talk." for j in range(filler))
        (folder / f"d{i:02}.txt").write_text(
            f"Three people died in Kharkiv. Envoys met in {city}. Kyiv rejected the plan, "
            f"and Russia said it is ready for talks. {extra}".strip()
        )
    return folder


def _schema(body: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    fmt = body.get("response_format") or {}
    spec = fmt.get("json_schema") or {}
    return str(spec.get("name", "")), spec.get("schema") or {}


def responder(reask_marker: str | None = None) -> Any:
    """Replies that depend on the request only (a direct and a batch run get the same):
    the smallest reply a schema allows, an extraction that the text states, and (for
    the first try of a request naming ``reask_marker``) a reply that is not JSON."""

    def answer(body: dict[str, Any]) -> Reply:
        name, schema = _schema(body)
        first_try = len(body["messages"]) <= 2
        if reask_marker and first_try and reask_marker in body["messages"][-1]["content"]:
            return Reply.text("not json")
        if "Talks" in name:
            return Reply.json(
                {
                    "casualties": {"sentences": [1], "value": 3},
                    "meetings": [{"place": {"sentences": [2], "value": _city(body)}}],
                }
            )
        return Reply.json(schema_instance(schema)) if schema else Reply.text("ok")

    return answer


def _city(body: dict[str, Any]) -> str:
    text = body["messages"][-1]["content"]
    return next(c for c in CITIES if f"met in {c}" in text)


def _client(server: FakeBatches, cache: Path | None, **overrides: Any) -> LLMClient:
    settings = Settings(
        base_url=server.base_url,
        api_key="sk-test-dummy",
        **{"model": "fake", "timeout": 5.0, "max_retries": 2, **overrides},
    )
    store = ResponseCache(cache) if cache is not None else None
    return track(LLMClient(settings, sleep=lambda _: None, cache=store))


def _results(out: Path) -> dict[str, Any]:
    lines = [json.loads(line) for line in out.read_text().splitlines()]
    return {line["id"]: (line.get("result"), line.get("error"), line["usage"]) for line in lines}


class Rounds(Observer):
    def __init__(self) -> None:
        self.announced: list[tuple[int, int, int, int]] = []

    def submitting(self, round_: int, requests: int, files: int, at_least: int) -> None:
        self.announced.append((round_, requests, files, at_least))


def _both(
    tmp_path: Path, task: Task[Any], *, filler: int = 0, marker: str | None = None, **overrides: Any
) -> tuple[ProviderRun, FakeBatches, Path, Path]:
    folder = _docs(tmp_path, filler=filler)
    direct, batched = tmp_path / "direct.jsonl", tmp_path / "batched.jsonl"
    with FakeBatches(responder(marker), polls=2) as server:
        run_batch(newsqa.Inputs(folder), task, direct, client=_client(server, None, **overrides))
        run = ProviderRun(
            newsqa.Inputs(folder),
            task,
            batched,
            client=_client(server, tmp_path / "cache.sqlite", **overrides),
            sleep=lambda _: None,
            observer=Rounds(),
        )
        run.run()
    return run, server, direct, batched


@pytest.mark.parametrize(
    ("task", "rounds", "overrides"),
    [
        (newsqa.Summarize(), 1, {}),
        (newsqa.Extract(Talks), 1, {}),
        (newsqa.Ask("Where did the envoys meet?"), 1, {}),
        (newsqa.Stances("peace talks"), 2, {}),
    ],
    ids=["summarize", "extract", "ask", "stances"],
)
def test_each_task_finishes_in_its_rounds_with_the_direct_runs_results(
    tmp_path: Path, task: Task[Any], rounds: int, overrides: dict[str, Any]
) -> None:
    run, server, direct, batched = _both(tmp_path, task, **overrides)
    assert len(server.created) == run.report.rounds == rounds
    assert run.report.done == 20 and run.report.failed == 0
    assert _results(batched) == _results(direct)
    assert not rounds_folder(batched).exists()  # nothing pending: the state is gone


def test_a_long_summary_takes_two_rounds_all_windows_at_once(tmp_path: Path) -> None:
    run, server, direct, batched = _both(
        tmp_path, newsqa.Summarize(), filler=40, context_tokens=400
    )
    first, second = ({_schema(i["body"])[0] for i in items} for items in server.created)
    assert (first, second) == ({"SummaryDraft"}, {"ReduceDraft"})  # windows, then reduce
    assert len(server.created[0]) > 20  # every window of every document in round 1
    assert run.report.rounds == 2 and run.report.done == 20
    assert _results(batched) == _results(direct)
