"""The Python API's entry points: task functions take text, paths and documents, close the
clients they make, cache like the CLI and have async twins; the names the README uses are
exported."""

from __future__ import annotations

import asyncio
import sqlite3
from pathlib import Path
from typing import Any

import pytest

import newsqa
from newsqa import LLMClient, ProviderError, Settings
from tests.conftest import track
from tests.support.fake_openai import FakeOpenAI, Reply
from tests.support.replies import SUMMARY


def test_task_functions_take_text_paths_and_documents(server: FakeOpenAI, tmp_path: Path) -> None:
    server.script = [Reply.json(SUMMARY)] * 3
    client = track(newsqa.connect(base_url=server.base_url, model="fake", cache=False))
    from_text = newsqa.summarize("Kyiv rejected the proposal. Moscow waited.", client=client)
    assert from_text.key_points[0].evidence[0].text == "Kyiv rejected the proposal."
    path = tmp_path / "article.txt"
    path.write_text("date 2024-01-02 Kyiv said no.")
    assert newsqa.summarize(path, client=client).key_points[0].evidence[0].text == "Kyiv said no."
    assert newsqa.summarize(str(path), client=client).key_points[0].evidence[0].text == (
        "Kyiv said no."
    )
    prompts = [r["messages"][-1]["content"] for r in server.requests]
    assert "article.txt" not in prompts[2] and "Kyiv said no." in prompts[2]


def test_implicit_clients_are_closed(server: FakeOpenAI, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPENAI_BASE_URL", server.base_url)
    monkeypatch.setenv("NEWSQA_MODEL", "fake")
    made: list[LLMClient] = []
    real = newsqa.api.connect

    def tracking_connect(*args: Any, **kwargs: Any) -> LLMClient:
        made.append(real(*args, **kwargs))
        return made[-1]

    monkeypatch.setattr(newsqa.api, "connect", tracking_connect)
    server.script = [Reply.json(SUMMARY)]
    newsqa.summarize("Kyiv rejected the proposal.")
    server.script = [Reply(status=400, body={"error": {"message": "bad"}})]
    with pytest.raises(ProviderError):
        newsqa.check_claim("Kyiv rejected the proposal.", "Kyiv agreed")
    assert len(made) == 2
    assert all(client._sdk.is_closed() for client in made)


def test_connect_caches_like_the_cli(server: FakeOpenAI, tmp_path: Path) -> None:
    server.script = [Reply.json(SUMMARY)] * 3
    text = "Kyiv rejected the proposal."
    for _ in range(2):  # default: on, in NEWSQA_CACHE_DIR
        with newsqa.connect(base_url=server.base_url, model="fake") as client:
            newsqa.summarize(text, client=client)
    assert len(server.requests) == 1
    own = tmp_path / "mine.sqlite"
    with newsqa.connect(base_url=server.base_url, model="fake", cache=own) as client:
        assert client.cache is not None and client.cache.path == own
        newsqa.summarize(text, client=client)
    assert len(server.requests) == 2 and own.is_file()
    with newsqa.connect(base_url=server.base_url, model="fake", cache=False) as client:
        assert client.cache is None
        newsqa.summarize(text, client=client)
    assert len(server.requests) == 3


def test_connect_takes_only_known_settings() -> None:
    with pytest.raises(TypeError, match="modle"):
        newsqa.connect(modle="x")  # type: ignore[call-arg]
    with pytest.raises(TypeError):
        newsqa.connect(Settings(), model="x")


def test_async_task_functions(server: FakeOpenAI) -> None:
    answer = {"sentences": [1], "answer": "no"}
    # "No" shares only the name Kyiv with the question: the model is asked to confirm it
    server.script = [Reply.json(SUMMARY), Reply.json(answer), Reply.json({"stated": True})]
    client = track(newsqa.connect(base_url=server.base_url, model="fake", cache=False))

    async def run() -> tuple[newsqa.Summary, newsqa.Answer]:
        return (
            await newsqa.asummarize("Kyiv rejected the proposal.", client=client),
            await newsqa.aask("Kyiv rejected the proposal.", "Did Kyiv agree?", client=client),
        )

    summary, reply = asyncio.run(run())
    assert summary.headline == "Kyiv says no" and reply.citations


def test_corpus_is_a_context_manager(tmp_path: Path) -> None:
    with newsqa.Corpus(tmp_path / "c.sqlite") as corpus:
        corpus.add([newsqa.document_from_text("Kyiv said no.", id="a")])
        assert len(corpus) == 1
    with pytest.raises(sqlite3.ProgrammingError):
        len(corpus)


def test_names_the_readme_sends_users_to_are_exported() -> None:
    for name in ("Retriever", "Hit", "ResponseCache", "Corpus", "iter_inputs"):
        assert name in newsqa.__all__
