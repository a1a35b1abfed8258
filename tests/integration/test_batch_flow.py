"""Batch flow details a mutation run found unpinned: completion order under a slow
document, concurrency of every entry point, early exits, messages."""

from __future__ import annotations

import asyncio
import json
import time
from pathlib import Path

import pytest

import newsqa
from newsqa import Answer, BatchItem, DocumentError
from newsqa.batch.run import completed_keys, job_key, run_batch
from newsqa.documents import document_from_text, iter_inputs
from newsqa.llm.retry import DeadlinePassed, TooLongRetryAfter, parse_retry_after
from newsqa.types import Document
from tests.conftest import fake_client
from tests.integration.test_batch_api import GOOD, QUESTION, Gauge, _folder
from tests.support.fake_openai import FakeOpenAI, Reply, schema_reply


def test_a_slow_document_does_not_hold_back_the_others(tmp_path: Path) -> None:
    folder = _folder(
        tmp_path,
        {"a": "Kyiv said no, slowly.", "b": "Kyiv said no.", "c": "Kyiv no.", "d": "Kyiv, no."},
    )
    with FakeOpenAI([Reply.json(GOOD)] * 4) as server:
        client = fake_client(server)
        Gauge(client, slow_word="slowly", delay=0.6)
        run = newsqa.abatch(
            folder, newsqa.Ask(QUESTION), tmp_path / "o.jsonl", client=client, concurrency=2
        )
        order = [item.id for item in run]  # the plain-for path
    assert order[-1] == "a" and sorted(order) == ["a", "b", "c", "d"]


def test_run_batch_keeps_its_concurrency(tmp_path: Path) -> None:
    folder = _folder(tmp_path, {f"{i:02d}": f"Kyiv said no {i} times." for i in range(6)})
    with FakeOpenAI([Reply.json(GOOD, delay=0.15)] * 6) as server:
        client = fake_client(server)
        gauge = Gauge(client)
        report = run_batch(
            iter_inputs(folder),
            newsqa.Ask(QUESTION),
            tmp_path / "o.jsonl",
            client=client,
            concurrency=3,
        )
    assert report.done == 6 and gauge.peak == 3


def test_async_iteration_goes_on_after_a_document_that_did_not_load(tmp_path: Path) -> None:
    docs: list[Document | DocumentError] = [
        DocumentError("bad.txt: empty", reason="empty", source="bad.txt"),
        document_from_text("Kyiv said no.", id="a"),
        document_from_text("Kyiv said no twice.", id="b"),
    ]

    async def collect(run: newsqa.BatchRun[Answer]) -> list[BatchItem[Answer]]:
        return [item async for item in run]

    with FakeOpenAI([Reply.json(GOOD, delay=0.1)] * 2) as server:
        client = fake_client(server)
        gauge = Gauge(client)
        run = newsqa.abatch(
            docs, newsqa.Ask(QUESTION), tmp_path / "o.jsonl", client=client, concurrency=1
        )
        items = asyncio.run(collect(run))
    assert sorted(i.id for i in items) == ["a", "b", "bad"] and gauge.peak == 1


def test_breaking_out_does_not_wait_for_the_documents_in_flight(tmp_path: Path) -> None:
    folder = _folder(tmp_path, {"a": "Kyiv said no.", "b": "Kyiv said no, slowly."})
    with FakeOpenAI([Reply.json(GOOD)] * 2) as server:
        client = fake_client(server)
        gauge = Gauge(client, slow_word="slowly", delay=3.0)
        run = newsqa.abatch(
            folder, newsqa.Ask(QUESTION), tmp_path / "o.jsonl", client=client, concurrency=2
        )
        for _item in run:
            wait = time.monotonic() + 10
            while gauge.in_flight == 0 and time.monotonic() < wait:
                time.sleep(0.01)  # b is under way (one not yet started is left for a re-run)
            started = time.monotonic()
            break
        left_after = time.monotonic() - started
        deadline = time.monotonic() + 30
        while run.report.done < 2 and time.monotonic() < deadline:
            time.sleep(0.05)  # b finishes and writes in the background
    assert left_after < 1.5  # b takes 3 s
    assert run.report.done == 2


def test_duplicate_messages_name_both_sources_and_the_fix() -> None:
    from newsqa.documents.load import duplicate_id

    message = str(duplicate_id(document_from_text("x.", id="n"), None))
    assert message == (
        "two documents share the id 'n' (? and ?); ids must be distinct "
        "(rename a file or give the records their own ids)"
    )


def test_retry_exceptions_say_what_happened() -> None:
    cause = OSError("down")
    too_long = TooLongRetryAfter(12.4, cause)
    assert str(too_long) == "server asked to retry after 12s" and too_long.cause is cause
    assert too_long.seconds == 12.4
    passed = DeadlinePassed(cause)
    assert str(passed) == "the call's deadline passed" and passed.cause is cause
    assert parse_retry_after({"Retry-After": "0"}) == 0.0
    assert parse_retry_after({"retry-after-ms": "0"}) == 0.0
    assert parse_retry_after({"Retry-After": "-5"}) == 0.0


def test_lines_carry_the_job_the_error_and_raw_text(tmp_path: Path) -> None:
    docs = [document_from_text("Kyïv said no.", id="a"), document_from_text("Zürich.", id="b")]
    seen: list[tuple[str, bool]] = []
    refused = Reply(status=400, body={"error": {"message": "refused"}})
    with FakeOpenAI([Reply.json({"sentences": [1], "answer": "Kyïv"}), refused]) as server:
        report = run_batch(
            docs,
            newsqa.Ask("Who?"),
            tmp_path / "o.jsonl",
            client=fake_client(server),
            on_done=lambda i, ok: seen.append((i, ok)),
        )
    raw = (tmp_path / "o.jsonl").read_text(encoding="utf-8")
    lines = [json.loads(line) for line in raw.splitlines()]
    assert '"answer": "Kyïv"' in raw  # UTF-8 as is, not \u escapes
    jobs = [(r["id"], r["task"], r["question"]) for r in lines]
    assert jobs == [("a", "ask", "Who?"), ("b", "ask", "Who?")]
    assert lines[1]["error"] == report.errors["b"] and "refused" in lines[1]["error"]
    assert seen == [("a", True), ("b", False)]


def test_summarize_and_stances_batches_run_their_task(tmp_path: Path) -> None:
    doc = document_from_text("Russia said it was ready for talks.", id="a")
    with FakeOpenAI([], responder=schema_reply) as server:
        client = fake_client(server)
        summary = run_batch([doc], newsqa.Summarize(), tmp_path / "s.jsonl", client=client)
        stances = run_batch([doc], newsqa.Stances("grain"), tmp_path / "t.jsonl", client=client)
        prompts = [str(r["messages"][-1]["content"]) for r in server.requests]
    assert (summary.done, stances.done) == (1, 1)
    assert "summarize the article" in prompts[0]
    assert all("<topic>grain</topic>" in p for p in prompts[1:])
    [line] = [json.loads(x) for x in (tmp_path / "t.jsonl").read_text().splitlines()]
    assert line["topic"] == "grain" and "stances" in line["result"]


def test_default_concurrency_is_one(tmp_path: Path) -> None:
    folder = _folder(tmp_path, {f"{i}": f"Kyiv said no {i} times." for i in range(3)})
    with FakeOpenAI([Reply.json(GOOD, delay=0.1)] * 3) as server:
        client = fake_client(server)
        gauge = Gauge(client)
        run_batch(iter_inputs(folder), newsqa.Ask(QUESTION), tmp_path / "o.jsonl", client=client)
    assert gauge.peak == 1


def test_a_torn_line_does_not_hide_the_lines_after_it(tmp_path: Path) -> None:
    doc = document_from_text("Kyiv said no.", id="a")
    key = job_key(doc, newsqa.Ask("Q"))
    out = tmp_path / "o.jsonl"
    out.write_text(
        '{"id": "a", "key": "torn\n' + json.dumps({"id": "a", "key": key, "result": {}}) + "\n"
    )
    assert completed_keys(out) == {key}


def test_a_lazily_found_duplicate_names_the_first_source(tmp_path: Path) -> None:
    a = document_from_text("Kyiv said no.", id="news", source="x1/news.txt")
    b = document_from_text("Moscow said yes.", id="news", source="x2/news.txt")
    with FakeOpenAI([Reply.json(GOOD)]) as server, pytest.raises(ValueError) as info:
        run_batch(iter([a, b]), newsqa.Ask("Q"), tmp_path / "o.jsonl", client=fake_client(server))
    assert "(x1/news.txt and x2/news.txt)" in str(info.value)


def test_a_wait_of_exactly_the_cap_is_honoured_and_a_longer_one_is_a_429_error() -> None:
    from newsqa import RateLimitError
    from tests.integration.test_tables import MESSAGES, OK, _client

    sleeps: list[float] = []
    wait = Reply(status=429, body={"error": {"message": "x"}}, headers={"Retry-After": "30"})
    with FakeOpenAI([wait, OK]) as server:
        _client(server, sleeps, max_retry_wait=30.0).chat(MESSAGES, max_tokens=5)
    assert sleeps == [30.0]
    longer = Reply(status=429, body={"error": {"message": "x"}}, headers={"Retry-After": "31"})
    with FakeOpenAI([longer]) as server, pytest.raises(RateLimitError) as info:
        _client(server, [], max_retry_wait=30.0).chat(MESSAGES, max_tokens=5)
    assert info.value.status_code == 429


def test_a_batch_run_defaults_to_one_document_at_a_time(tmp_path: Path) -> None:
    docs = [document_from_text(f"Kyiv said no {i} times.", id=f"{i}") for i in range(3)]
    with FakeOpenAI([Reply.json(GOOD, delay=0.1)] * 3) as server:
        client = fake_client(server)
        gauge = Gauge(client)
        run = newsqa.BatchRun[Answer](
            docs, newsqa.Ask(QUESTION), tmp_path / "o.jsonl", client=client
        )
        assert run.concurrency == 1 and run.run().done == 3
    assert gauge.peak == 1
