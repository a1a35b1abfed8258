"""``newsqa.batch`` / ``abatch`` with ``"extract"``: the JSON contract of each line,
typed outcomes, and a schema refused before any document is read or client made."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from pydantic import BaseModel, Field

import newsqa
from newsqa import Document, DocumentError, Extraction, LLMClient, SchemaError
from newsqa.batch.run import BatchRun, run_batch
from tests.conftest import fake_client
from tests.support.fake_openai import FakeOpenAI, Reply


class Meeting(BaseModel):
    place: str | None = Field(None, description="where they met")


class Talks(BaseModel):
    casualties: int | None = Field(None, description="people killed")
    meetings: list[Meeting] = Field(default_factory=list, description="meetings held")


class Recursive(BaseModel):
    name: str | None = None
    child: Recursive | None = None


def _draft(casualties: int | None, place: str | None) -> dict[str, Any]:
    return {
        "casualties": {"sentences": [1] if casualties else [], "value": casualties},
        "meetings": [{"place": {"sentences": [2], "value": place}}] if place else [],
    }


def _folder(tmp_path: Path) -> Path:
    folder = tmp_path / "in"
    folder.mkdir()
    (folder / "a.txt").write_text("Three people died in Kharkiv. Envoys met in Geneva.")
    (folder / "b.txt").write_text("Nobody was hurt. The envoys met in Doha.")
    return folder


def test_each_line_holds_the_extraction_contract_and_resume_skips_done(tmp_path: Path) -> None:
    folder, out = _folder(tmp_path), tmp_path / "facts.jsonl"
    script = [Reply.json(_draft(3, "Geneva")), Reply.json(_draft(None, "Doha"))]
    with FakeOpenAI(script) as server:
        client = fake_client(server)
        report = newsqa.batch(folder, newsqa.Extract(Talks), out, client=client)
        again = newsqa.batch(folder, newsqa.Extract(Talks), out, client=client)
        assert len(server.requests) == 2
    assert (report.done, report.failed, again.skipped, again.done) == (2, 0, 2, 0)
    lines = {line["id"]: line for line in map(json.loads, out.read_text().splitlines())}
    a, b = lines["a"], lines["b"]
    assert set(a) == {"id", "task", "model", "schema", "instructions", "key", "result", "usage"}
    assert (a["task"], a["model"], a["schema"]) == ("extract", "fake", "Talks")
    assert a["instructions"] is None
    assert set(a["result"]) == {"schema_version", "doc", "value", "evidence", "dropped", "spans"}
    assert a["result"]["value"] == {"casualties": 3, "meetings": [{"place": "Geneva"}]}
    text = (folder / "a.txt").read_text()
    for path, cited in a["result"]["evidence"].items():
        assert path in {"casualties", "meetings[0].place"}
        assert all(text[e["start"] : e["end"]] == e["text"] for e in cited)
    assert [span["text"] for span in a["result"]["spans"].values()] == ["Three", "Geneva"]
    assert b["result"]["value"] == {"casualties": None, "meetings": [{"place": "Doha"}]}
    assert "casualties" not in b["result"]["evidence"]
    assert a["usage"]["calls"] == 1


def test_a_document_that_never_validates_is_an_error_line(tmp_path: Path) -> None:
    doc = newsqa.document_from_text("Three people died.", id="x")
    out = tmp_path / "o.jsonl"
    with FakeOpenAI([Reply.text("not json")] * 3) as server:
        report = run_batch([doc], newsqa.Extract(Talks), out, client=fake_client(server))
    assert (report.done, report.failed) == (0, 1)
    line = json.loads(out.read_text())
    assert line["error_type"] == "OutputValidationError" and line["usage"]["calls"] == 3


def test_abatch_yields_extractions_of_the_callers_model(tmp_path: Path) -> None:
    folder = _folder(tmp_path)
    script = [Reply.json(_draft(3, "Geneva")), Reply.json(_draft(None, "Doha"))]

    async def collect(client: LLMClient) -> list[Extraction[Talks]]:
        got = []
        run = newsqa.abatch(folder, newsqa.Extract(Talks), tmp_path / "o.jsonl", client=client)
        async for _doc_id, outcome in run:
            assert not isinstance(outcome, Exception)
            got.append(outcome)
        return got

    with FakeOpenAI(script) as server:
        results = asyncio.run(collect(fake_client(server)))
    assert len(results) == 2
    assert all(isinstance(r, Extraction) and isinstance(r.value, Talks) for r in results)
    assert isinstance(results[0].value.meetings[0], Meeting)


def _untouchable() -> Iterator[Document | DocumentError]:
    raise AssertionError("a document was read before the schema was checked")
    yield  # pragma: no cover


def test_a_bad_schema_fails_before_any_document_is_read_or_client_made(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def connect() -> LLMClient:
        raise AssertionError("a client was made before the schema was checked")

    monkeypatch.setattr(newsqa.api, "connect", connect)
    out = tmp_path / "o.jsonl"
    missing = tmp_path / "no-such-folder"
    for call in (newsqa.batch, newsqa.abatch):
        with pytest.raises(SchemaError, match="child: Recursive contains itself"):
            call(_untouchable(), newsqa.Extract(Recursive), out)
        with pytest.raises(SchemaError, match="contains itself"):
            call(missing, newsqa.Extract(Recursive), out)  # the path is never opened
        with pytest.warns(DeprecationWarning), pytest.raises(ValueError, match="needs a schema"):
            call(_untouchable(), "extract", out)
    with FakeOpenAI([]) as server:
        with pytest.raises(SchemaError, match="contains itself"):
            BatchRun(_untouchable(), newsqa.Extract(Recursive), out, client=fake_client(server))
        assert server.requests == []
    assert not out.exists()
