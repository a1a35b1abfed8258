"""Batch flow details a mutation run found unpinned: completion order under a slow
document, concurrency of every entry point, early exits, messages."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import newsqa
from newsqa import Answer, BatchItem, DocumentError
from newsqa.documents import document_from_text, iter_inputs
from newsqa.llm.retry import DeadlinePassed, TooLongRetryAfter, parse_retry_after
from newsqa.tasks.batch import run_batch
from newsqa.types import Document
from tests.conftest import fake_client
from tests.support.fake_openai import FakeOpenAI, Reply
from tests.unit.test_batch_api import GOOD, QUESTION, Gauge, _folder


def test_a_slow_document_does_not_hold_back_the_others(tmp_path: Path) -> None:
    folder = _folder(
        tmp_path,
        {"a": "Kyiv said no, slowly.", "b": "Kyiv said no.", "c": "Kyiv no.", "d": "Kyiv, no."},
    )
    with FakeOpenAI([Reply.json(GOOD)] * 4) as server:
        client = fake_client(server)
        Gauge(client, slow_word="slowly", delay=0.6)
        run = newsqa.abatch(
            folder, "ask", tmp_path / "o.jsonl", client=client, question=QUESTION, concurrency=2
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
            "ask",
            tmp_path / "o.jsonl",
            client=client,
            question=QUESTION,
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
            docs, "ask", tmp_path / "o.jsonl", client=client, question=QUESTION, concurrency=1
        )
        items = asyncio.run(collect(run))
    assert sorted(i.id for i in items) == ["a", "b", "bad.txt"] and gauge.peak == 1


def test_breaking_out_does_not_wait_for_the_documents_in_flight(tmp_path: Path) -> None:
    folder = _folder(tmp_path, {"a": "Kyiv said no.", "b": "Kyiv said no, slowly."})
    with FakeOpenAI([Reply.json(GOOD)] * 2) as server:
        client = fake_client(server)
        Gauge(client, slow_word="slowly", delay=1.0)
        run = newsqa.abatch(
            folder, "ask", tmp_path / "o.jsonl", client=client, question=QUESTION, concurrency=2
        )
        for _item in run:
            started = time.monotonic()
            break
        left_after = time.monotonic() - started
        time.sleep(1.2)  # b finishes and writes in the background
    assert left_after < 0.5
    assert run.report.done == 2


def test_duplicate_messages_name_both_sources_and_the_fix() -> None:
    from newsqa.tasks.batch import _duplicate

    message = str(_duplicate(document_from_text("x.", id="n"), None))
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
    assert "deadline" in str(passed) and passed.cause is cause
    assert parse_retry_after({"Retry-After": "0"}) == 0.0
    assert parse_retry_after({"retry-after-ms": "0"}) == 0.0
    assert parse_retry_after({"Retry-After": "-5"}) == 0.0
