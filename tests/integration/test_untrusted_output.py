"""Text from outside reaches the terminal and the files safely: escape sequences in a reply are
dropped, secrets never appear in errors, stderr or JSON Lines."""

from __future__ import annotations

from pathlib import Path

import pytest

from newsqa import (
    Ask,
    ProviderError,
    document_from_text,
)
from newsqa.batch.run import run_batch
from newsqa.cli import main
from newsqa.config import Settings
from newsqa.llm.client import LLMClient
from newsqa.types import Document
from tests.conftest import track
from tests.support.fake_openai import FakeOpenAI, Reply


def _docs(n: int) -> list[Document]:
    return [document_from_text(f"Kyiv said no {i}.", id=f"d{i}") for i in range(n)]


MESSAGES = [{"role": "user", "content": "hi"}]


def test_escape_sequences_in_a_reply_do_not_reach_the_terminal(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    article = tmp_path / "a.txt"
    article.write_text("Kyiv said no to the plan. Moscow said yes.")
    draft = {
        "headline": "\x1b]0;owned\x07Kyiv\x1b[2J says no",
        "summary": "Kyiv said no.\x1b[31m",
        "key_points": [{"point": "No\x1b[8m", "sentences": [1]}],
    }
    with FakeOpenAI([Reply.json(draft)]) as server:
        code = main(["summarize", str(article), "--base-url", server.base_url, "--model", "m"])
    out = capsys.readouterr().out
    assert code == 0 and "Kyiv says no" in out
    assert "\x1b" not in out and "\x07" not in out


def test_secrets_never_reach_errors_stderr_or_jsonl(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    key = "sk-live-SECRET-1234567890"
    echo = {"error": {"message": f"Incorrect API key provided: {key}"}}
    out = tmp_path / "out.jsonl"
    with FakeOpenAI([Reply(status=401, body=echo)] * 3) as server:
        settings = Settings(base_url=server.base_url, api_key=key, model="m", max_retries=0)
        client = track(LLMClient(settings))
        with pytest.raises(ProviderError) as info:
            client.chat(MESSAGES, max_tokens=5)
        run_batch(_docs(1), Ask("Who?"), out, client=client)
        monkeypatch.setenv("OPENAI_API_KEY", key)
        article = tmp_path / "a.txt"
        article.write_text("Kyiv said no.")
        assert main(["summarize", str(article), "--base-url", server.base_url, "--model", "m"]) == 1
    assert key not in str(info.value) and "[redacted]" in str(info.value)
    assert key not in out.read_text() and "[redacted]" in out.read_text()
    assert key not in capsys.readouterr().err
    assert main(["summarize", str(article), "--base-url", "http://u:hunter22@[::1/v1"]) == 2
    err = capsys.readouterr().err
    assert "hunter22" not in err and "[redacted]" in err
