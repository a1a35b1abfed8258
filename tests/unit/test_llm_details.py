"""Details of the llm layer a mutation run found unpinned: error hints, the schema in
the prompt, the re-ask's error lines, which rejections switch the output mode."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import httpx2
import openai
import pytest

from newsqa import (
    ConfigError,
    LLMClient,
    LLMConnectionError,
    LLMError,
    LLMTimeoutError,
    ProviderError,
    RateLimitError,
    Settings,
)
from newsqa.config import EMBEDDED_BASE_URL
from newsqa.llm import client as client_module
from newsqa.llm.cache import ResponseCache
from newsqa.llm.local import embedded_http_client
from newsqa.llm.retry import DeadlinePassed, TooLongRetryAfter
from newsqa.types import Usage

MESSAGES = [{"role": "system", "content": "sys"}, {"role": "user", "content": "task"}]
















REQUEST = httpx2.Request("POST", "http://127.0.0.1:9/v1/chat/completions")
REMOTE = Settings(base_url="http://127.0.0.1:9/v1", api_key="sk-x", model="m", deadline=7.0)
EMBEDDED = Settings(model_path=Path("m.gguf"))


def _status(code: int, message: str) -> openai.APIStatusError:
    response = httpx2.Response(code, request=REQUEST)
    kind = openai.RateLimitError if code == 429 else openai.APIStatusError
    return kind(message, response=response, body=None)


@pytest.mark.parametrize(
    ("exc", "settings", "kind", "message", "status"),
    [
        (
            DeadlinePassed(openai.APITimeoutError(REQUEST)),
            REMOTE,
            LLMTimeoutError,
            "no answer within the call's deadline of 7s (NEWSQA_DEADLINE) after 2 tries; last "
            "error: no reply from 127.0.0.1:9 within 600s (NEWSQA_TIMEOUT) on each of 2 tries; "
            "a slow model or a busy server may need a larger NEWSQA_TIMEOUT (each try) or "
            "NEWSQA_DEADLINE (all tries of a call)",
            None,
        ),
        (
            DeadlinePassed(openai.APIConnectionError(request=REQUEST)),
            EMBEDDED,
            LLMTimeoutError,
            "no answer within the call's deadline of 900s (NEWSQA_DEADLINE) after 2 tries; "
            "last error: cannot reach the embedded model: Connection error.",
            None,
        ),
        (
            TooLongRetryAfter(3600.0, _status(429, "slow down")),
            REMOTE,
            RateLimitError,
            "endpoint asked to retry after 3600s, over the allowed wait",
            429,
        ),
        (
            TooLongRetryAfter(90.0, ValueError("no status")),
            REMOTE,
            RateLimitError,
            "endpoint asked to retry after 90s, over the allowed wait",
            None,
        ),
        (
            openai.APIConnectionError(request=REQUEST),
            REMOTE,
            LLMConnectionError,
            "cannot reach 127.0.0.1:9 after 2 tries: Connection error. (is the server running?)",
            None,
        ),
        (
            openai.APIConnectionError(request=REQUEST),
            EMBEDDED,
            LLMConnectionError,
            "cannot reach the embedded model: Connection error.",
            None,
        ),
        (
            _status(429, "too many"),
            REMOTE,
            RateLimitError,
            "rate limited (HTTP 429): too many",
            429,
        ),
        (_status(500, "oops"), REMOTE, ProviderError, "HTTP 500: oops", 500),
        (ValueError("boom"), REMOTE, LLMError, "endpoint error: boom", None),
    ],
)
def test_sdk_errors_map_to_newsqa_errors(
    exc: BaseException, settings: Settings, kind: type[Exception], message: str, status: int | None
) -> None:
    error = client_module._map_error(exc, settings, 2)
    assert type(error) is kind and str(error) == message
    assert getattr(error, "status_code", None) == status


def test_the_embedded_model_is_named_in_hints() -> None:
    assert client_module._hint(401, EMBEDDED) == (
        " (check OPENAI_API_KEY: the key was refused by the embedded model)"
    )


def _through(cause: BaseException, *, implicit: bool) -> BaseException:
    """A transport error raised while handling ``cause``."""
    try:
        try:
            raise cause
        except BaseException as e:
            if implicit:
                raise httpx2.ConnectError("wrapped")  # noqa: B904
            raise httpx2.ConnectError("wrapped") from e
    except httpx2.ConnectError as outer:
        return outer


@pytest.mark.parametrize("implicit", [False, True])
def test_a_config_error_inside_the_transport_is_raised_at_once(implicit: bool) -> None:
    tries: list[int] = []

    def handler(request: httpx2.Request) -> httpx2.Response:
        tries.append(1)
        raise _through(ConfigError("no model file"), implicit=implicit)

    http = httpx2.Client(transport=httpx2.MockTransport(handler))
    llm = LLMClient(REMOTE, http_client=http, sleep=lambda _: None)
    with pytest.raises(ConfigError) as info:
        llm.chat(MESSAGES, max_tokens=5)
    assert type(info.value) is ConfigError and str(info.value) == "no model file"
    assert len(tries) == 1 and llm.usage.calls == 1  # never retried


def test_a_cycle_of_causes_ends_the_search() -> None:
    first, second = ValueError("a"), ValueError("b")
    first.__context__, second.__context__ = second, first
    assert client_module._config_error(first) is None
    assert client_module._config_error(_through(ConfigError("x"), implicit=True)) is not None


def test_an_unexpected_error_of_the_transport_is_not_retried() -> None:
    tries: list[int] = []

    def handler(request: httpx2.Request) -> httpx2.Response:
        tries.append(1)
        raise RuntimeError("bug")

    http = httpx2.Client(transport=httpx2.MockTransport(handler))
    with pytest.raises(RuntimeError):
        LLMClient(REMOTE, http_client=http, sleep=lambda _: None).chat(MESSAGES, max_tokens=5)
    assert len(tries) == 1


def _body(message: Any, finish_reason: Any = "stop", usage: Any = None) -> dict[str, Any]:
    body: dict[str, Any] = {"choices": [{"message": message, "finish_reason": finish_reason}]}
    if usage is not None:
        body["usage"] = usage
    return body


@pytest.mark.parametrize(
    ("body", "read"),
    [
        (_body({"content": None}, None), ("", None, Usage())),
        (
            _body({"content": "hi"}, "length", {"prompt_tokens": 3}),
            ("hi", "length", Usage(prompt_tokens=3)),
        ),
        ({"nothing": 1}, "endpoint returned no chat completion: KeyError: 'choices'"),
        (_body({"content": 5}), "endpoint returned no chat completion: malformed message"),
        (_body({"content": "x"}, 7), "endpoint returned no chat completion: malformed message"),
    ],
)
def test_a_reply_is_read_or_refused(body: dict[str, Any], read: Any) -> None:
    response = httpx2.Response(200, json=body, request=REQUEST)
    if isinstance(read, str):
        with pytest.raises(LLMError) as info:
            client_module._read_reply(response)
        assert str(info.value) == read
    else:
        assert client_module._read_reply(response) == read






def test_a_remote_client_pools_connections_under_its_timeout() -> None:
    llm = LLMClient(
        Settings(base_url="http://127.0.0.1:9/v1", api_key="sk", model="m", timeout=3.5)
    )
    sdk: Any = llm._sdk
    pool = sdk._client._transport._pool
    assert (pool._max_connections, pool._max_keepalive_connections) == (1000, 100)
    assert sdk.timeout == 3.5 and sdk._client.timeout == httpx2.Timeout(3.5)
    llm.close()


def test_the_embedded_client_keeps_the_timeout() -> None:
    http = embedded_http_client(Settings(timeout=4.0))
    assert http.timeout == httpx2.Timeout(4.0)


def test_requests_carry_the_temperature_and_replies_are_served_from_the_cache(
    tmp_path: Path,
) -> None:
    seen: list[tuple[str, float]] = []

    def handler(request: httpx2.Request) -> httpx2.Response:
        seen.append((request.headers["authorization"], json.loads(request.content)["temperature"]))
        return httpx2.Response(200, json=_body({"content": "hi"}), request=request)

    settings = Settings(base_url="http://127.0.0.1:9/v1", model="m", temperature=0.3)
    plain = LLMClient(settings, http_client=httpx2.Client(transport=httpx2.MockTransport(handler)))
    assert plain.chat(MESSAGES, max_tokens=5).cache_key is None  # no cache, no key
    plain.chat(MESSAGES, max_tokens=5, temperature=0.9)
    assert seen == [("Bearer not-needed", 0.3), ("Bearer not-needed", 0.9)]
    cached = LLMClient(
        settings,
        http_client=httpx2.Client(transport=httpx2.MockTransport(handler)),
        cache=ResponseCache(tmp_path / "c.sqlite"),
    )
    first = cached.chat(MESSAGES, max_tokens=5)
    again = cached.chat(MESSAGES, max_tokens=5)
    assert len(seen) == 3 and first.cache_key
    assert (again.text, again.finish_reason, again.usage, again.cache_key) == (
        "hi",
        "stop",
        Usage(),
        first.cache_key,
    )
    cached.close()


def _scripted(*replies: httpx2.Response | Exception) -> tuple[httpx2.Client, list[str]]:
    """An HTTP client answering with ``replies`` in turn; records each request's host."""
    hosts: list[str] = []
    queue = list(replies)

    def handler(request: httpx2.Request) -> httpx2.Response:
        hosts.append(request.url.host)
        reply = queue.pop(0)
        if isinstance(reply, Exception):
            raise reply
        return reply

    return httpx2.Client(transport=httpx2.MockTransport(handler)), hosts


def _ok() -> httpx2.Response:
    return httpx2.Response(200, json=_body({"content": "hi"}, usage={"prompt_tokens": 1}))


def test_every_try_counts_and_a_failure_carries_its_tries() -> None:
    http, _ = _scripted(httpx2.Response(500, json={}), _ok())
    settings = Settings(base_url="http://a.test/v1", api_key="k", model="m", max_retries=2)
    llm = LLMClient(settings, http_client=http, sleep=lambda _: None)
    assert llm.chat(MESSAGES, max_tokens=5).usage == Usage(calls=2, prompt_tokens=1)
    http, _ = _scripted(httpx2.Response(500, json={}), httpx2.Response(500, json={}))
    failing = LLMClient(
        Settings(base_url="http://a.test/v1", api_key="k", model="m", max_retries=1),
        http_client=http,
        sleep=lambda _: None,
    )
    with pytest.raises(ProviderError) as info:
        failing.chat(MESSAGES, max_tokens=5)
    assert info.value.usage == Usage(calls=2)


def test_a_reply_that_is_no_completion_keeps_its_own_message() -> None:
    http, _ = _scripted(httpx2.Response(200, json={"nothing": 1}))
    llm = LLMClient(Settings(base_url="http://a.test/v1", api_key="k", model="m"), http_client=http)
    with pytest.raises(LLMError) as info:
        llm.chat(MESSAGES, max_tokens=5)
    assert str(info.value) == "endpoint returned no chat completion: KeyError: 'choices'"
    assert info.value.usage == Usage(calls=1)


def test_two_endpoints_do_not_share_cached_replies(tmp_path: Path) -> None:
    cache = ResponseCache(tmp_path / "c.sqlite")
    http, hosts = _scripted(_ok(), _ok())
    for host in ("a.test", "b.test"):
        settings = Settings(base_url=f"http://{host}/v1", api_key="k", model="m")
        LLMClient(settings, http_client=http, cache=cache).chat(MESSAGES, max_tokens=5)
    assert hosts == ["a.test", "b.test"]  # the second was not served the first's reply
    cache.close()


def test_the_embedded_model_is_reached_at_its_own_base_url() -> None:
    http, hosts = _scripted(_ok())
    llm = LLMClient(EMBEDDED, http_client=http)
    llm.chat(MESSAGES, max_tokens=5)
    assert str(llm._sdk.base_url) == EMBEDDED_BASE_URL + "/" and hosts == ["embedded.newsqa"]
