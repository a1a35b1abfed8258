"""The response cache behind a client of a scripted loopback server: a repeated call is served
from disk, errors are not stored, a damaged or full cache file is passed over with one
warning."""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

import pytest

from newsqa import ProviderError
from newsqa.llm.cache import ResponseCache
from tests.conftest import fake_client
from tests.support.fake_openai import FakeOpenAI, Reply, completion
from tests.support.storage import corrupt_pages, filled_cache

MESSAGES = [{"role": "user", "content": "hi"}]


class _FullDisk:
    """A connection whose writes fail as SQLite reports a full disk (SQLITE_FULL)."""

    def __init__(self, db: Any) -> None:
        self._db = db

    def execute(self, sql: str, *args: Any) -> Any:
        if sql.startswith("INSERT"):
            raise sqlite3.OperationalError("database or disk is full")
        return self._db.execute(sql, *args)

    def close(self) -> None:
        self._db.close()


def test_second_identical_call_is_served_from_disk(tmp_path: Path) -> None:
    path = tmp_path / "c.sqlite"
    with FakeOpenAI([Reply(body=completion("once", prompt_tokens=9))]) as server:
        first = fake_client(server)
        first.cache = ResponseCache(path)
        assert first.chat(MESSAGES, max_tokens=5).text == "once"
        second = fake_client(server)
        second.cache = ResponseCache(path)  # a new process would open the same file
        hit = second.chat(MESSAGES, max_tokens=5)
        assert len(server.requests) == 1
    assert hit.text == "once" and hit.usage.calls == 0 and second.usage.calls == 0


def test_errors_are_not_cached(tmp_path: Path) -> None:
    script = [Reply(status=400, body={"error": {"message": "bad"}}), Reply(body=completion("ok"))]
    with FakeOpenAI(script) as server:
        client = fake_client(server)
        client.cache = ResponseCache(tmp_path / "c.sqlite")
        with pytest.raises(ProviderError):
            client.chat(MESSAGES, max_tokens=5)
        assert client.chat(MESSAGES, max_tokens=5).text == "ok"
        assert len(server.requests) == 2
    assert len(client.cache) == 1


def test_a_corrupt_cache_page_warns_once_naming_the_file_and_calls_go_on(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    path = tmp_path / "c.sqlite"
    corrupt_pages(filled_cache(path))
    script = [Reply(body=completion("one")), Reply(body=completion("two"))]
    with FakeOpenAI(script) as server:
        client = fake_client(server)
        client.cache = ResponseCache(path)
        first = client.chat(MESSAGES, max_tokens=5)
        second = client.chat([{"role": "user", "content": "again"}], max_tokens=5)
        assert len(server.requests) == 2
    assert (first.text, second.text) == ("one", "two")
    warnings = [r.getMessage() for r in caplog.records if r.levelname == "WARNING"]
    assert len(warnings) == 1 and str(path) in warnings[0] and "without it" in warnings[0]
    assert not client.cache.usable


def test_a_full_disk_under_the_cache_warns_once_and_replies_still_come(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    path = tmp_path / "c.sqlite"
    script = [Reply(body=completion("one")), Reply(body=completion("two"))]
    with FakeOpenAI(script) as server:
        client = fake_client(server)
        client.cache = ResponseCache(path)
        client.cache._db = _FullDisk(client.cache._db)  # type: ignore[assignment]
        texts = [client.chat([{"role": "user", "content": q}], max_tokens=5).text for q in "ab"]
    assert texts == ["one", "two"]
    warnings = [r.getMessage() for r in caplog.records if r.levelname == "WARNING"]
    assert len(warnings) == 1 and str(path) in warnings[0] and "disk is full" in warnings[0]
