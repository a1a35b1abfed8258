"""One policy for unreadable inputs in every command: all inputs are read before the
first model call or write; one that cannot be read is named then and left out, the
others are processed, and the command exits 1; with none readable it exits 2. A folder
given to a single-document command is refused as such."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from newsqa.cli import main
from tests.conftest import ROOT
from tests.support.fake_openai import FakeOpenAI, Reply

SCHEMA = ROOT / "examples" / "peace_talks.schema.json"
UNSTATED: dict[str, Any] = {"sentences": [], "value": None}
REPLIES: dict[str, Any] = {
    "ask": {"sentences": [1], "answer": "mild"},
    "batch": {"sentences": [1], "answer": "mild"},
    "timeline": {"actors": []},
    "extract": {
        "military_aid_billions": UNSTATED,
        "aid_since_year": UNSTATED,
        "speakers": [],
        "claimed_deadline": UNSTATED,
    },
}


def _folder(tmp_path: Path) -> Path:
    folder = tmp_path / "articles"
    folder.mkdir()
    (folder / "a_ok.txt").write_text("The weather was mild on Monday.")
    (folder / "b_bin.txt").write_bytes(b"\x00\x01\x02binary" * 10)
    (folder / "c_empty.txt").write_text("  \n")
    (folder / "d_ok.txt").write_text("The weather was cold on Tuesday.")
    return folder


def _command(name: str, paths: list[str], tmp_path: Path, server: FakeOpenAI) -> list[str]:
    endpoint = ["--base-url", server.base_url, "--model", "fake", "-q", "--no-cache"]
    out = str(tmp_path / "o.jsonl")
    question = ["-Q", "What was the weather?"]
    return {
        "ask": ["ask", *paths, *question, *endpoint],
        "extract": ["extract", *paths, "--schema", str(SCHEMA), *endpoint],
        "timeline": ["timeline", *paths, *endpoint],
        "batch": ["batch", *paths, "-o", out, "--task", "ask", *question, *endpoint],
        "index": ["index", *paths, "--db", str(tmp_path / "c.sqlite"), "-q"],
    }[name]


@pytest.mark.parametrize("command", ["ask", "extract", "timeline", "batch", "index"])
def test_unreadable_inputs_are_named_first_left_out_and_exit_1(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], command: str
) -> None:
    folder = _folder(tmp_path)
    reply = REPLIES.get(command, {})
    with FakeOpenAI([], responder=lambda _: Reply.json(reply)) as server:
        assert main(_command(command, [str(folder)], tmp_path, server)) == 1
        sent = json.dumps(server.requests)
    captured = capsys.readouterr()
    assert captured.out.strip()  # the readable documents' output
    lines = captured.err.strip().splitlines()
    assert lines[:2] == [
        f"newsqa: skipped: {folder / 'b_bin.txt'}: looks like binary data, not text",
        f"newsqa: skipped: {folder / 'c_empty.txt'}: document is empty",
    ]
    assert "Traceback" not in captured.err
    if command == "batch":
        assert lines[-1].endswith(f"2 of 4 documents failed (see {tmp_path / 'o.jsonl'})")
    else:
        assert lines[-1] == "newsqa: 2 input(s) could not be read and were left out (named above)"
    assert "binary" not in sent and ("Tuesday" in sent) == (command != "index")


@pytest.mark.parametrize("command", ["ask", "extract", "timeline", "batch", "index"])
def test_no_readable_input_exits_2_naming_them_before_any_call(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], command: str
) -> None:
    folder = _folder(tmp_path)
    paths = [str(folder / "b_bin.txt"), str(folder / "c_empty.txt")]
    with FakeOpenAI([]) as server:
        assert main(_command(command, paths, tmp_path, server)) == 2
        assert server.requests == []
    [line] = capsys.readouterr().err.strip().splitlines()
    assert line == (
        f"newsqa: error: {folder / 'b_bin.txt'}: looks like binary data, not text "
        f"(and 1 more input(s) that cannot be read: {folder / 'c_empty.txt'})"
    )
    assert not (tmp_path / "o.jsonl").exists() and not (tmp_path / "c.sqlite").exists()


def test_a_nested_jsonl_line_is_that_lines_error_and_the_others_run(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    records = tmp_path / "records.jsonl"
    lines = [
        json.dumps({"id": "a", "text": "The weather was mild on Monday."}),
        "[" * 100_000,
        json.dumps({"id": "b", "text": "The weather was mild on Tuesday."}),
    ]
    records.write_text("\n".join(lines) + "\n")
    with FakeOpenAI([], responder=lambda _: Reply.json(REPLIES["batch"])) as server:
        assert main(_command("batch", [str(records)], tmp_path, server)) == 1
        assert main(_command("index", [str(records)], tmp_path, server)) == 1
    err = capsys.readouterr().err
    assert f"newsqa: skipped: {records}:2: not valid JSON (nested too deeply)" in err
    assert "Traceback" not in err and "RecursionError" not in err
    out = [json.loads(line) for line in (tmp_path / "o.jsonl").read_text().splitlines()]
    assert sorted(r["id"] for r in out if "result" in r) == ["a", "b"]


@pytest.mark.parametrize("command", ["summarize", "stances", "report", "check", "stance-toward"])
def test_a_folder_given_to_a_single_document_command_is_refused_as_such(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], command: str
) -> None:
    folder = _folder(tmp_path)
    extra = {"check": ["--claim", "x"], "stance-toward": ["--target", "Russia"]}.get(command, [])
    assert main([command, str(folder), *extra, "--model-path", "/nonexistent.gguf"]) == 2
    [line] = capsys.readouterr().err.strip().splitlines()
    assert line == (
        f"newsqa: error: {folder}: a folder, and this takes one document "
        "(for many: `newsqa batch`, `newsqa ask`, newsqa.load_documents)"
    )


def test_several_records_given_to_a_single_document_command_are_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    records = tmp_path / "two.jsonl"
    records.write_text("".join(json.dumps({"id": i, "text": "Kyiv said no."}) + "\n" for i in "ab"))
    assert main(["summarize", str(records), "--model-path", "/nonexistent.gguf"]) == 2
    err = capsys.readouterr().err
    assert f"{records}: holds 2 documents, and this takes one" in err


def test_a_python_file_as_schema_suggests_its_module_and_model(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(ROOT)
    args = ["extract", "seeds/000_c21f091162a05fc4.txt", "--schema", "examples/peace_talks.py"]
    assert main(args) == 2
    [line] = capsys.readouterr().err.strip().splitlines()
    assert line == (
        "newsqa: error: examples/peace_talks.py is a Python file: name the model in it as "
        "module:Model, e.g. --schema examples.peace_talks:PeaceTalksFacts"
    )


def test_a_batch_walks_its_inputs_twice_holding_one_document(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from tests.support.fake_openai import Reply

    folder = tmp_path / "in"
    folder.mkdir()
    (folder / "a.txt").write_text("Kyiv said no.")
    (folder / "b.txt").write_text("Moscow said yes.")
    out = folder / "out.jsonl"  # inside the folder it reads
    reply = Reply.json({"sentences": [1], "answer": "no"})
    with FakeOpenAI([reply, reply]) as server:
        args = ["batch", str(folder), "-o", str(out), "--task", "ask", "-Q", "What was said?"]
        args += ["--base-url", server.base_url, "--model", "fake", "-q"]
        assert main(args) == 0
        assert main(args) == 0  # the output is not read as two more documents
        assert "0 done, 0 failed, 2 already done" in capsys.readouterr().out.splitlines()[-1]
        assert len(server.requests) == 2


def test_standard_input_is_read_once_for_both_walks(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    import io
    import sys

    records = "".join(
        json.dumps({"id": f"r{i}", "text": f"The weather was mild on day {i}."}) + "\n"
        for i in range(3)
    )
    with FakeOpenAI([], responder=lambda _: Reply.json(REPLIES["batch"])) as server:
        for command in ("batch", "index"):
            stdin = io.TextIOWrapper(io.BytesIO(records.encode()), encoding="utf-8")
            monkeypatch.setattr(sys, "stdin", stdin)
            assert main(_command(command, ["-"], tmp_path, server)) == 0
    out = capsys.readouterr().out
    assert "3 done, 0 failed" in out and "3 added" in out
