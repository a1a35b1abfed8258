"""A batch's output file, against a scripted loopback model: a torn last line loses no record,
one run at a time, usage counts every request served."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from newsqa import (
    Ask,
    Stances,
    document_from_text,
)
from newsqa.batch.run import BatchRun, run_batch
from newsqa.types import Answer, Document
from tests.conftest import fake_client
from tests.support.fake_openai import FakeOpenAI, Reply


def _docs(n: int) -> list[Document]:
    return [document_from_text(f"Kyiv said no {i}.", id=f"d{i}") for i in range(n)]


ANSWER = Reply.json({"sentences": [1], "answer": "no"})


def test_resume_after_a_torn_last_line_loses_no_record(tmp_path: Path) -> None:
    out = tmp_path / "out.jsonl"
    with FakeOpenAI([ANSWER] * 3) as server:
        client = fake_client(server)
        run_batch(_docs(1), Ask("Who said no?"), out, client=client)
        with out.open("ab") as fh:  # the disk filled up in the middle of d1's line
            fh.write(b'{"id": "d1", "task": "ask", "question": "Who said no?", "res')
        report = run_batch(_docs(3), Ask("Who said no?"), out, client=client)
    lines = [json.loads(line) for line in out.read_text().splitlines()]  # all whole
    assert sorted(r["id"] for r in lines) == ["d0", "d1", "d2"]
    assert (report.done, report.skipped) == (2, 1)
    assert (tmp_path / "out.jsonl.partial").read_bytes().startswith(b'{"id": "d1"')


def test_a_second_run_on_the_same_output_is_refused(tmp_path: Path) -> None:
    out = tmp_path / "out.jsonl"
    with FakeOpenAI([ANSWER] * 4) as server:
        client = fake_client(server)
        run = BatchRun[Answer](_docs(2), Ask("Who said no?"), out, client=client)
        first = iter(run)
        next(first)  # the first run holds the file
        with pytest.raises(BlockingIOError, match="another batch run"):
            run_batch(_docs(2), Ask("Who said no?"), out, client=client)
        assert len(list(first)) == 1
        run_batch(_docs(2), Ask("Who said no?"), out, client=client)  # released
    assert len(out.read_text().splitlines()) == 2


def test_usage_counts_every_request_served_also_when_a_document_fails(tmp_path: Path) -> None:
    doc = document_from_text(
        "Ukraine asked for talks. Russia refused the plan. Kyiv wants aid.", id="s"
    )
    stance = {"sentences": [1], "label": "supports", "position": "Wants talks."}
    script = [
        Reply(status=429, body={"error": {"message": "slow down"}}),
        Reply.json(stance),
        Reply(status=500, body={"error": {"message": "boom"}}),
        Reply(status=400, body={"error": {"message": "bad request"}}),
    ]
    out = tmp_path / "out.jsonl"
    with FakeOpenAI(script) as server:
        client = fake_client(server)
        report = run_batch([doc], Stances(), out, client=client)
        served = len(server.requests)
    line = json.loads(out.read_text())
    assert served == 4 and report.failed == 1
    assert line["usage"]["calls"] == served  # was 0: the failure dropped earlier calls
    assert report.usage.calls == served and client.usage.calls == served
