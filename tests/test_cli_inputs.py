"""The CLI's inputs and its report: a JSONL record or standard input is a document, calls and
tokens are reported, tables wrap to the terminal, every command reads a folder alike."""

from __future__ import annotations

import io
import json
import sys
from pathlib import Path

import pytest

import newsqa
from newsqa.cli import main
from newsqa.cli.text import format_stances, format_timeline
from tests.conftest import SEED, one_line
from tests.support.fake_openai import FakeOpenAI, Reply, schema_reply
from tests.support.replies import SUMMARY


def test_summarize_reads_a_jsonl_record_not_the_file(
    server: FakeOpenAI, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    one = tmp_path / "one.jsonl"
    one.write_text(json.dumps({"id": "r1", "text": "Kyiv rejected the proposal."}) + "\n")
    server.script = [Reply.json(SUMMARY)]
    args = ["--base-url", server.base_url, "--model", "fake", "-q", "--json"]
    assert main(["summarize", str(one), *args]) == 0
    prompt = server.requests[0]["messages"][-1]["content"]
    assert "Kyiv rejected the proposal." in prompt and '"id"' not in prompt
    out = json.loads(capsys.readouterr().out)
    assert out["key_points"][0]["evidence"][0]["text"] == "Kyiv rejected the proposal."
    two = tmp_path / "two.jsonl"
    two.write_text(one.read_text() + json.dumps({"id": "r2", "text": "Moscow waited."}) + "\n")
    assert main(["summarize", str(two), *args]) == 2
    assert "newsqa batch" in one_line(capsys.readouterr().err)
    assert len(server.requests) == 1


def test_stdin_is_a_document(
    server: FakeOpenAI, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    stdin = io.TextIOWrapper(io.BytesIO(b"Kyiv rejected the proposal.\n"), encoding="utf-8")
    monkeypatch.setattr(sys, "stdin", stdin)
    server.script = [Reply.json(SUMMARY)]
    args = ["summarize", "-", "--base-url", server.base_url, "--model", "fake", "-q"]
    assert main(args) == 0
    assert 'Kyiv rejected the proposal." (0-27)' in capsys.readouterr().out


def test_jsonl_on_stdin_is_records(monkeypatch: pytest.MonkeyPatch) -> None:
    records = b'{"id": "a", "text": "One."}\n{"id": "b", "text": "Two."}\n'
    stdin = io.TextIOWrapper(io.BytesIO(records), encoding="utf-8")
    monkeypatch.setattr(sys, "stdin", stdin)
    assert [d.id for d in newsqa.load_documents(["-"])] == ["a", "b"]


def test_single_document_commands_report_calls_and_tokens(
    server: FakeOpenAI, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("NEWSQA_PRICE_IN", "1000000")
    monkeypatch.setenv("NEWSQA_PRICE_OUT", "0")
    server.script = [Reply.json(SUMMARY)]
    args = ["summarize", str(SEED), "--base-url", server.base_url, "--model", "fake"]
    assert main(args) == 0
    err = capsys.readouterr().err
    assert "1 model calls, 50 tokens in, 10 out; estimated cost $50.0000" in err
    assert main([*args, "--json", "--usage", "-q"]) == 0  # from the cache: nothing spent
    captured = capsys.readouterr()
    assert captured.err == ""
    assert json.loads(captured.out)["usage"] == {
        "calls": 0,
        "prompt_tokens": 0,
        "completion_tokens": 0,
    }


def test_json_usage_is_optional_and_counts_the_calls(
    server: FakeOpenAI, capsys: pytest.CaptureFixture[str]
) -> None:
    common = ["--base-url", server.base_url, "--model", "fake", "-q", "--json", "--no-cache"]
    server.script = [Reply.json(SUMMARY)] * 2
    assert main(["summarize", str(SEED), *common]) == 0
    assert "usage" not in json.loads(capsys.readouterr().out)
    assert main(["summarize", str(SEED), *common, "--usage"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["usage"] == {"calls": 1, "prompt_tokens": 50, "completion_tokens": 10}
    assert out["headline"] == "Kyiv says no"


def test_version(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as info:
        main(["--version"])
    assert info.value.code == 0
    assert capsys.readouterr().out.strip() == f"newsqa {newsqa.__version__}"


def test_stance_table_wraps_to_the_terminal_width(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COLUMNS", "80")
    position = "Russia welcomes talks but only on its own terms, " * 6
    evidence = newsqa.Evidence(doc="d", text="Kyiv said no. " * 12, start=0, end=168, sentence_id=1)
    report = newsqa.StanceReport(
        topic="talks",
        stances=[
            newsqa.Stance(actor="Russia", label="conditional", position=position, evidence=[]),
            newsqa.Stance(actor="Ukraine", label="opposes", position="No.", evidence=[evidence]),
        ],
    )
    table = format_stances(report)
    assert max(len(line) for line in table.splitlines()) <= 80
    assert " ".join(table.split()).count("only on its own terms") == 6  # nothing lost
    report_timeline = newsqa.StanceTimeline(
        topic="talks",
        actors={
            "Russia": [
                newsqa.StanceChange(
                    date=None,
                    doc="d1",
                    label="conditional",
                    position=position,
                    evidence=[],
                    changed=False,
                )
            ]
        },
    )
    text = format_timeline(report_timeline)
    assert max(len(line) for line in text.splitlines()) <= 80
    assert " ".join(text.split()).count("only on its own terms") == 6


def test_folder_inputs_are_the_same_for_every_command(tmp_path: Path) -> None:
    folder = tmp_path / "in"
    folder.mkdir()
    (folder / "a.txt").write_text("Kyiv said no.")
    (folder / "b.md").write_text("Moscow said yes.")
    (folder / "c.jsonl").write_text('{"id": "c1", "text": "Paris said maybe."}\n')
    (folder / "d.csv").write_text("not,an,article\n")
    expected = ["a", "b", "c1"]
    assert [d.id for d in newsqa.load_documents([folder])] == expected
    walked = list(newsqa.iter_inputs(folder))
    assert [getattr(d, "id", None) for d in walked] == expected
    assert newsqa.count_inputs(folder) == 3


def test_report_json_opens_with_the_schema_version_of_both_results(
    server: FakeOpenAI, capsys: pytest.CaptureFixture[str]
) -> None:
    server.responder = schema_reply
    args = ["report", str(SEED), "--json", "-q", "--base-url", server.base_url, "--model", "fake"]
    assert main(args) == 0
    out = json.loads(capsys.readouterr().out)
    assert list(out) == ["schema_version", "summary", "stances"] and out["schema_version"] == 2
    assert out["summary"]["schema_version"] == out["stances"]["schema_version"] == 2
