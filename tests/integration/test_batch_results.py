"""Reading a batch output that only grows: the latest line per id, errors apart, one id
rule for results and inputs that failed, and compaction."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import newsqa
from newsqa.batch.output import OutputFile
from newsqa.batch.run import run_batch
from newsqa.documents import iter_inputs
from tests.conftest import fake_client
from tests.support.fake_openai import FakeOpenAI, Reply

GOOD = {"sentences": [1], "answer": "Kyiv"}
QUESTION = "Which city said no?"
REFUSED = Reply(status=400, body={"error": {"message": "bad request"}})


def _folder(tmp_path: Path) -> Path:
    folder = tmp_path / "in"
    folder.mkdir()
    (folder / "a.txt").write_text("Kyiv said no to the plan.")
    (folder / "b.txt").write_text("Kyiv said no again.")
    (folder / "c.txt").write_bytes(b"\x00\x01binary")
    return folder


def _ids(out: Path) -> list[str]:
    return [json.loads(line)["id"] for line in out.read_text().splitlines()]


def test_the_latest_line_per_id_with_errors_apart_after_edits_and_failures(
    tmp_path: Path,
) -> None:
    folder, out = _folder(tmp_path), tmp_path / "out.jsonl"
    with FakeOpenAI([Reply.json(GOOD), REFUSED]) as server:
        client = fake_client(server)
        run_batch(iter_inputs(folder), newsqa.Ask(QUESTION), out, client=client)
        first = newsqa.read_results(out)
        assert set(first.results) == {"a"}
        assert set(first.errors) == {"b", "c"}  # a file that did not load: its stem too
        assert first.errors["c"]["source"] == str(folder / "c.txt")
        (folder / "a.txt").write_text("Kyiv said no to the plan, twice.")  # edited
        (folder / "c.txt").write_text("Kyiv said no once more.")  # fixed
        server.script = [Reply.json(GOOD)] * 3
        run_batch(iter_inputs(folder), newsqa.Ask(QUESTION), out, client=client)
    assert sorted(_ids(out)) == ["a", "a", "b", "b", "c", "c"]  # the file only grows
    now = newsqa.read_results(out)
    assert set(now.results) == {"a", "b", "c"} and now.errors == {}
    assert "twice" in now.results["a"]["result"]["citations"][0]["text"]
    assert (now.lines, now.unreadable, now.kept) == (6, 0, 3)


def test_a_result_before_a_later_error_is_kept_and_the_error_shown(tmp_path: Path) -> None:
    out = tmp_path / "out.jsonl"
    lines = [
        {"id": "a", "key": "k1", "result": {"answer": "Kyiv"}},
        {"id": "a", "key": "k2", "error": "timed out", "error_type": "LLMTimeoutError"},
        {"id": "b", "key": "k3", "error": "bad", "error_type": "ProviderError"},
        {"id": "b", "key": "k4", "result": {"answer": "Moscow"}},
    ]
    out.write_text("".join(json.dumps(x) + "\n" for x in lines) + '{"id": "c", "res\n')
    state = newsqa.read_results(out)
    assert state.results["a"]["key"] == "k1" and state.errors["a"]["key"] == "k2"
    assert state.results["b"]["key"] == "k4" and "b" not in state.errors
    assert (state.lines, state.unreadable) == (5, 1)


def test_compacting_keeps_the_current_lines_and_resume_skips_the_same(tmp_path: Path) -> None:
    folder, out = _folder(tmp_path), tmp_path / "out.jsonl"
    with FakeOpenAI([Reply.json(GOOD), REFUSED, Reply.json(GOOD)]) as server:
        client = fake_client(server)
        run_batch(iter_inputs(folder), newsqa.Ask(QUESTION), out, client=client)
        run_batch(iter_inputs(folder), newsqa.Ask(QUESTION), out, client=client)
        assert len(server.requests) == 3  # b retried
        before = newsqa.read_results(out)
        report = newsqa.compact_results(out)
        assert (report.lines, report.kept) == (5, 3)
        assert sorted(_ids(out)) == ["a", "b", "c"]
        assert newsqa.read_results(out) == newsqa.BatchResults(
            results=before.results, errors=before.errors, lines=3
        )
        again = run_batch(iter_inputs(folder), newsqa.Ask(QUESTION), out, client=client)
        assert (again.skipped, len(server.requests)) == (2, 3)  # c cannot load: fails again
    assert not list(tmp_path.glob(".out.jsonl.*"))  # no temporary file left


def test_compacting_a_file_a_run_holds_is_refused(tmp_path: Path) -> None:
    out = tmp_path / "out.jsonl"
    out.write_text(json.dumps({"id": "a", "result": {}}) + "\n")
    held = OutputFile(out)
    try:
        with pytest.raises(BlockingIOError, match="another batch run"):
            newsqa.compact_results(out)
    finally:
        held.close()
    assert _ids(out) == ["a"]


def test_compacting_a_missing_file_is_refused_and_makes_none(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match=r"nope\.jsonl: no such file"):
        newsqa.compact_results(tmp_path / "nope.jsonl")
    assert not (tmp_path / "nope.jsonl").exists()
