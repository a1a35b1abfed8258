"""``newsqa batch``: distinct ids, exit status of failed documents, ``--json``, Ctrl-C,
and storage failing under its response cache."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from newsqa.cli import commands, main
from tests.support.fake_openai import FakeOpenAI, Reply
from tests.support.storage import LIMITED_FILES, corrupt_pages, filled_cache

ROOT = Path(__file__).resolve().parent.parent
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


def test_a_corrupt_response_cache_does_not_stop_a_batch(
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    caplog: pytest.LogCaptureFixture,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("NEWSQA_CACHE_DIR", str(tmp_path / "cache"))
    cache = tmp_path / "cache" / "responses.sqlite"
    cache.parent.mkdir()
    corrupt_pages(filled_cache(cache))
    folder = _folder(tmp_path, a="Kyiv said no.", b="Moscow said yes.", c="Paris said maybe.")
    out = tmp_path / "out.jsonl"
    with FakeOpenAI([GOOD] * 3) as server:
        code = main(_args(server, out, folder))
    assert code == 0, capsys.readouterr().err
    assert "3 done, 0 failed" in capsys.readouterr().out
    assert sorted(json.loads(line)["id"] for line in out.read_text().splitlines()) == [
        "a",
        "b",
        "c",
    ]
    warnings = [r.getMessage() for r in caplog.records if r.levelname == "WARNING"]
    assert len(warnings) == 1 and str(cache) in warnings[0]


@pytest.mark.skipif(not hasattr(signal, "SIGXFSZ"), reason="POSIX file limits")
def test_a_full_disk_under_the_cache_does_not_stop_a_batch(tmp_path: Path) -> None:
    folder = _folder(tmp_path, **{f"d{i}": f"Kyiv said no to plan {i}." for i in range(12)})
    out = tmp_path / "out.jsonl"
    cache = tmp_path / "cache"
    with FakeOpenAI([GOOD] * 12) as server:
        # Files may not grow past 32 KB: the cache's WAL (a page or two of 4 KB per
        # stored reply) fills after a few replies, as on a full disk; the output's
        # short lines stay far below it.
        env = {**os.environ, "PYTHONPATH": str(ROOT), "NEWSQA_CACHE_DIR": str(cache)}
        result = subprocess.run(
            [sys.executable, "-c", LIMITED_FILES, str(32 * 1024), *_args(server, out, folder)],
            env=env,
            capture_output=True,
            text=True,
            check=False,
        )
        assert len(server.requests) == 12
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr
    warned = [line for line in result.stderr.splitlines() if "response cache" in line]
    assert len(warned) == 1 and str(cache / "responses.sqlite") in warned[0], result.stderr
    assert "disk I/O error" in warned[0]  # SQLite's word for a write refused with EFBIG
    assert len(out.read_text().splitlines()) == 12


def _wait_for(what: str, check: Callable[[], object], seconds: float = 60.0) -> None:
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        if check():
            return
        time.sleep(0.05)
    raise AssertionError(f"never happened: {what}")


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX signals")
def test_a_second_ctrl_c_ends_a_batch_at_once_keeping_finished_lines(tmp_path: Path) -> None:
    folder = _folder(tmp_path, a="Kyiv said no.", b="Moscow said yes.", c="Paris said maybe.")
    out = tmp_path / "out.jsonl"
    stuck = Reply.json({"sentences": [1], "answer": "no"}, delay=60.0)  # far beyond the test
    with FakeOpenAI([], responder=lambda r: GOOD if "Kyiv" in json.dumps(r) else stuck) as server:
        command = [sys.executable, "-m", "newsqa.cli", *_args(server, out, folder)]
        proc = subprocess.Popen(
            [*command, "--concurrency", "3"],
            env={**os.environ, "PYTHONPATH": str(ROOT)},
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        try:
            _wait_for("a's line is written", lambda: out.exists() and out.read_text().strip())
            _wait_for("b and c are sent", lambda: len(server.requests) >= 3)
            proc.send_signal(signal.SIGINT)  # b and c stay in flight: it waits for them
            time.sleep(0.5)
            assert proc.poll() is None
            proc.send_signal(signal.SIGINT)
            _, stderr = proc.communicate(timeout=20)  # not the server's 60 s
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.communicate()
    err = stderr.decode()
    assert proc.returncode == 130, err
    assert "Traceback" not in err
    assert "Ctrl-C again" in err and "stopped" in err
    lines = [json.loads(line) for line in out.read_text().splitlines()]
    assert [(line["id"], "result" in line) for line in lines] == [("a", True)]


def test_compact_rewrites_the_output_with_each_ids_current_lines(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = _folder(tmp_path, a="Kyiv said no.", b="Moscow said yes.")
    out = tmp_path / "out.jsonl"
    refused = Reply(status=400, body={"error": {"message": "bad request"}})
    with FakeOpenAI([GOOD, refused, GOOD]) as server:
        assert main([*_args(server, out, folder), "--no-cache"]) == 1
        assert main([*_args(server, out, folder), "--no-cache"]) == 0  # b retried
    assert len(out.read_text().splitlines()) == 3
    capsys.readouterr()
    assert main(["compact", str(out)]) == 0
    assert capsys.readouterr().out == (
        f"{out}: 3 lines, 2 kept (2 results, 0 failing); 0 unreadable left out\n"
    )
    assert sorted(json.loads(line)["id"] for line in out.read_text().splitlines()) == ["a", "b"]
    assert main(["compact", str(tmp_path / "nope.jsonl")]) == 2
    assert "nope.jsonl: no such file" in capsys.readouterr().err
