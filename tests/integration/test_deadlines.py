"""Time limits against stalling loopback servers: a trickling reply cannot outlast the timeout,
retries stop at the call's deadline."""

from __future__ import annotations

import time

import pytest

from newsqa import (
    LLMTimeoutError,
)
from tests.conftest import fake_client
from tests.support.fake_openai import FakeOpenAI, Reply, completion

MESSAGES = [{"role": "user", "content": "hi"}]


def test_a_trickling_server_cannot_outlast_the_timeout() -> None:
    with FakeOpenAI([Reply(body=completion("slow"), trickle=0.05)]) as server:
        client = fake_client(server, timeout=1.0, max_retries=0)
        started = time.monotonic()
        with pytest.raises(LLMTimeoutError):
            client.chat(MESSAGES, max_tokens=5)
        elapsed = time.monotonic() - started
    assert elapsed < 1.5  # was ~ 0.05 s x 300 bytes


def test_retries_stop_at_the_call_deadline() -> None:
    script = [Reply(delay=0.6, body=completion("late"))] * 10
    with FakeOpenAI(script) as server:
        client = fake_client(server, timeout=0.25, deadline=0.6, max_retries=9)
        started = time.monotonic()
        with pytest.raises(LLMTimeoutError, match="deadline"):
            client.chat(MESSAGES, max_tokens=5)
        elapsed = time.monotonic() - started
        assert len(server.requests) <= 3
    assert elapsed < 1.5  # 10 tries x 0.25 s (2.5 s) without a deadline
