"""Transient failures against a real loopback server: retried within bounds, then typed errors."""

from __future__ import annotations

import random
from typing import Any

import pytest

from newsqa import (
    LLMClient,
    LLMConnectionError,
    LLMError,
    LLMTimeoutError,
    ProviderError,
    RateLimitError,
    Settings,
)
from newsqa.llm.retry import (
    DeadlinePassed,
    TooLongRetryAfter,
    backoff,
    parse_retry_after,
    retrying,
)
from tests.conftest import track
from tests.support.fake_openai import FakeOpenAI, Reply, completion

MESSAGES = [{"role": "user", "content": "hi"}]
ERROR = {"error": {"message": "boom", "type": "server_error"}}


def _client(server: FakeOpenAI, sleeps: list[float], **overrides: Any) -> LLMClient:
    settings = Settings(
        base_url=server.base_url,
        api_key="sk-test-dummy",
        model="fake",
        **{"timeout": 5.0, "max_retries": 3, **overrides},
    )
    return track(LLMClient(settings, sleep=sleeps.append))


def test_429_honours_retry_after_then_succeeds() -> None:
    script = [
        Reply(status=429, body=ERROR, headers={"Retry-After": "7"}),
        Reply(status=429, body=ERROR, headers={"retry-after-ms": "1500"}),
        Reply(body=completion("ok", prompt_tokens=11, completion_tokens=2)),
    ]
    sleeps: list[float] = []
    with FakeOpenAI(script) as server:
        result = _client(server, sleeps).chat(MESSAGES, max_tokens=5)
        assert len(server.requests) == 3
    assert result.text == "ok"
    assert sleeps == [7.0, 1.5]
    assert (result.usage.prompt_tokens, result.usage.completion_tokens) == (11, 2)


@pytest.mark.parametrize("status", [500, 502, 503])
def test_5xx_backs_off_exponentially_then_succeeds(status: int) -> None:
    script = [Reply(status=status, body=ERROR)] * 3 + [Reply(body=completion("fine"))]
    sleeps: list[float] = []
    with FakeOpenAI(script) as server:
        assert _client(server, sleeps).chat(MESSAGES, max_tokens=5).text == "fine"
        assert len(server.requests) == 4
    assert len(sleeps) == 3
    assert all(0 <= s <= 8 for s in sleeps)


def test_retry_budget_is_bounded_and_error_is_typed() -> None:
    sleeps: list[float] = []
    with FakeOpenAI([Reply(status=503, body=ERROR)] * 10) as server:
        with pytest.raises(ProviderError) as info:
            _client(server, sleeps, max_retries=2).chat(MESSAGES, max_tokens=5)
        assert len(server.requests) == 3  # 1 try + 2 retries, never more
    assert info.value.status_code == 503
    assert len(sleeps) == 2


def test_rate_limit_exhausted_is_rate_limit_error() -> None:
    with FakeOpenAI([Reply(status=429, body=ERROR, headers={"Retry-After": "0"})] * 5) as server:
        with pytest.raises(RateLimitError):
            _client(server, [], max_retries=1).chat(MESSAGES, max_tokens=5)
        assert len(server.requests) == 2


def test_retry_after_longer_than_cap_fails_fast() -> None:
    sleeps: list[float] = []
    with FakeOpenAI([Reply(status=429, body=ERROR, headers={"Retry-After": "3600"})]) as server:
        with pytest.raises(RateLimitError, match="3600s") as info:
            _client(server, sleeps, max_retry_wait=30.0).chat(MESSAGES, max_tokens=5)
        assert len(server.requests) == 1
    assert sleeps == []
    assert info.value.status_code == 429  # taken from the response that asked to wait


def test_the_retry_stops_say_why() -> None:
    cause = ValueError("boom")
    too_long = TooLongRetryAfter(3599.6, cause)
    assert (str(too_long), too_long.seconds, too_long.cause) == (
        "server asked to retry after 3600s",
        3599.6,
        cause,
    )
    passed = DeadlinePassed(cause)
    assert (str(passed), passed.cause) == ("the call's deadline passed", cause)


def test_client_errors_are_not_retried() -> None:
    with FakeOpenAI([Reply(status=401, body={"error": {"message": "bad key"}})]) as server:
        with pytest.raises(ProviderError) as info:
            _client(server, []).chat(MESSAGES, max_tokens=5)
        assert len(server.requests) == 1
    assert info.value.status_code == 401


def test_timeout_is_retried_then_raised() -> None:
    script = [Reply(delay=1.0, body=completion("late"))] * 2
    with FakeOpenAI(script) as server:
        with pytest.raises(LLMTimeoutError):
            _client(server, [], timeout=0.2, max_retries=1).chat(MESSAGES, max_tokens=5)
        assert len(server.requests) == 2


def test_dropped_connection_is_retried_then_succeeds() -> None:
    script = [Reply(drop=True), Reply(body=completion("back"))]
    with FakeOpenAI(script) as server:
        assert _client(server, []).chat(MESSAGES, max_tokens=5).text == "back"
        assert len(server.requests) == 2


def test_dropped_connections_exhaust_into_connection_error() -> None:
    with FakeOpenAI([Reply(drop=True)] * 3) as server:
        with pytest.raises(LLMConnectionError):
            _client(server, [], max_retries=2).chat(MESSAGES, max_tokens=5)
        assert len(server.requests) == 3


def test_unreachable_endpoint_is_connection_error() -> None:
    with FakeOpenAI([]) as server:
        url = server.base_url
    settings = Settings(base_url=url, api_key="sk-test-dummy", timeout=2.0, max_retries=1)
    with pytest.raises(LLMConnectionError):
        track(LLMClient(settings, sleep=lambda _: None)).chat(MESSAGES, max_tokens=5)


def test_usage_accumulates_on_the_client() -> None:
    script = [
        Reply(body=completion("a", prompt_tokens=3, completion_tokens=1)),
        Reply(body=completion("b", prompt_tokens=4, completion_tokens=2)),
    ]
    with FakeOpenAI(script) as server:
        client = _client(server, [])
        client.chat(MESSAGES, max_tokens=5)
        client.chat(MESSAGES, max_tokens=5)
    assert (client.usage.calls, client.usage.prompt_tokens, client.usage.completion_tokens) == (
        2,
        7,
        3,
    )


@pytest.mark.parametrize(
    "reply",
    [
        Reply(raw=b"<html>not json</html>"),
        Reply(body={"object": "chat.completion", "choices": []}),
        Reply(body={"choices": [{"message": {"content": 7}}]}),
    ],
)
def test_a_body_that_is_no_chat_completion_is_an_llm_error(reply: Reply) -> None:
    with FakeOpenAI([reply]) as server, pytest.raises(LLMError, match="no chat completion"):
        _client(server, []).chat(MESSAGES, max_tokens=5)


def test_a_reply_without_usage_counts_one_call_and_no_tokens() -> None:
    body = {"choices": [{"message": {"content": "hi"}, "finish_reason": "stop"}]}
    with FakeOpenAI([Reply(body=body)]) as server:
        reply = _client(server, []).chat(MESSAGES, max_tokens=5)
    assert (reply.text, reply.finish_reason, reply.usage.calls, reply.usage.prompt_tokens) == (
        "hi",
        "stop",
        1,
        0,
    )


@pytest.mark.parametrize(
    ("headers", "expected"),
    [
        ({"Retry-After": "12"}, 12.0),
        ({"retry-after-ms": "250"}, 0.25),
        ({"retry-after-ms": "x", "Retry-After": "2"}, 2.0),
        ({}, None),
        ({"Retry-After": "Wed, 21 Oct 2015 07:28:00 GMT"}, 0.0),
        ({"Retry-After": "soon"}, None),
        ({"Retry-After": "0.5"}, 0.5),
        ({"Retry-After": "-3"}, 0.0),
    ],
)
def test_parse_retry_after(headers: dict[str, str], expected: float | None) -> None:
    assert parse_retry_after(headers) == expected


class Top(random.Random):
    """A jitter that always draws the top of its range, and records the range."""

    def __init__(self) -> None:
        super().__init__(0)
        self.ranges: list[tuple[float, float]] = []

    def uniform(self, a: float, b: float) -> float:
        self.ranges.append((a, b))
        return b


def test_backoff_doubles_up_to_the_cap_with_full_jitter() -> None:
    top = Top()
    waits = [backoff(n, initial=0.5, cap=8.0, rng=top) for n in range(1, 8)]
    assert waits == [0.5, 1.0, 2.0, 4.0, 8.0, 8.0, 8.0]
    assert {low for low, _ in top.ranges} == {0.0}


class Flaky:
    """Fails ``failures`` times with ``error``, then returns "ok"."""

    def __init__(self, failures: int, error: Exception) -> None:
        self.failures, self.error, self.calls = failures, error, 0

    def __call__(self) -> str:
        self.calls += 1
        if self.calls <= self.failures:
            raise self.error
        return "ok"


def _policy(sleeps: list[float], **kwargs: Any) -> Any:
    return retrying(
        max_retries=kwargs.pop("max_retries", 5),
        is_transient=lambda e: isinstance(e, ConnectionError),
        retry_after=kwargs.pop("retry_after", lambda e: None),
        max_wait=kwargs.pop("max_wait", 30.0),
        sleep=sleeps.append,
        rng=Top(),
        **kwargs,
    )


def test_the_default_backoff_starts_at_half_a_second_and_stops_at_eight() -> None:
    sleeps: list[float] = []
    assert _policy(sleeps, max_retries=6)(Flaky(6, ConnectionError())) == "ok"
    assert sleeps == [0.5, 1.0, 2.0, 4.0, 8.0, 8.0]


def test_a_requested_wait_of_exactly_the_limit_is_waited() -> None:
    sleeps: list[float] = []
    assert _policy(sleeps, retry_after=lambda e: 30.0)(Flaky(1, ConnectionError())) == "ok"
    assert sleeps == [30.0]


def test_a_wait_reaching_the_deadline_stops_with_the_last_error(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr("newsqa.llm.retry.time.monotonic", lambda: 100.0)
    error = ConnectionError("down")
    sleeps: list[float] = []
    with pytest.raises(DeadlinePassed) as info:
        _policy(sleeps, deadline=100.5)(Flaky(1, error))  # the first wait ends at 100.5
    assert info.value.cause is error and sleeps == []
    assert _policy(sleeps, deadline=100.51)(Flaky(1, error)) == "ok"


def test_a_requested_wait_over_the_limit_stops_with_the_last_error() -> None:
    error = ConnectionError("busy")
    with pytest.raises(TooLongRetryAfter) as info:
        _policy([], retry_after=lambda e: 31.0)(Flaky(1, error))
    assert (info.value.seconds, info.value.cause) == (31.0, error)
