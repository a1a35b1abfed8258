"""Batch input files: split at the request and byte limits, one request never split, and
output lines read into replies, failures and lost requests."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from newsqa.batch.replies import Failure, RoundReplies, request_files
from newsqa.errors import ProviderError
from tests.support.fake_openai import completion


def _requests(count: int, size: int = 10) -> dict[str, dict[str, object]]:
    return {
        f"k{i}": {"model": "m", "messages": [{"role": "user", "content": "x" * size}]}
        for i in range(count)
    }


def test_files_hold_at_most_the_requests_and_bytes_allowed() -> None:
    files = list(request_files(_requests(5), max_requests=2))
    assert [keys for keys, _ in files] == [["k0", "k1"], ["k2", "k3"], ["k4"]]
    line = len(next(request_files(_requests(1)))[1])
    files = list(request_files(_requests(5), max_bytes=2 * line + 1))
    assert [len(keys) for keys, _ in files] == [2, 2, 1]
    assert all(len(content) <= 2 * line + 1 for _, content in files)
    lines = [json.loads(x) for _, content in files for x in content.splitlines()]
    assert [x["custom_id"] for x in lines] == [f"k{i}" for i in range(5)]
    assert {x["url"] for x in lines} == {"/v1/chat/completions"}


def test_a_request_over_the_file_limit_is_refused() -> None:
    with pytest.raises(ValueError, match="over a file's"):
        list(request_files(_requests(1, size=500), max_bytes=100))


def test_outputs_become_replies_failures_and_lost_requests(tmp_path: Path) -> None:
    failures: dict[str, Failure] = {}
    replies = RoundReplies(tmp_path / "r.sqlite", failures, retries=1)
    lines = [
        {"custom_id": "ok", "response": {"status_code": 200, "body": completion("hi")}},
        {
            "custom_id": "bad",
            "response": {"status_code": 400, "body": {"error": {"message": "no"}}},
        },
        {
            "custom_id": "late",
            "response": None,
            "error": {"code": "batch_expired", "message": "late"},
        },
    ]
    loaded = replies.load((json.dumps(x) for x in lines), expected=["ok", "bad", "late", "lost"])
    assert (loaded.replies, loaded.failed, loaded.usage.calls) == (1, 3, 1)
    reply = replies.reply("ok")
    assert reply is not None and reply[0] == "hi" and reply[2].prompt_tokens == 50
    with pytest.raises(ProviderError, match="HTTP 400"):
        replies.reply("bad")  # not worth another round: its document fails
    assert replies.reply("late") is None and replies.reply("lost") is None  # queued again
    replies.load([json.dumps(lines[2])], expected=["late"])
    with pytest.raises(Exception, match="after 2 rounds"):
        replies.reply("late")  # out of retries
    replies.close()
