"""``newsqa batch``: distinct ids, exit status of failed documents, ``--json``, Ctrl-C."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from newsqa.cli import commands, main
from tests.support.fake_openai import FakeOpenAI, Reply

GOOD = Reply.json({"sentences": [1], "answer": "no"})


def _args(server: FakeOpenAI, out: Path, *inputs: Path) -> list[str]:
    return [
        "batch",
        *map(str, inputs),
        "-o",
        str(out),
        "--task",
        "ask",
        "-Q",
        "What was said?",
        "--base-url",
        server.base_url,
        "--model",
        "fake",
        "-q",
    ]


def _folder(tmp_path: Path, **texts: str) -> Path:
    folder = tmp_path / "in"
    folder.mkdir(exist_ok=True)
    for name, text in texts.items():
        (folder / f"{name}.txt").write_text(text)
    return folder


def test_two_files_with_one_id_are_refused_before_any_call(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    for sub, text in (("x1", "Kyiv said no."), ("x2", "Moscow said yes.")):
        (tmp_path / sub).mkdir()
        (tmp_path / sub / "news.txt").write_text(text)
    out = tmp_path / "out.jsonl"
    with FakeOpenAI([GOOD, GOOD]) as server:
        code = main(_args(server, out, tmp_path / "x1" / "news.txt", tmp_path / "x2" / "news.txt"))
        assert server.requests == []
    assert code == 2
    err = capsys.readouterr().err
    assert "share the id 'news'" in err and "x2/news.txt" in err
    assert not out.exists() or out.read_text() == ""


def test_failed_documents_exit_1_with_their_count(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = _folder(tmp_path, a="Kyiv said no.", b="Moscow said yes.")
    refused = Reply(status=400, body={"error": {"message": "bad request"}})
    with FakeOpenAI([refused, refused]) as server:
        assert main(_args(server, tmp_path / "out.jsonl", folder)) == 1
    captured = capsys.readouterr()
    assert "0 done, 2 failed" in captured.out
    assert "2 of 2 documents failed" in captured.err
    with FakeOpenAI([GOOD, refused]) as server:
        assert main(_args(server, tmp_path / "out.jsonl", folder)) == 1
    assert "1 of 2 documents failed" in capsys.readouterr().err


def test_json_prints_the_report(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    folder = _folder(tmp_path, a="Kyiv said no.", b="Moscow said yes.")
    out = tmp_path / "out.jsonl"
    with FakeOpenAI([GOOD, GOOD]) as server:
        assert main([*_args(server, out, folder), "--json", "--usage"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report == {
        "output": str(out),
        "done": 2,
        "failed": 0,
        "skipped": 0,
        "errors": {},
        "usage": report["usage"],
    }
    assert report["usage"]["calls"] == 2


def test_ctrl_c_writes_the_documents_in_flight_before_exiting(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = _folder(tmp_path, a="Kyiv said no.", b="Moscow said yes.", c="Paris said maybe.")

    class InterruptedBar:
        """A progress bar whose first update is a Ctrl-C (b is still in flight)."""

        def __init__(self, *args: Any, **kwargs: Any) -> None:
            pass

        def __enter__(self) -> InterruptedBar:
            return self

        def __exit__(self, *exc: object) -> None:
            pass

        def update(self, n: int) -> None:
            raise KeyboardInterrupt

    monkeypatch.setattr(commands, "tqdm", InterruptedBar)
    out = tmp_path / "out.jsonl"
    slow = Reply.json({"sentences": [1], "answer": "yes"}, delay=0.6)
    with FakeOpenAI([], responder=lambda r: slow if "Moscow" in json.dumps(r) else GOOD) as server:
        code = main([*_args(server, out, folder), "--concurrency", "2"])
        lines = [json.loads(line) for line in out.read_text().splitlines()]  # at exit
    assert code == 130
    assert {line["id"]: "result" in line for line in lines} == {"a": True, "b": True}
