"""``newsqa batch --provider-batch``: the rounds through a loopback Batch API, what it
says before submitting, the batch price, a refused ``--no-cache``, ``--cancel``, and
``--export-requests`` / ``--import-responses`` for another server."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from newsqa.cli import main
from tests.integration.test_provider_batch import _docs, responder
from tests.support.fake_batches import FakeBatches


def _args(server: FakeBatches, out: Path, folder: Path, *more: str) -> list[str]:
    return [
        "batch",
        str(folder),
        "-o",
        str(out),
        "--task",
        "stances",
        "--base-url",
        server.base_url,
        "--model",
        "fake",
        "--poll",
        "1",
        *more,
    ]


def test_stances_finish_in_two_rounds_at_the_batch_price(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("NEWSQA_PRICE_IN", "2")
    monkeypatch.setenv("NEWSQA_PRICE_OUT", "8")
    folder, out = _docs(tmp_path, count=3), tmp_path / "out.jsonl"
    with FakeBatches(responder(), polls=1) as server:
        assert main(_args(server, out, folder, "--provider-batch")) == 0
    captured = capsys.readouterr()
    assert "round 1: submitting 3 requests in 1 file" in captured.err
    assert "at least 2 rounds" in captured.err and "up to 24 hours" in captured.err
    assert "3 done, 0 failed, 0 already done, 2 rounds" in captured.out
    lines = [json.loads(line) for line in out.read_text().splitlines()]
    spent = (
        sum(
            line["usage"]["prompt_tokens"] * 2 + line["usage"]["completion_tokens"] * 8
            for line in lines
        )
        / 1_000_000
    )
    assert lines and all(line["usage"]["calls"] for line in lines)  # batch replies count
    assert f"estimated cost ${spent / 2:.4f} at the batch price" in captured.out


def test_no_cache_is_refused_before_any_request(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder, out = _docs(tmp_path, count=1), tmp_path / "out.jsonl"
    with FakeBatches(responder()) as server:
        assert main(_args(server, out, folder, "--provider-batch", "--no-cache")) == 2
        assert server.created == [] and server.chat == []
    assert "drop --no-cache" in capsys.readouterr().err


def test_cancel_cancels_what_an_interrupted_run_left_in_flight(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    folder, out = _docs(tmp_path, count=2), tmp_path / "out.jsonl"

    def interrupt(_seconds: float) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr("time.sleep", interrupt)
    with FakeBatches(responder(), polls=10) as server:
        assert main(_args(server, out, folder, "--provider-batch")) == 130
        assert "--cancel" in capsys.readouterr().err  # not a terminal: says how to cancel
        assert main(_args(server, out, folder, "--cancel")) == 0
        assert server.cancelled == list(server.batches)
    assert "1 batch(es) cancelled" in capsys.readouterr().out


def _answer_file(requests: Path, results: Path) -> None:
    """What ``vllm run-batch -i requests -o results`` writes, with the scripted replies."""
    answer = responder()
    lines = [json.loads(line) for line in requests.read_text().splitlines()]
    results.write_text(
        "".join(
            json.dumps(
                {
                    "custom_id": x["custom_id"],
                    "error": None,
                    "response": {"status_code": 200, "body": answer(x["body"]).body},
                }
            )
            + "\n"
            for x in lines
        )
    )


def test_export_then_import_runs_a_round_per_file(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder, out = _docs(tmp_path, count=2), tmp_path / "out.jsonl"
    requests, results = tmp_path / "req.jsonl", tmp_path / "res.jsonl"
    export, load = ["--export-requests", str(requests)], ["--import-responses", str(results)]
    with FakeBatches(responder()) as server:
        assert main(_args(server, out, folder, *export)) == 0
        assert "--import-responses" in capsys.readouterr().out
        _answer_file(requests, results)
        assert main(_args(server, out, folder, *load)) == 0  # no file for round 2's requests
        assert "2 documents wait for another round" in capsys.readouterr().out
        assert main(_args(server, out, folder, *export)) == 0
        _answer_file(requests, results)
        assert main(_args(server, out, folder, *load, *export)) == 0
        assert server.created == [] and server.chat == []  # nothing sent to the endpoint
    assert "2 done, 0 failed, 0 already done, 2 rounds" in capsys.readouterr().out
    assert main(["batch", str(folder), "-o", str(out), "--task", "stances", "--provider-batch",
                 *export]) == 2
    assert "choose one" in capsys.readouterr().err


class _Terminal:
    def isatty(self) -> bool:
        return True


def test_ctrl_c_on_a_terminal_offers_to_cancel(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    folder, out = _docs(tmp_path, count=2), tmp_path / "out.jsonl"

    def interrupt(_seconds: float) -> None:
        raise KeyboardInterrupt

    asked: list[str] = []

    def yes(prompt: str) -> str:
        asked.append(prompt)
        return "y"

    monkeypatch.setattr("time.sleep", interrupt)
    monkeypatch.setattr("sys.stdin", _Terminal())
    monkeypatch.setattr("builtins.input", yes)
    with FakeBatches(responder(), polls=10) as server:
        assert main(_args(server, out, folder, "--provider-batch")) == 130
        assert server.cancelled == list(server.batches) and len(server.cancelled) == 1
    assert asked == ["newsqa: cancel the batches in flight? [y/N] "]
    assert "1 batch(es) cancelled" in capsys.readouterr().err
