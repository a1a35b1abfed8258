"""Limits under hostile input and concurrent use, against loopback fault-injecting servers.

No model runs: every server is a scripted OpenAI-compatible endpoint on 127.0.0.1.

1. Budget: the largest request (tokens of all messages) for a 5 MB text without
   punctuation (``ask``) and a 40 KB one (summarize, ask, stances, check, stance-toward),
   against ``context_tokens``.
2. ``ask`` on one large document (news-like sentences) at 0.1 / 1 / 2 / 8 MB: seconds.
3. Full disk: a batch run in a child process whose file size limit cuts a line in half,
   then a resumed run: records lost (documents without exactly one whole result line).
4. Four processes index overlapping quarters of a folder at once: documents indexed,
   documents stored twice, writers that failed.
5. Usage vs requests served: a ``stances`` batch with 20% 429/5xx and 5% dropped
   connections; ``report.usage.calls`` against the server's request log.
6. A server trickling one byte every 0.1 s: the slowest of five calls with
   ``timeout`` = 2 s and ``deadline`` = 3 s.
7. Splitting runs of 50,000 to 800,000 full stops into sentences (a pattern that
   backtracks would take quadratic time): seconds per size.

Usage: python benchmarks/limits.py [--sizes 0.1 1 2 8] [--docs 60]
"""

from __future__ import annotations

import argparse
import contextlib
import json
import multiprocessing as mp
import random
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from newsqa import (  # noqa: E402
    Ask,
    LLMError,
    Settings,
    Stances,
    analyze_stances,
    ask,
    check_claim,
    document_from_text,
    stance_toward,
    summarize,
)
from newsqa.batch.run import run_batch  # noqa: E402
from newsqa.documents.chunking import count_tokens  # noqa: E402
from newsqa.documents.sentences import split_sentences  # noqa: E402
from newsqa.llm.client import LLMClient  # noqa: E402
from newsqa.retrieval.sqlite_index import SQLiteIndex  # noqa: E402
from tests.support.fake_openai import FakeOpenAI, Reply, completion, schema_reply  # noqa: E402

WORDS = (
    "ukraine russia talks peace ceasefire kyiv moscow minister said the of troops aid "
    "border winter army plan leaders meeting weapons sanctions envoy grain port"
).split()
QUESTION = "What did the envoy say about grain?"


def _client(server: FakeOpenAI, **overrides: Any) -> LLMClient:
    settings = Settings(base_url=server.base_url, api_key="sk-bench", model="fake", **overrides)
    return LLMClient(settings, sleep=lambda _: None)


def _words(n_bytes: int, rng: random.Random, sentences: bool) -> str:
    out: list[str] = []
    size = 0
    while size < n_bytes:
        if sentences:
            words = rng.choices(WORDS, k=rng.randint(8, 24))
            piece = words[0].capitalize() + " " + " ".join(words[1:]) + "."
        else:
            piece = rng.choice(WORDS)
        out.append(piece)
        size += len(piece) + 1
    return " ".join(out)


def _tokens(request: dict[str, Any]) -> int:
    return sum(count_tokens(m["content"]) for m in request["messages"])


def budget() -> None:
    rng = random.Random(1)
    limit = Settings().context_tokens
    big = document_from_text(_words(5_000_000, rng, sentences=False))
    small = document_from_text(_words(40_000, rng, sentences=False))
    with FakeOpenAI([], responder=schema_reply, max_requests=500) as server:
        client = _client(server)
        ask(big, QUESTION, client=client)
        n_big = len(server.requests)
        big_max = max(_tokens(r) for r in server.requests)
        summarize(small, client=client)
        ask(small, QUESTION, client=client)
        analyze_stances(small, client=client)
        check_claim(small, "The army left the port.", client=client)
        stance_toward(small, "Russia", client=client)
        small_max = max(_tokens(r) for r in server.requests[n_big:])
        n_small = len(server.requests) - n_big
        client.close()
    print(f"1. budget {limit} tokens (+ prompt):")
    print(f"   5 MB unpunctuated, ask: largest request {big_max} tokens (n={n_big} requests)")
    print(f"   40 KB unpunctuated, 5 tasks: largest request {small_max} tokens (n={n_small})")


def ask_scaling(sizes: list[float]) -> None:
    print("2. ask on one document (news-like sentences), focused reading:")
    with FakeOpenAI([], responder=schema_reply, max_requests=100) as server:
        client = _client(server)
        for mb in sizes:
            text = _words(int(mb * 1_000_000), random.Random(2), True)
            started = time.perf_counter()
            doc = document_from_text(text)
            loaded = time.perf_counter()
            ask(doc, QUESTION, client=client)
            done = time.perf_counter()
            print(
                f"   {mb:>4} MB ({len(doc.sentences):>6} sentences): {done - started:5.1f} s "
                f"(split {loaded - started:.1f} s, ask {done - loaded:.1f} s)"
            )
        client.close()


_CHILD = textwrap.dedent(
    """
    import resource, signal, sys
    sys.path.insert(0, {root!r})
    from pathlib import Path
    from newsqa import Ask, Settings, document_from_text
    from newsqa.llm.client import LLMClient
    from newsqa.batch.run import run_batch
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # a write past the limit fails (EFBIG)
    resource.setrlimit(resource.RLIMIT_FSIZE, ({limit}, {limit}))
    docs = [document_from_text(f"Kyiv said no {{i}}.", id=f"d{{i}}") for i in range({n})]
    settings = Settings(base_url={url!r}, api_key="sk-bench", model="fake")
    try:
        run_batch(docs, Ask("Who?"), Path({out!r}), client=LLMClient(settings))
    except OSError as e:
        print("child stopped:", e.strerror)
    """
)


def full_disk(n: int = 40) -> None:
    answer = Reply.json({"sentences": [1], "answer": "Kyiv said no"})
    with tempfile.TemporaryDirectory() as tmp, FakeOpenAI([answer] * (2 * n)) as server:
        out = Path(tmp) / "out.jsonl"
        child = _CHILD.format(root=str(ROOT), limit=3000, n=n, url=server.base_url, out=str(out))
        stopped = subprocess.run(
            [sys.executable, "-c", child], capture_output=True, text=True, timeout=120
        )
        before = len(out.read_bytes().splitlines())
        client = _client(server)
        docs = [document_from_text(f"Kyiv said no {i}.", id=f"d{i}") for i in range(n)]
        report = run_batch(docs, Ask("Who?"), out, client=client)
        client.close()
        ids = []
        for line in out.read_text().splitlines():
            record = json.loads(line)  # raises on a corrupt line
            if "result" in record:
                ids.append(record["id"])
        lost = n - len(set(ids)) + (len(ids) - len(set(ids)))
    print(
        f"3. full disk (3,000-byte file limit, {stopped.stdout.strip() or 'child finished'}): "
        f"{before} lines before resume, {report.done} resumed; "
        f"records lost {lost} of n={n}"
    )


def _writer(db: str, ids: list[int], barrier: Any, errors: Any) -> None:
    docs = [document_from_text(f"Report {i} on grain and ports.", id=f"r{i}") for i in ids]
    try:
        index = SQLiteIndex(db)
        barrier.wait()
        index.add(docs)
        index.close()
    except Exception as e:
        errors.put(repr(e))


def concurrent_index(n: int = 2100) -> None:
    shares = [range(0, 900), range(600, 1500), range(1200, 2100), range(0, 2100, 3)]
    with tempfile.TemporaryDirectory() as tmp:
        db = str(Path(tmp) / "corpus.sqlite")
        ctx = mp.get_context("spawn")
        barrier, errors = ctx.Barrier(len(shares)), ctx.Queue()
        procs = [ctx.Process(target=_writer, args=(db, list(s), barrier, errors)) for s in shares]
        started = time.perf_counter()
        for p in procs:
            p.start()
        for p in procs:
            p.join(timeout=300)
        seconds = time.perf_counter() - started
        index = SQLiteIndex(db)
        stored, distinct = index._db.execute(
            "SELECT COUNT(*), COUNT(DISTINCT doc_id) FROM sentences"
        ).fetchone()
        indexed = len(index)
        index.close()
        failed = sum(p.exitcode != 0 for p in procs) + errors.qsize()
    print(
        f"4. 4 concurrent writers, overlapping inputs: {indexed} of n={n} documents indexed, "
        f"{stored - distinct} stored twice, {failed} writers failed ({seconds:.1f} s)"
    )


def usage_vs_served(n: int) -> None:
    rng = random.Random(3)

    def respond(request: dict[str, Any]) -> Reply:
        roll = rng.random()
        if roll < 0.10:
            return Reply(status=429, body={"error": {"message": "slow down"}})
        if roll < 0.20:
            return Reply(status=503, body={"error": {"message": "busy"}})
        if roll < 0.25:
            return Reply(drop=True)
        return schema_reply(request)

    text = "Ukraine asked for talks. Russia refused the plan. Kyiv wants aid {}."
    docs = [document_from_text(text.format(i), id=f"s{i}") for i in range(n)]
    with (
        tempfile.TemporaryDirectory() as tmp,
        FakeOpenAI([], responder=respond, max_requests=20 * n) as server,
    ):
        client = _client(server, max_retries=1)
        report = run_batch(docs, Stances(), Path(tmp) / "o.jsonl", client=client, concurrency=4)
        served = len(server.requests)
        client.close()
    print(
        f"5. stances batch n={n} docs with 20% 429/503 and 5% drops: usage {report.usage.calls} "
        f"calls, server served {served} ({report.done} done, {report.failed} failed)"
    )


def trickle(calls: int = 5) -> None:
    slow = Reply(body=completion("slow"), trickle=0.1)
    worst = 0.0
    with FakeOpenAI([slow] * (3 * calls)) as server:
        client = _client(server, timeout=2.0, deadline=3.0, max_retries=2)
        for _ in range(calls):
            started = time.monotonic()
            with contextlib.suppress(LLMError):
                client.chat([{"role": "user", "content": "hi"}], max_tokens=5)
            worst = max(worst, time.monotonic() - started)
        client.close()
    print(
        f"6. trickling server (1 byte / 0.1 s), timeout 2 s, deadline 3 s: "
        f"worst call {worst:.2f} s (n={calls} calls)"
    )


def punctuation_runs(sizes: tuple[int, ...] = (50_000, 200_000, 800_000)) -> None:
    timings = []
    for n in sizes:
        for tail in (" Then more.", "x then more."):
            started = time.perf_counter()
            split_sentences("." * n + tail)
            timings.append(f"{n:,} {tail[:1]!r}: {time.perf_counter() - started:.3f} s")
    print("7. a run of full stops split into sentences: " + "; ".join(timings))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=float, nargs="+", default=[0.1, 1, 2, 8])
    parser.add_argument("--docs", type=int, default=60)
    args = parser.parse_args()
    budget()
    ask_scaling(args.sizes)
    full_disk()
    concurrent_index()
    usage_vs_served(args.docs)
    trickle()
    punctuation_runs()


if __name__ == "__main__":
    main()
