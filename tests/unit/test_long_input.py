"""Limits that hold under hostile input and concurrent use (issue 18), each against a
loopback server or real files: budgets, focused reading cost, torn and shared batch
output, concurrent indexing, usage per request, deadlines, and text from outside."""

from __future__ import annotations

import itertools
import json
import random
import sqlite3
import threading
import time
from pathlib import Path
from typing import Any

import pytest

from newsqa import (
    ConfigError,
    DocumentError,
    LLMTimeoutError,
    ProviderError,
    analyze_stances,
    ask,
    check_claim,
    document_from_text,
    stance_toward,
    summarize,
)
from newsqa.batch.run import BatchRun, run_batch
from newsqa.cli import main
from newsqa.config import MIN_CONTEXT_TOKENS, Settings
from newsqa.documents import chunking
from newsqa.documents.chunking import count_tokens
from newsqa.documents.sentences import MAX_SENTENCE_TOKENS, split_sentences
from newsqa.grounding import Passage
from newsqa.grounding import focus as focus_module
from newsqa.grounding import passage as passage_module
from newsqa.llm.client import LLMClient
from newsqa.retrieval.sqlite_index import SQLiteIndex
from newsqa.safe_text import printable, redact
from newsqa.types import Answer, Document
from tests.conftest import fake_client, track
from tests.support.fake_openai import FakeOpenAI, Reply, completion, schema_reply

WORDS = (
    "ukraine russia talks peace ceasefire kyiv moscow minister said the of troops aid "
    "border winter army plan leaders meeting weapons sanctions envoy grain port"
).split()
PROMPT_ALLOWANCE = 900
"""Tokens of a request besides the document: templates, task, schema."""


def _unpunctuated(n_bytes: int, seed: int = 1) -> str:
    rng = random.Random(seed)
    words: list[str] = []
    size = 0
    while size < n_bytes:
        word = rng.choice(WORDS)
        words.append(word)
        size += len(word) + 1
    return " ".join(words)


def _request_tokens(request: dict[str, Any]) -> int:
    return sum(count_tokens(m["content"]) for m in request["messages"])


# 1. Budgets that hold ------------------------------------------------------------------


def test_a_sentence_over_the_limit_is_cut_at_word_boundaries_with_exact_offsets() -> None:
    text = "Short one.\n\n" + _unpunctuated(40_000) + "\n\nTail."
    sentences = split_sentences(text)
    assert len(sentences) > 30
    for s in sentences:
        assert text[s.start : s.end] == s.text
        assert count_tokens(s.text) <= MAX_SENTENCE_TOKENS
    inner = sentences[1:-1]
    for a, b in itertools.pairwise(inner):
        assert text[a.end] == " " and text[b.start - 1] == " "  # never inside a word
    assert [s.text for s in sentences[:1] + sentences[-1:]] == ["Short one.", "Tail."]


def test_one_word_longer_than_the_limit_is_cut_too() -> None:
    text = "x" * 20_000
    sentences = split_sentences(text)
    assert "".join(s.text for s in sentences) == text
    assert all(count_tokens(s.text) <= MAX_SENTENCE_TOKENS for s in sentences)


def test_no_task_sends_more_than_the_budget_on_unpunctuated_text() -> None:
    doc = document_from_text(_unpunctuated(40_000))
    with FakeOpenAI([], responder=schema_reply, max_requests=200) as server:
        client = fake_client(server)
        for task in (
            lambda: summarize(doc, client=client),
            lambda: ask(doc, "What did the envoy say about grain?", client=client),
            lambda: analyze_stances(doc, client=client),
            lambda: check_claim(doc, "The army left the port.", client=client),
            lambda: stance_toward(doc, "Russia", client=client),
        ):
            task()
    assert len(server.requests) >= 5
    budget = Settings().context_tokens
    assert max(_request_tokens(r) for r in server.requests) <= budget + PROMPT_ALLOWANCE


def test_five_megabytes_without_punctuation_go_out_within_the_budget() -> None:
    doc = document_from_text(_unpunctuated(5_000_000))
    with FakeOpenAI([], responder=schema_reply) as server:
        ask(doc, "What did the envoy say about grain?", client=fake_client(server))
    sizes = [len(json.dumps(r)) for r in server.requests]
    assert server.requests and max(sizes) < 40_000  # was one 5.2 MB request
    budget = Settings().context_tokens
    assert max(_request_tokens(r) for r in server.requests) <= budget + PROMPT_ALLOWANCE


# 2. Focused reading in O(n log n) ---------------------------------------------------


def test_focus_counts_each_sentence_once(monkeypatch: pytest.MonkeyPatch) -> None:
    doc = document_from_text(
        " ".join(f"The envoy met minister {i} about grain near port {i}." for i in range(600))
    )
    passage = Passage.of([doc])
    calls = 0
    real = count_tokens

    def counting(text: str) -> int:
        nonlocal calls
        calls += 1
        return real(text)

    monkeypatch.setattr(passage_module, "count_tokens", counting)  # what Passage costs use
    shown = focus_module.focus(passage, "grain envoy minister", 3000)
    assert 0 < shown.tokens() <= 3000
    assert calls <= 4 * len(passage.units)  # was one recount per hit: ~ units² / 2


def test_search_reads_each_document_text_once(tmp_path: Path) -> None:
    doc = document_from_text(" ".join(f"Grain left port {i} today." for i in range(400)))
    index = SQLiteIndex(tmp_path / "c.sqlite")
    index.add([doc])
    statements: list[str] = []
    index._db.set_trace_callback(statements.append)
    hits = index.search("grain port", k=150)
    index.close()
    assert len(hits) == 150 and all(doc.text[h.start : h.end] == h.text for h in hits)
    assert sum(1 for s in statements if "FROM documents WHERE id" in s) == 1


# 3. Torn and shared batch output ----------------------------------------------------


def _docs(n: int) -> list[Document]:
    return [document_from_text(f"Kyiv said no {i}.", id=f"d{i}") for i in range(n)]


ANSWER = Reply.json({"sentences": [1], "answer": "no"})


def test_resume_after_a_torn_last_line_loses_no_record(tmp_path: Path) -> None:
    out = tmp_path / "out.jsonl"
    with FakeOpenAI([ANSWER] * 3) as server:
        client = fake_client(server)
        run_batch(_docs(1), "ask", out, client=client, question="Who said no?")
        with out.open("ab") as fh:  # the disk filled up in the middle of d1's line
            fh.write(b'{"id": "d1", "task": "ask", "question": "Who said no?", "res')
        report = run_batch(_docs(3), "ask", out, client=client, question="Who said no?")
    lines = [json.loads(line) for line in out.read_text().splitlines()]  # all whole
    assert sorted(r["id"] for r in lines) == ["d0", "d1", "d2"]
    assert (report.done, report.skipped) == (2, 1)
    assert (tmp_path / "out.jsonl.partial").read_bytes().startswith(b'{"id": "d1"')


def test_a_second_run_on_the_same_output_is_refused(tmp_path: Path) -> None:
    out = tmp_path / "out.jsonl"
    with FakeOpenAI([ANSWER] * 4) as server:
        client = fake_client(server)
        run = BatchRun[Answer](_docs(2), "ask", out, client=client, question="Who said no?")
        first = iter(run)
        next(first)  # the first run holds the file
        with pytest.raises(BlockingIOError, match="another batch run"):
            run_batch(_docs(2), "ask", out, client=client, question="Who said no?")
        assert len(list(first)) == 1
        run_batch(_docs(2), "ask", out, client=client, question="Who said no?")  # released
    assert len(out.read_text().splitlines()) == 2


# 4. Concurrent indexing -------------------------------------------------------------


def test_concurrent_writers_on_overlapping_inputs_index_every_document_once(
    tmp_path: Path,
) -> None:
    db = tmp_path / "corpus.sqlite"
    docs = [document_from_text(f"Report {i} on grain and ports.", id=f"r{i}") for i in range(240)]
    shares = [docs[0:120], docs[60:180], docs[120:240], docs[0:240:2]]
    barrier = threading.Barrier(len(shares), timeout=60)
    errors: list[BaseException] = []

    def write(part: list[Document]) -> None:
        try:
            barrier.wait()  # every writer creates the new file at once, then indexes
            index = SQLiteIndex(db)
            index.add(part)
            index.close()
        except BaseException as e:  # collected: the test fails on any
            errors.append(e)
            barrier.abort()  # the others stop waiting, so a failure never hangs the run

    threads = [threading.Thread(target=write, args=(part,), daemon=True) for part in shares]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert errors == []
    assert not any(t.is_alive() for t in threads)
    index = SQLiteIndex(db)
    assert index.ids() == {d.id for d in docs}
    rows = index._db.execute("SELECT COUNT(*), COUNT(DISTINCT doc_id) FROM sentences").fetchone()
    index.close()
    assert rows == (240, 240)


def test_index_refuses_a_database_of_another_application(tmp_path: Path) -> None:
    db = tmp_path / "app.sqlite"
    with sqlite3.connect(db) as con:
        con.execute("CREATE TABLE users (name TEXT)")
    con.close()
    with pytest.raises(DocumentError, match="not a newsqa corpus"):
        SQLiteIndex(db)
    with sqlite3.connect(db) as con:
        tables = [r[0] for r in con.execute("SELECT name FROM sqlite_master")]
        mode = con.execute("PRAGMA journal_mode").fetchone()[0]
    con.close()
    assert tables == ["users"] and mode == "delete"


# 5. Usage per HTTP request ----------------------------------------------------------


def test_usage_counts_every_request_served_also_when_a_document_fails(tmp_path: Path) -> None:
    doc = document_from_text(
        "Ukraine asked for talks. Russia refused the plan. Kyiv wants aid.", id="s"
    )
    stance = {"sentences": [1], "label": "supports", "position": "Wants talks."}
    script = [
        Reply(status=429, body={"error": {"message": "slow down"}}),
        Reply.json(stance),
        Reply(status=500, body={"error": {"message": "boom"}}),
        Reply(status=400, body={"error": {"message": "bad request"}}),
    ]
    out = tmp_path / "out.jsonl"
    with FakeOpenAI(script) as server:
        client = fake_client(server)
        report = run_batch([doc], "stances", out, client=client)
        served = len(server.requests)
    line = json.loads(out.read_text())
    assert served == 4 and report.failed == 1
    assert line["usage"]["calls"] == served  # was 0: the failure dropped earlier calls
    assert report.usage.calls == served and client.usage.calls == served


# 6. Deadlines -----------------------------------------------------------------------


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


@pytest.mark.parametrize(
    ("name", "value"),
    [("NEWSQA_CONTEXT_TOKENS", "0"), ("NEWSQA_TIMEOUT", "-1"), ("NEWSQA_DEADLINE", "soon")],
)
def test_unusable_settings_name_their_variable(
    monkeypatch: pytest.MonkeyPatch, name: str, value: str
) -> None:
    monkeypatch.setenv(name, value)
    with pytest.raises(ConfigError, match=name):
        Settings.from_env()
    with pytest.raises(ConfigError):
        Settings(context_tokens=MIN_CONTEXT_TOKENS - 1)


# 7. Text from outside ---------------------------------------------------------------


def test_printable_removes_escape_sequences_and_controls() -> None:
    hostile = "A\x1b[2J\x1b]0;pwned\x07B\x9b31mC\rD\u202eE\tF\nG\x00"
    assert printable(hostile) == "ABCDE\tF\nG"
    assert redact("key sk-abc123 at http://u:pw@h/v1", ["sk-abc123"]) == (
        "key [redacted] at http://[redacted]@h/v1"
    )


def test_escape_sequences_in_a_reply_do_not_reach_the_terminal(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    article = tmp_path / "a.txt"
    article.write_text("Kyiv said no to the plan. Moscow said yes.")
    draft = {
        "headline": "\x1b]0;owned\x07Kyiv\x1b[2J says no",
        "summary": "Kyiv said no.\x1b[31m",
        "key_points": [{"point": "No\x1b[8m", "sentences": [1]}],
    }
    with FakeOpenAI([Reply.json(draft)]) as server:
        code = main(["summarize", str(article), "--base-url", server.base_url, "--model", "m"])
    out = capsys.readouterr().out
    assert code == 0 and "Kyiv says no" in out
    assert "\x1b" not in out and "\x07" not in out


def test_secrets_never_reach_errors_stderr_or_jsonl(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    key = "sk-live-SECRET-1234567890"
    echo = {"error": {"message": f"Incorrect API key provided: {key}"}}
    out = tmp_path / "out.jsonl"
    with FakeOpenAI([Reply(status=401, body=echo)] * 3) as server:
        settings = Settings(base_url=server.base_url, api_key=key, model="m", max_retries=0)
        client = track(LLMClient(settings))
        with pytest.raises(ProviderError) as info:
            client.chat(MESSAGES, max_tokens=5)
        run_batch(_docs(1), "ask", out, client=client, question="Who?")
        monkeypatch.setenv("OPENAI_API_KEY", key)
        article = tmp_path / "a.txt"
        article.write_text("Kyiv said no.")
        assert main(["summarize", str(article), "--base-url", server.base_url, "--model", "m"]) == 1
    assert key not in str(info.value) and "[redacted]" in str(info.value)
    assert key not in out.read_text() and "[redacted]" in out.read_text()
    assert key not in capsys.readouterr().err
    assert main(["summarize", str(article), "--base-url", "http://u:hunter22@[::1/v1"]) == 2
    err = capsys.readouterr().err
    assert "hunter22" not in err and "[redacted]" in err


def test_the_tokenizer_writes_no_cache_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import tiktoken.registry

    cache = tmp_path / "tiktoken"
    monkeypatch.setenv("TIKTOKEN_CACHE_DIR", str(cache))
    monkeypatch.setattr(tiktoken.registry, "ENCODINGS", {})
    chunking.encoding.cache_clear()
    try:
        assert count_tokens("Kyiv said no.") == 5
    finally:
        chunking.encoding.cache_clear()
    assert not cache.exists() or not any(cache.iterdir())
