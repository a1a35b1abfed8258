"""The public batch API: ``newsqa.batch`` and the ``newsqa.abatch`` iterator (sync and async)."""

from __future__ import annotations

import asyncio
import json
import threading
import time
from collections.abc import Sequence
from contextlib import aclosing
from pathlib import Path
from typing import Any

import pytest

import newsqa
from newsqa import Answer, BatchItem, DocumentError, LLMClient, OutputValidationError
from newsqa.batch.run import job_key
from newsqa.documents import load_document
from newsqa.llm.client import Completion, Message
from tests.conftest import fake_client
from tests.integration.batch_support import done_ids
from tests.support.fake_openai import FakeOpenAI, Reply

GOOD = {"sentences": [1], "answer": "Kyiv"}
QUESTION = "Which city said no?"


def _folder(tmp_path: Path, texts: dict[str, str]) -> Path:
    folder = tmp_path / "in"
    folder.mkdir()
    for name, text in texts.items():
        (folder / f"{name}.txt").write_text(text)
    return folder


class Gauge:
    """Wraps ``client.chat``: counts calls in flight, and delays a request whose
    prompt holds a given word (to fix which document finishes last)."""

    def __init__(self, client: LLMClient, slow_word: str = "", delay: float = 0.3) -> None:
        self.in_flight = self.peak = 0
        self._lock = threading.Lock()
        chat = client.chat

        def gauged(messages: Sequence[Message], **kwargs: Any) -> Completion:
            with self._lock:
                self.in_flight += 1
                self.peak = max(self.peak, self.in_flight)
            try:
                if slow_word and slow_word in messages[-1]["content"]:
                    time.sleep(delay)
                return chat(messages, **kwargs)
            finally:
                with self._lock:
                    self.in_flight -= 1

        client.chat = gauged  # type: ignore[method-assign]


async def _collect(run: newsqa.BatchRun[Answer]) -> list[BatchItem[Answer]]:
    return [item async for item in run]


def test_abatch_yields_each_document_as_it_finishes(tmp_path: Path) -> None:
    folder = _folder(
        tmp_path,
        {"a": "Kyiv said no, slowly.", "b": "Kyiv said no.", "c": "Kyiv said no again."},
    )
    out = tmp_path / "out.jsonl"
    with FakeOpenAI([Reply.json(GOOD)] * 3) as server:
        client = fake_client(server)
        Gauge(client, slow_word="slowly", delay=0.5)
        run = newsqa.abatch(folder, newsqa.Ask(QUESTION), out, client=client, concurrency=2)
        items = asyncio.run(_collect(run))
    assert [i.id for i in items] == ["b", "c", "a"]  # a was first in, finished last
    assert all(i.ok and isinstance(i.outcome, Answer) for i in items)
    doc_id, outcome = items[0]
    assert doc_id == "b" and isinstance(outcome, Answer) and outcome.answer == "Kyiv"
    assert (run.report.done, run.report.failed, run.report.usage.calls) == (3, 0, 3)
    assert sorted(json.loads(line)["id"] for line in out.read_text().splitlines()) == [
        "a",
        "b",
        "c",
    ]


def test_abatch_never_exceeds_its_concurrency(tmp_path: Path) -> None:
    folder = _folder(tmp_path, {f"{i:02d}": f"Kyiv said no {i} times." for i in range(8)})
    with FakeOpenAI([Reply.json(GOOD, delay=0.1)] * 8) as server:
        client = fake_client(server)
        gauge = Gauge(client)
        run = newsqa.abatch(
            folder, newsqa.Ask(QUESTION), tmp_path / "o.jsonl", client=client, concurrency=3
        )
        items = asyncio.run(_collect(run))
        assert len(server.requests) == 8
    assert len(items) == 8 and gauge.peak == 3


def test_abatch_resumes_like_run_batch_and_yields_failures(tmp_path: Path) -> None:
    folder = _folder(tmp_path, {"a": "Kyiv said no.", "b": "Kyiv said no twice."})
    (folder / "c.txt").write_bytes(b"\x00\x01binary")
    out = tmp_path / "out.jsonl"
    key = job_key(load_document(folder / "a.txt"), newsqa.Ask(QUESTION))
    out.write_text(json.dumps({"id": "a", "key": key, "result": {}}) + "\n")
    with FakeOpenAI([Reply.text("garbage")] * 3) as server:
        run = newsqa.abatch(
            folder, newsqa.Ask(QUESTION), out, client=fake_client(server, max_reasks=2)
        )
        items = {i.id: i for i in run}  # a plain for works too
        assert len(server.requests) == 3  # a skipped, c never reached the model
        assert set(items) == {"b", "c"}
        failed = items["b"].outcome
        assert isinstance(failed, OutputValidationError) and items["b"].usage.calls == 3
        assert isinstance(items["c"].outcome, DocumentError)
        assert (run.report.done, run.report.failed, run.report.skipped) == (0, 2, 1)
        client = fake_client(server)
        assert done_ids(out, folder, newsqa.Ask(QUESTION), client) == {"a"}
        server.script = [Reply.json(GOOD)]
        again = newsqa.batch(folder, newsqa.Ask(QUESTION), out, client=client)
        assert len(server.requests) == 4  # only b runs again
        assert (again.done, again.failed, again.skipped) == (1, 1, 1)
        assert done_ids(out, folder, newsqa.Ask(QUESTION), client) == {"a", "b"}


def test_breaking_out_starts_no_new_document_and_keeps_finished_lines(tmp_path: Path) -> None:
    folder = _folder(tmp_path, {"a": "Kyiv said no.", "b": "Kyiv said no.", "c": "Kyiv no."})
    out = tmp_path / "out.jsonl"

    async def first_only(run: newsqa.BatchRun[Answer]) -> str:
        async with aclosing(run.__aiter__()) as items:
            async for item in items:
                return item.id
        raise AssertionError("no item")

    with FakeOpenAI([Reply.json(GOOD)] * 3) as server:
        run = newsqa.abatch(folder, newsqa.Ask(QUESTION), out, client=fake_client(server))
        assert asyncio.run(first_only(run)) == "a"
        time.sleep(0.2)
        assert len(server.requests) == 1
    assert [json.loads(line)["id"] for line in out.read_text().splitlines()] == ["a"]
    with pytest.raises(RuntimeError, match="only once"):
        list(run)


def test_batch_closes_the_client_it_made(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    folder = _folder(tmp_path, {"a": "Kyiv said no."})
    with FakeOpenAI([Reply.json(GOOD)]) as server:
        made: list[LLMClient] = []

        def connect() -> LLMClient:
            made.append(fake_client(server))
            return made[-1]

        monkeypatch.setattr(newsqa.api, "connect", connect)
        report = newsqa.batch(str(folder), newsqa.Ask(QUESTION), str(tmp_path / "o.jsonl"))
        with pytest.raises(ValueError, match="concurrency"):  # refused once the client is made
            newsqa.abatch(folder, newsqa.Ask(QUESTION), tmp_path / "o.jsonl", concurrency=0)
        with pytest.raises(ValueError, match="question"):  # refused before a client is made
            newsqa.abatch(folder, newsqa.Ask(), tmp_path / "o.jsonl")
    assert report.done == 1 and len(made) == 2
    assert made[0]._sdk.is_closed() and made[1]._sdk.is_closed()


def test_batch_arguments_are_checked_before_any_work(tmp_path: Path) -> None:
    with FakeOpenAI([]) as server:
        client = fake_client(server)
        with pytest.raises(ValueError, match="question"):
            newsqa.abatch([], newsqa.Ask(), tmp_path / "o.jsonl", client=client)
        with pytest.raises(ValueError, match="concurrency"):
            newsqa.batch([], newsqa.Summarize(), tmp_path / "o.jsonl", client=client, concurrency=0)
        assert not server.requests
    assert not (tmp_path / "o.jsonl").exists()


def test_a_task_name_still_runs_with_a_deprecation_warning(tmp_path: Path) -> None:
    folder = _folder(tmp_path, {"a": "Kyiv said no."})
    out = tmp_path / "out.jsonl"
    with (
        FakeOpenAI([Reply.json(GOOD)]) as server,
        pytest.warns(DeprecationWarning, match="task object"),
    ):
        client = fake_client(server)
        report = newsqa.batch(folder, "ask", out, client=client, question=QUESTION)
    assert report.done == 1
    assert done_ids(out, folder, newsqa.Ask(QUESTION), client) == {"a"}  # the object's key


def test_parameters_beside_a_task_object_are_refused(tmp_path: Path) -> None:
    with pytest.raises(TypeError, match="question"):
        newsqa.batch([], newsqa.Summarize(), tmp_path / "o.jsonl", question=QUESTION)
