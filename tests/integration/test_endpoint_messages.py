"""What a failing endpoint tells the user: the host (never its credentials), whether
its name did not resolve or nothing listened, how many tries were made and which
variable to change; and what a slow one shows while it thinks."""

from __future__ import annotations

import logging
import socket
import threading
import time
import traceback
from typing import Any

import pytest

from newsqa import (
    ConfigError,
    LLMClient,
    LLMConnectionError,
    LLMError,
    LLMTimeoutError,
    ProviderError,
    Settings,
)
from tests.conftest import track
from tests.support.fake_openai import FakeOpenAI, Reply, completion

MESSAGES = [{"role": "user", "content": "hi"}]
KEY = "sk-live-very-secret-4242"


def _client(base_url: str, **overrides: Any) -> LLMClient:
    settings = Settings(
        base_url=base_url,
        api_key=KEY,
        model="fake",
        **{"timeout": 5.0, "max_retries": 4, **overrides},
    )
    return track(LLMClient(settings, sleep=lambda _: None))


def test_a_host_name_that_does_not_resolve_is_named_and_not_retried(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    looked_up: list[str] = []
    real = socket.getaddrinfo

    def getaddrinfo(host: Any, *args: Any, **kwargs: Any) -> Any:
        if host == "llm-sever.internal":
            looked_up.append(host)
            raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")
        return real(host, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    client = _client("http://llm-sever.internal:8000/v1")
    with pytest.raises(LLMConnectionError) as caught:
        client.chat(MESSAGES, max_tokens=5)
    message = str(caught.value)
    assert "llm-sever.internal:8000" in message and "does not resolve" in message
    assert caught.value.usage is not None and caught.value.usage.calls == 1
    assert looked_up == ["llm-sever.internal"]  # one try, not five


def test_a_refused_port_is_named_with_a_hint_after_its_retries() -> None:
    with FakeOpenAI([]) as server:
        url = server.base_url  # nothing listens there once the block ends
    port = url.rsplit(":", 1)[1].split("/")[0]
    client = _client(url, max_retries=2)
    with pytest.raises(LLMConnectionError) as caught:
        client.chat(MESSAGES, max_tokens=5)
    message = str(caught.value)
    assert f"127.0.0.1:{port}" in message and "refused" in message
    assert "is the server running" in message and "3 tries" in message


def test_a_timeout_names_its_variables_and_the_tries_made() -> None:
    slow = Reply(body=completion("late"), delay=1.0)
    with FakeOpenAI([slow, slow]) as server:
        client = _client(server.base_url, timeout=0.2, max_retries=1)
        with pytest.raises(LLMTimeoutError) as caught:
            client.chat(MESSAGES, max_tokens=5)
    message = str(caught.value)
    assert "NEWSQA_TIMEOUT" in message and "NEWSQA_DEADLINE" in message
    assert "0.2s" in message and "2 tries" in message


def test_a_call_past_its_deadline_names_newsqa_deadline() -> None:
    slow = Reply(body=completion("late"), delay=1.0)
    with FakeOpenAI([slow] * 3) as server:
        client = _client(server.base_url, timeout=0.3, deadline=0.5, max_retries=3)
        client._sleep = time.sleep  # the backoff really waits, so the deadline passes
        with pytest.raises(LLMTimeoutError) as caught:
            client.chat(MESSAGES, max_tokens=5)
    assert "deadline of 0.5s (NEWSQA_DEADLINE)" in str(caught.value)


def test_a_key_echoed_by_the_server_is_in_no_part_of_the_error_chain(
    caplog: pytest.LogCaptureFixture,
) -> None:
    echo = Reply(status=401, body={"error": {"message": f"Incorrect API key provided: {KEY}"}})
    with FakeOpenAI([echo]) as server:
        client = _client(server.base_url)
        with pytest.raises(LLMError) as caught:
            client.chat(MESSAGES, max_tokens=5)
    error = caught.value
    assert "Incorrect API key provided" in str(error) and KEY not in str(error)
    printed = "".join(traceback.format_exception(error))
    assert KEY not in printed
    with caplog.at_level(logging.ERROR):
        try:
            raise error
        except LLMError:
            logging.getLogger("probe").exception("the call failed")
    assert "the call failed" in caplog.text and KEY not in caplog.text
    chained: list[BaseException] = []
    current: BaseException | None = error
    while current is not None and len(chained) < 10:
        chained.append(current)
        current = current.__cause__ or current.__context__
    assert all(KEY not in repr(e) and KEY not in str(e) for e in chained)


def test_url_credentials_never_show_in_the_status_line_or_a_404_hint() -> None:
    url = "http://alice:hunter22@gateway.example:8443/v1?api-key=tok-9f8e7d"
    settings = Settings(base_url=url, api_key=KEY, model="fake")
    assert settings.endpoint == "fake at gateway.example:8443"
    with FakeOpenAI([Reply(status=404, body={"error": {"message": "no such model"}})]) as server:
        local = server.base_url.replace("http://", "http://alice:hunter22@") + "?api-key=tok-9f8e7d"
        client = _client(local)
        with pytest.raises(ProviderError) as caught:
            client.chat(MESSAGES, max_tokens=5)
    message = str(caught.value)
    assert "HTTP 404" in message and "127.0.0.1:" in message
    assert "hunter22" not in message and "tok-9f8e7d" not in message and "alice" not in message


@pytest.mark.parametrize("value", ["inf", "1e300"])
def test_an_endless_timeout_is_a_config_error_naming_it(
    value: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("NEWSQA_TIMEOUT", value)
    with pytest.raises(ConfigError, match="NEWSQA_TIMEOUT"):
        Settings.from_env(base_url="http://127.0.0.1:9/v1", model="m")


def test_the_cli_refuses_an_endless_timeout_in_one_line(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Any
) -> None:
    from newsqa.cli import main

    monkeypatch.setenv("NEWSQA_TIMEOUT", "inf")
    doc = tmp_path / "a.txt"
    doc.write_text("Kyiv said no.")
    code = main(["summarize", str(doc), "--base-url", "http://127.0.0.1:9/v1", "--model", "m"])
    err = capsys.readouterr().err
    assert code == 2 and "NEWSQA_TIMEOUT" in err and "Traceback" not in err


def test_a_request_awaiting_its_reply_is_counted_with_its_age() -> None:
    with FakeOpenAI([Reply(body=completion("late"), delay=1.0)]) as server:
        client = _client(server.base_url)
        assert client.waiting() == (0, 0.0)
        call = threading.Thread(target=client.chat, args=(MESSAGES,), kwargs={"max_tokens": 5})
        call.start()
        while not server.requests:
            time.sleep(0.01)
        time.sleep(0.2)
        replies, seconds = client.waiting()
        call.join()
    assert replies == 1 and 0.2 <= seconds < 1.0
    assert client.waiting() == (0, 0.0)


@pytest.mark.parametrize(
    "url",
    [
        "http://alice:hunter22@gateway.example:8443/v1?api-key=tok-9f8e7d",  # no model
        "http://gateway.example:99999/v1?api-key=tok-9f8e7d",  # a bad port
    ],
)
def test_a_config_error_about_an_endpoint_shows_none_of_its_credentials(url: str) -> None:
    with pytest.raises(ConfigError) as caught:
        Settings(base_url=url).check()
    message = str(caught.value)
    assert "gateway.example" in message
    assert "hunter22" not in message and "tok-9f8e7d" not in message
