"""The response cache: a repeated request costs no model call; keys see every input."""

from __future__ import annotations

import sqlite3
import threading
from pathlib import Path

import pytest

from newsqa.llm.cache import ResponseCache, cache_key
from tests.support.fake_openai import completion

MESSAGES = [{"role": "user", "content": "hi"}]




def test_any_change_to_the_request_misses(tmp_path: Path) -> None:
    base = {"model": "m", "messages": MESSAGES, "max_tokens": 5, "temperature": 0.0}
    key = cache_key("http://a/v1", base)
    assert key == cache_key("http://a/v1", dict(reversed(list(base.items()))))
    assert key != cache_key("http://b/v1", base)
    assert key != cache_key("http://a/v1", {**base, "temperature": 0.5})
    assert key != cache_key("http://a/v1", {**base, "model": "other"})
    assert key != cache_key("http://a/v1", {**base, "messages": [{"role": "user", "content": "x"}]})




def test_concurrent_writers_are_safe(tmp_path: Path) -> None:
    caches = [ResponseCache(tmp_path / "c.sqlite") for _ in range(4)]

    def write(n: int) -> None:
        for i in range(50):
            caches[n].put(f"{n}-{i}", "x", "stop", 1, 1)

    threads = [threading.Thread(target=write, args=(n,)) for n in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(caches[0]) == 200
    for c in caches:
        c.close()


def test_a_stored_reply_survives_a_killed_process_without_fsync_per_reply(
    tmp_path: Path,
) -> None:
    import subprocess
    import sys

    path = tmp_path / "c.sqlite"
    script = (
        "import os, sys\n"
        "from pathlib import Path\n"
        "from newsqa.llm.cache import ResponseCache\n"
        "cache = ResponseCache(Path(sys.argv[1]))\n"
        "cache.put('k', 'kept', 'stop', 3, 1)\n"
        "os._exit(0)  # no close, no checkpoint\n"
    )
    subprocess.run([sys.executable, "-c", script, str(path)], check=True)
    cache = ResponseCache(path)
    try:
        assert cache.get("k") == ("kept", "stop", 3, 1)
        assert cache._db.execute("PRAGMA synchronous").fetchone()[0] == 1  # NORMAL
    finally:
        cache.close()


def test_the_cache_makes_its_folders_and_keeps_its_path(tmp_path: Path) -> None:
    path = tmp_path / "a" / "b" / "responses.sqlite"
    cache = ResponseCache(path)
    cache.put("k", "text", "stop", 3, 4)
    assert cache.path == path and path.is_file()
    assert cache.get("k") == ("text", "stop", 3, 4) and len(cache) == 1
    cache.close()


def test_a_reply_of_one_model_file_is_never_served_for_another(tmp_path: Path) -> None:
    import httpx2

    from newsqa import LLMClient, Settings

    calls: list[int] = []

    def answer(request: httpx2.Request) -> httpx2.Response:
        calls.append(1)
        return httpx2.Response(200, json=completion("hi"))

    first, second = tmp_path / "a.gguf", tmp_path / "b.gguf"
    first.write_bytes(b"a" * 10)
    second.write_bytes(b"b" * 10)

    def ask(model: Path) -> None:
        http = httpx2.Client(transport=httpx2.MockTransport(answer))
        with LLMClient(Settings(model_path=model), http_client=http) as client:
            client.cache = ResponseCache(tmp_path / "c.sqlite")
            assert client.settings.embedded
            client.chat(MESSAGES, max_tokens=5)

    ask(first)
    ask(first)  # the same file: served from the cache
    assert len(calls) == 1
    ask(second)  # another file, same size
    assert len(calls) == 2
    first.write_bytes(b"c" * 11)  # the file replaced
    ask(first)
    assert len(calls) == 3








def test_a_cache_error_that_is_not_damage_still_raises(tmp_path: Path) -> None:
    cache = ResponseCache(tmp_path / "c.sqlite")
    cache._db.execute("DROP TABLE responses")  # a bug of ours, not a damaged file
    with pytest.raises(sqlite3.OperationalError, match="no such table"):
        cache.get("k")
    cache.close()
