"""Provider batch runs against a loopback Files and Batches API: every task finishes in
the rounds it needs, with the results of a direct run on the same replies; failed and
expired items are retried; a restarted run polls what is in flight, never resubmits."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from pydantic import BaseModel, Field

import newsqa
from newsqa import LLMClient, Settings
from newsqa.batch.provider import BatchStatus
from newsqa.batch.rounds import BatchObserver, ProviderRun
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
    """The schema's name and the schema a request asks for (in its response format, or
    in its prompt when the endpoint took JSON mode)."""
    fmt = body.get("response_format") or {}
    spec = fmt.get("json_schema") or {}
    if not spec and "JSON schema:\n" in body["messages"][-1]["content"]:
        return "", json.loads(body["messages"][-1]["content"].rsplit("JSON schema:\n", 1)[1])
    return str(spec.get("name", "")), spec.get("schema") or {}


def responder(reask_marker: str | None = None) -> Callable[[dict[str, Any]], Reply]:
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


class Rounds(BatchObserver):
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


def test_a_reask_is_the_next_rounds_request(tmp_path: Path) -> None:
    _run, server, direct, batched = _both(tmp_path, newsqa.Summarize(), marker="Vienna")
    assert len(server.created) == 2  # the invalid replies' re-asks, in one more round
    reasks = server.created[1]
    assert len(reasks) == 4 and all(len(i["body"]["messages"]) == 4 for i in reasks)
    assert _results(batched) == _results(direct)


def _fates(fates: dict[str, list[Fate]]) -> Any:
    """Each request's fate in turn by the city its document names, then ``ok``."""
    seen: dict[str, int] = {}

    def fate(key: str, body: dict[str, Any]) -> Fate:
        city = _city(body)
        turn = seen.get(key, 0)
        seen[key] = turn + 1
        plan = fates.get(city, [])
        return plan[turn] if turn < len(plan) else "ok"

    return fate


def test_failed_and_expired_items_are_retried_next_round(tmp_path: Path) -> None:
    folder = _docs(tmp_path)
    out = tmp_path / "out.jsonl"
    fate = _fates({"Doha": ["fail"], "Oslo": ["expire", "expire"]})
    with FakeBatches(responder(), polls=1, fate=fate) as server:
        client = _client(server, tmp_path / "cache.sqlite")
        run = ProviderRun(
            newsqa.Inputs(folder), newsqa.Summarize(), out, client=client, sleep=lambda _: None
        )
        report = run.run()
    assert [len(b) for b in server.created] == [20, 8, 4]
    assert (report.done, report.failed, report.rounds) == (20, 0, 3)


def test_a_request_failing_every_round_fails_its_document_only(tmp_path: Path) -> None:
    folder = _docs(tmp_path)
    out = tmp_path / "out.jsonl"
    fate = _fates({"Doha": ["fail"] * 5})
    with FakeBatches(responder(), polls=1, fate=fate) as server:
        client = _client(server, tmp_path / "cache.sqlite", max_retries=1)
        report = ProviderRun(
            newsqa.Inputs(folder), newsqa.Summarize(), out, client=client, sleep=lambda _: None
        ).run()
    assert [len(b) for b in server.created] == [20, 4]
    assert (report.done, report.failed) == (16, 4)
    errors = [
        line["error"] for line in map(json.loads, out.read_text().splitlines()) if "error" in line
    ]
    assert len(errors) == 4 and all("HTTP 500" in e for e in errors)


class _Stop(BatchObserver):
    """Interrupts the run at a poll that finds a batch still running (a kill between
    submitting a round and collecting it)."""

    def polled(self, statuses: list[BatchStatus], elapsed: float) -> None:
        if not all(s.final for s in statuses):
            raise KeyboardInterrupt


def test_a_run_killed_between_rounds_resumes_without_resubmitting(tmp_path: Path) -> None:
    folder = _docs(tmp_path)
    out, direct = tmp_path / "out.jsonl", tmp_path / "direct.jsonl"
    task = newsqa.Stances("peace talks")
    with FakeBatches(responder(), polls=2) as server:
        run_batch(newsqa.Inputs(folder), task, direct, client=_client(server, None))
        for _ in range(2):  # killed while round 1, then round 2, is in flight
            with pytest.raises(KeyboardInterrupt):
                ProviderRun(
                    newsqa.Inputs(folder),
                    task,
                    out,
                    sleep=lambda _: None,
                    client=_client(server, tmp_path / "cache.sqlite"),
                    observer=_Stop(),
                ).run()
        assert len(server.created) == 2
        report = ProviderRun(
            newsqa.Inputs(folder),
            task,
            out,
            sleep=lambda _: None,
            client=_client(server, tmp_path / "cache.sqlite"),
        ).run()
        assert len(server.created) == 2  # polled what was in flight: nothing resubmitted
    assert (report.done, report.rounds) == (20, 2)
    assert _results(out) == _results(direct)


def test_cancel_cancels_the_batches_in_flight(tmp_path: Path) -> None:
    folder = _docs(tmp_path, count=3)
    out = tmp_path / "out.jsonl"
    with FakeBatches(responder(), polls=5) as server:

        def run() -> ProviderRun:
            return ProviderRun(
                newsqa.Inputs(folder),
                newsqa.Summarize(),
                out,
                sleep=lambda _: None,
                client=_client(server, tmp_path / "cache.sqlite"),
                observer=_Stop(),
            )

        with pytest.raises(KeyboardInterrupt):
            run().run()
        assert run().cancel() == 1
        assert server.cancelled == [next(iter(server.batches))]
        assert run().cancel() == 0  # forgotten once cancelled


def test_export_and_import_go_round_by_round(tmp_path: Path) -> None:
    folder = _docs(tmp_path)
    out, requests, responses = (
        tmp_path / "out.jsonl",
        tmp_path / "req.jsonl",
        tmp_path / "res.jsonl",
    )
    task = newsqa.Stances("peace talks")
    answer = responder()
    with FakeBatches(answer) as server:

        def run() -> ProviderRun:
            return ProviderRun(
                newsqa.Inputs(folder), task, out, client=_client(server, tmp_path / "cache.sqlite")
            )

        report = run().run(export_requests=requests)
        rounds = 0
        while report.submitted:  # what `vllm run-batch -i req.jsonl -o res.jsonl` does
            rounds += 1
            lines = [json.loads(line) for line in requests.read_text().splitlines()]
            assert all(line["url"] == "/v1/chat/completions" for line in lines)
            responses.write_text(
                "".join(
                    json.dumps(
                        {
                            "id": "x",
                            "custom_id": line["custom_id"],
                            "error": None,
                            "response": {"status_code": 200, "body": answer(line["body"]).body},
                        }
                    )
                    + "\n"
                    for line in lines
                )
            )
            report = run().run(import_responses=responses, export_requests=requests)
        assert server.created == [] and server.chat == []
    assert rounds == 2 and report.done == 20


def test_a_provider_batch_needs_the_response_cache(tmp_path: Path) -> None:
    folder = _docs(tmp_path, count=1)
    with FakeBatches(responder()) as server, pytest.raises(newsqa.ConfigError, match="cache"):
        ProviderRun(
            newsqa.Inputs(folder),
            newsqa.Summarize(),
            tmp_path / "o.jsonl",
            client=_client(server, None),
        )


def test_a_rejected_response_format_falls_back_for_the_next_round(tmp_path: Path) -> None:
    folder = _docs(tmp_path, count=3)
    out, direct = tmp_path / "out.jsonl", tmp_path / "direct.jsonl"
    answer = responder()

    def no_json_schema(body: dict[str, Any]) -> Reply:
        if (body.get("response_format") or {}).get("type") == "json_schema":
            return Reply(
                status=400,
                body={"error": {"message": "response_format json_schema is not supported"}},
            )
        return answer(body)

    with FakeBatches(no_json_schema, polls=1) as server:
        run_batch(newsqa.Inputs(folder), newsqa.Summarize(), direct, client=_client(server, None))
        client = _client(server, tmp_path / "cache.sqlite")
        report = ProviderRun(
            newsqa.Inputs(folder), newsqa.Summarize(), out, client=client, sleep=lambda _: None
        ).run()
    kinds = [{i["body"].get("response_format", {}).get("type") for i in b} for b in server.created]
    assert (
        kinds[0] == {"json_schema"} and kinds[1:] and all(k == {"json_object"} for k in kinds[1:])
    )
    assert client.structured_mode == "json_object" and report.done == 3
    assert {k: v[0] for k, v in _results(out).items()} == {
        k: v[0] for k, v in _results(direct).items()
    }
