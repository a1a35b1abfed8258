"""Batch resume by content key: a result is reused only for the same document, task and
parameters, model, endpoint and prompt templates; a line of an older newsqa that names no
model counts as made by the model in use."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from newsqa import Ask, prompts
from newsqa.batch.run import BatchReport, job_key, run_batch
from newsqa.documents import document_from_text
from tests.conftest import fake_client
from tests.support.fake_openai import FakeOpenAI, Reply

GOOD = {"sentences": [1], "answer": "Kyiv"}
DOC = document_from_text("Kyiv said no to the plan.", id="news")
TASK = Ask("Who said no?")


def _counts(report: BatchReport) -> tuple[int, int]:
    return report.done, report.skipped


def test_another_model_runs_the_document_again_and_each_line_names_its_model(
    tmp_path: Path,
) -> None:
    out = tmp_path / "out.jsonl"
    with FakeOpenAI([Reply.json(GOOD)] * 2) as server:
        first = run_batch([DOC], TASK, out, client=fake_client(server))
        other = run_batch([DOC], TASK, out, client=fake_client(server, model="other"))
        again = run_batch([DOC], TASK, out, client=fake_client(server, model="other"))
        assert len(server.requests) == 2
    assert [_counts(r) for r in (first, other, again)] == [(1, 0), (1, 0), (0, 1)]
    models = [json.loads(line)["model"] for line in out.read_text().splitlines()]
    assert models == ["fake", "other"]


def test_another_endpoint_runs_the_document_again(tmp_path: Path) -> None:
    out = tmp_path / "out.jsonl"
    with FakeOpenAI([Reply.json(GOOD)]) as one, FakeOpenAI([Reply.json(GOOD)]) as two:
        first = run_batch([DOC], TASK, out, client=fake_client(one))
        second = run_batch([DOC], TASK, out, client=fake_client(two))
        assert (len(one.requests), len(two.requests)) == (1, 1)
    assert [_counts(r) for r in (first, second)] == [(1, 0), (1, 0)]


def test_an_edited_prompt_template_runs_the_document_again(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    templates = tmp_path / "prompts"
    shutil.copytree(prompts.prompts_dir(), templates)
    monkeypatch.setattr(prompts, "prompts_dir", lambda: templates)
    prompts.load_template.cache_clear()
    out = tmp_path / "out.jsonl"
    try:
        with FakeOpenAI([Reply.json(GOOD)] * 2) as server:
            first = run_batch([DOC], TASK, out, client=fake_client(server))
            same = run_batch([DOC], TASK, out, client=fake_client(server))
            edited = templates / "ask.user.md"
            edited.write_text(edited.read_text(encoding="utf-8") + "\nBe brief.\n")
            prompts.load_template.cache_clear()
            second = run_batch([DOC], TASK, out, client=fake_client(server))
            assert len(server.requests) == 2
    finally:
        prompts.load_template.cache_clear()
    assert [_counts(r) for r in (first, same, second)] == [(1, 0), (0, 1), (1, 0)]


def test_a_line_that_names_no_model_is_reused_by_the_model_in_use(tmp_path: Path) -> None:
    out = tmp_path / "out.jsonl"
    old = {"id": "news", "task": "ask", "key": job_key(DOC, TASK), "result": {}}
    out.write_text(json.dumps(old) + "\n")
    with FakeOpenAI([]) as server:
        report = run_batch([DOC], TASK, out, client=fake_client(server, model="any"))
        assert len(server.requests) == 0
    assert _counts(report) == (0, 1)


def test_a_line_with_a_model_is_not_read_by_its_old_key(tmp_path: Path) -> None:
    out = tmp_path / "out.jsonl"
    line = {"id": "news", "task": "ask", "model": "gone", "key": job_key(DOC, TASK)}
    out.write_text(json.dumps({**line, "result": {}}) + "\n")
    with FakeOpenAI([Reply.json(GOOD)]) as server:
        report = run_batch([DOC], TASK, out, client=fake_client(server))
        assert len(server.requests) == 1
    assert _counts(report) == (1, 0)
