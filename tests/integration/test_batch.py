"""Batch runs against a scripted loopback model: per-document failures, resume, no lost work."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from newsqa import Ask, Summarize
from newsqa.batch.run import completed_keys, job_key, run_batch
from newsqa.documents import iter_inputs, load_document
from tests.conftest import fake_client
from tests.integration.batch_support import done_ids
from tests.support.fake_openai import FakeOpenAI, Reply

GOOD = {"sentences": [1], "answer": "Kyiv"}
QUESTION = "Which city said no?"


def _folder(tmp_path: Path) -> Path:
    folder = tmp_path / "in"
    folder.mkdir()
    (folder / "a.txt").write_text("Kyiv said no to the plan.")
    (folder / "b.txt").write_text("Kyiv said no again.")
    (folder / "c.txt").write_bytes(b"\x00\x01binary")
    (folder / "d.txt").write_text("Kyiv said no a third time.")
    return folder


def _lines(path: Path) -> list[dict[str, object]]:
    return [json.loads(line) for line in path.read_text().splitlines()]


def test_failures_are_recorded_per_document_and_finished_work_is_kept(tmp_path: Path) -> None:
    out = tmp_path / "out.jsonl"
    script = [Reply.json(GOOD)] + [Reply.text("garbage")] * 3 + [Reply.json(GOOD)]
    with FakeOpenAI(script) as server:
        report = run_batch(
            iter_inputs(_folder(tmp_path)),
            Ask(QUESTION),
            out,
            client=fake_client(server, max_reasks=2),
        )
    assert (report.done, report.failed, report.skipped) == (2, 2, 0)
    lines = {str(r["id"]): r for r in _lines(out)}
    assert set(lines) == {"a", "b", "c", "d"}  # an input that did not load: its stem too
    assert lines["a"]["result"]["answer"] == "Kyiv"  # type: ignore[index]
    assert lines["b"]["error_type"] == "OutputValidationError"
    assert lines["c"]["error_type"] == "DocumentError"
    assert lines["c"]["source"] == str(tmp_path / "in" / "c.txt")
    assert lines["b"]["usage"]["calls"] == 3  # type: ignore[index]
    assert report.usage.calls == 5


def test_rerun_skips_done_and_retries_failed(tmp_path: Path) -> None:
    out = tmp_path / "out.jsonl"
    folder = _folder(tmp_path)
    with FakeOpenAI(
        [Reply.json(GOOD), Reply(status=400, body={"error": {"message": "x"}}), Reply.json(GOOD)]
    ) as server:
        client = fake_client(server)
        first = run_batch(iter_inputs(folder), Ask(QUESTION), out, client=client)
        assert (first.done, first.failed) == (2, 2)
        server.script = [Reply.json(GOOD)]
        second = run_batch(iter_inputs(folder), Ask(QUESTION), out, client=client)
        assert len(server.requests) == 4  # only b is asked again
        assert (second.done, second.skipped) == (1, 2)
        assert done_ids(out, folder, Ask(QUESTION), client) == {"a", "b", "d"}
        assert done_ids(out, folder, Ask("Another question?"), client) == set()
        assert done_ids(out, folder, Summarize(), client) == set()


def test_a_line_cut_short_by_a_crash_is_redone(tmp_path: Path) -> None:
    out = tmp_path / "out.jsonl"
    folder = _folder(tmp_path)
    a, b = (load_document(folder / f"{n}.txt") for n in "ab")
    key_a, key_b = (job_key(d, Ask("Q")) for d in (a, b))
    out.write_bytes(
        f'{{"id": "a", "key": "{key_a}", "result": {{}}}}\n'.encode()
        + f'{{"id": "b", "key": "{key_b}", "result": "'.encode()
        + b"\xe2\x80"
    )  # cut mid-character
    assert completed_keys(out) == {key_a}
    assert done_ids(out, folder, Ask("Q")) == {"a"}


def test_concurrency_runs_every_document_once(tmp_path: Path) -> None:
    folder = tmp_path / "many"
    folder.mkdir()
    for i in range(12):
        (folder / f"{i:02d}.txt").write_text(f"Kyiv said no {i} times.")
    out = tmp_path / "out.jsonl"
    with FakeOpenAI([Reply.json(GOOD, delay=0.05)] * 12) as server:
        report = run_batch(
            iter_inputs(folder), Ask(QUESTION), out, client=fake_client(server), concurrency=4
        )
        assert len(server.requests) == 12
    assert report.done == 12
    assert sorted(str(r["id"]) for r in _lines(out)) == [f"{i:02d}" for i in range(12)]


def test_interrupt_keeps_finished_lines(tmp_path: Path) -> None:
    out = tmp_path / "out.jsonl"
    seen: list[str] = []

    def stop_after_first(doc_id: str, ok: bool) -> None:
        seen.append(doc_id)
        raise KeyboardInterrupt

    with FakeOpenAI([Reply.json(GOOD)] * 3) as server, pytest.raises(KeyboardInterrupt):
        run_batch(
            iter_inputs(_folder(tmp_path)),
            Ask(QUESTION),
            out,
            client=fake_client(server),
            on_done=stop_after_first,
        )
    assert [r["id"] for r in _lines(out)] == ["a"] == seen


def test_jsonl_input_with_a_bad_record_keeps_going(tmp_path: Path) -> None:
    src = tmp_path / "in.jsonl"
    src.write_text(
        '{"id": "x", "text": "Kyiv said no."}\n{bad json}\n'
        '{"id": "y", "text": "Kyiv said no twice."}\n'
    )
    items = list(iter_inputs(src))
    assert [getattr(i, "id", None) for i in items] == ["x", None, "y"]


def test_ask_needs_a_question(tmp_path: Path) -> None:
    with FakeOpenAI([]) as server, pytest.raises(ValueError, match="question"):
        run_batch([], Ask(), tmp_path / "o.jsonl", client=fake_client(server))
