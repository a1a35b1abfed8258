"""The async functions keep many calls in flight at once (not Python's default thread
pool of min(32, CPUs + 4)), up to a settable limit."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

import newsqa
from newsqa import ConfigError
from tests.conftest import fake_client
from tests.support.fake_openai import FakeOpenAI, Reply, schema_instance

DOCS = [f"Kyiv said no to plan {i}. Moscow said yes to plan {i}." for i in range(20)]


def _slow(request: dict[str, Any]) -> Reply:
    schema = request["response_format"]["json_schema"]["schema"]
    return Reply.json(schema_instance(schema), delay=1.0)


def _peak(limit: str | None, monkeypatch: pytest.MonkeyPatch) -> int:
    if limit is not None:
        monkeypatch.setenv("NEWSQA_ASYNC_CALLS", limit)
    with FakeOpenAI([], responder=_slow, max_requests=100) as server:
        client = fake_client(server)

        async def run_all() -> None:
            await asyncio.gather(*(newsqa.asummarize(doc, client=client) for doc in DOCS))

        asyncio.run(run_all())
        assert len(server.requests) == len(DOCS)
        return server.peak_in_flight


def test_twenty_async_calls_are_in_flight_at_once(monkeypatch: pytest.MonkeyPatch) -> None:
    assert _peak(None, monkeypatch) == len(DOCS)


def test_newsqa_async_calls_bounds_the_calls_in_flight(monkeypatch: pytest.MonkeyPatch) -> None:
    assert _peak("5", monkeypatch) == 5


def test_a_bad_async_limit_is_a_config_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NEWSQA_ASYNC_CALLS", "0")
    with FakeOpenAI([], responder=_slow) as server:
        client = fake_client(server)
        with pytest.raises(ConfigError, match="NEWSQA_ASYNC_CALLS"):
            asyncio.run(newsqa.asummarize(DOCS[0], client=client))
        assert server.requests == []
