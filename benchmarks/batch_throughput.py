"""Batch throughput, per-call overhead and the response cache, against loopback servers.

1. 200 documents, ``ask`` at concurrency 16, server latency 200 ms: achieved calls/s as a
   fraction of the ideal 16 / 0.2 s = 80 calls/s; fresh output and cache, ``--repeat``
   times (best and median). 200 documents take 13 rounds of 16, which caps it at 0.96;
   the same 200 bare SDK calls from 16 threads show what the machine allows.
2. Per-call overhead: newsqa's ``ask`` (prompt, schema, validation, grounding) and its bare
   ``LLMClient.chat`` vs a raw ``openai`` SDK call, zero-latency server (ratios).
3. The same batch again with the response cache: model calls made.

Usage: python benchmarks/batch_throughput.py [--docs 200] [--concurrency 16] [--repeat 3]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import openai

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from newsqa import Ask, Settings, document_from_text  # noqa: E402
from newsqa.batch.run import run_batch  # noqa: E402
from newsqa.llm.cache import ResponseCache  # noqa: E402
from newsqa.llm.client import LLMClient  # noqa: E402
from newsqa.tasks.ask import ask  # noqa: E402
from tests.support.fake_openai import FakeOpenAI, Reply  # noqa: E402

ANSWER = {"sentences": [1], "answer": "no"}
QUESTION = "What did Kyiv say?"


def _docs(n: int) -> list:  # type: ignore[type-arg]
    return [
        document_from_text(f"Kyiv said no to plan {i}. Talks go on.", id=f"d{i:04d}")
        for i in range(n)
    ]


def _client(url: str, cache: ResponseCache | None = None) -> LLMClient:
    return LLMClient(
        Settings(base_url=url, api_key="sk-bench", model="bench", max_retries=0), cache=cache
    )


def _serve(args: argparse.Namespace, count: int) -> tuple[subprocess.Popen[str], str]:
    """The scripted server in its own process, as a real endpoint would be."""
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "tests.support.fake_openai",
            "--delay",
            str(args.latency),
            "--count",
            str(count),
        ],
        cwd=ROOT,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert server.stdout is not None
    return server, server.stdout.readline().strip()


def _batch_once(args: argparse.Namespace, docs: list, tmp: Path) -> dict[str, float]:  # type: ignore[type-arg]
    """One batch with a fresh output and cache, then the same batch again from the cache."""
    out = tmp / "out.jsonl"
    cache = ResponseCache(tmp / "cache.sqlite")
    server, url = _serve(args, args.docs)
    try:
        with _client(url, cache) as client:
            t = time.perf_counter()
            report = run_batch(
                docs, Ask(QUESTION), out, client=client, concurrency=args.concurrency
            )
            wall = time.perf_counter() - t
            calls = client.usage.calls
        out.unlink()  # the same batch again from scratch: every answer is cached
        with _client(url, ResponseCache(tmp / "cache.sqlite")) as second:
            again = run_batch(docs, Ask(QUESTION), out, client=second, concurrency=args.concurrency)
            cached_calls = second.usage.calls
    finally:
        server.communicate(input="", timeout=30)
        cache.close()
    return {
        "done": report.done,
        "wall": wall,
        "calls": calls,
        "again_done": again.done,
        "again_calls": cached_calls,
    }


def _raw_sdk_batch(args: argparse.Namespace) -> float:
    """The reference: the same number of bare SDK calls, same threads and server, no
    newsqa at all; its wall time is what this machine allows."""
    server, url = _serve(args, args.docs)
    try:
        with openai.OpenAI(base_url=url, api_key="sk-bench", max_retries=0) as raw:
            messages = [{"role": "user", "content": "x"}]

            def call(_: int) -> None:
                raw.chat.completions.create(
                    model="bench",
                    messages=messages,  # type: ignore[arg-type]
                    max_tokens=50,
                )

            t = time.perf_counter()
            with ThreadPoolExecutor(max_workers=args.concurrency) as pool:
                list(pool.map(call, range(args.docs)))
            return time.perf_counter() - t
    finally:
        server.communicate(input="", timeout=30)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--docs", type=int, default=200)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--latency", type=float, default=0.2)
    parser.add_argument("--calls", type=int, default=300)
    parser.add_argument("--repeat", type=int, default=3, help="cold batches to run")
    args = parser.parse_args()
    docs = _docs(args.docs)
    results: dict[str, object] = {}

    runs, raw_walls = [], []
    for _ in range(args.repeat):  # alternating, so a burst of other load hits both alike
        with tempfile.TemporaryDirectory() as tmp:
            runs.append(_batch_once(args, docs, Path(tmp)))
        raw_walls.append(_raw_sdk_batch(args))
    ideal = args.concurrency / args.latency
    fractions = sorted(r["calls"] / r["wall"] / ideal for r in runs)
    results["batch_docs_done"] = [r["done"] for r in runs]
    results["batch_wall_s"] = [round(r["wall"], 2) for r in runs]
    results["ideal_calls_per_s"] = ideal
    results["fraction_of_ideal_runs"] = [round(r["calls"] / r["wall"] / ideal, 3) for r in runs]
    results["fraction_of_ideal_best"] = round(fractions[-1], 3)
    results["fraction_of_ideal_median"] = round(fractions[len(fractions) // 2], 3)
    raw_fractions = sorted(args.docs / w / ideal for w in raw_walls)
    results["raw_sdk_fraction_runs"] = [round(args.docs / w / ideal, 3) for w in raw_walls]
    results["raw_sdk_fraction_median"] = round(raw_fractions[len(raw_fractions) // 2], 3)
    rounds = -(-args.docs // args.concurrency)
    results["fraction_cap_rounds"] = round(args.docs / (rounds * args.concurrency), 3)
    results["cached_rerun_docs_done"] = [r["again_done"] for r in runs]
    results["cached_rerun_model_calls"] = [r["again_calls"] for r in runs]

    n = args.calls
    with FakeOpenAI([Reply.json(ANSWER)] * (3 * n + 10), max_requests=3 * n + 20) as server:
        raw = openai.OpenAI(base_url=server.base_url, api_key="sk-bench", max_retries=0)
        client = _client(server.base_url)
        messages = [{"role": "user", "content": "x"}]

        def raw_call() -> None:
            raw.chat.completions.create(
                model="bench",
                messages=messages,  # type: ignore[arg-type]
                max_tokens=50,
            )

        def chat_call() -> None:
            client.chat(messages, max_tokens=50)

        counter = iter(range(10**9))

        def ask_call() -> None:
            ask([docs[next(counter) % len(docs)]], QUESTION, client=client)

        calls = {"raw": raw_call, "chat": chat_call, "ask": ask_call}
        for fn in calls.values():  # warm up connections and imports
            fn()
        rounds_per = 5
        times: dict[str, list[float]] = {name: [] for name in calls}
        for _ in range(rounds_per):  # interleaved, so a burst of load hits all three alike
            for name, fn in calls.items():
                t = time.perf_counter()
                for _ in range(n // rounds_per):
                    fn()
                times[name].append((time.perf_counter() - t) / (n // rounds_per))
        raw_s, chat_s, ask_s = (sorted(v)[len(v) // 2] for v in times.values())
        raw.close()
        client.close()
    results["raw_sdk_ms_per_call"] = round(raw_s * 1000, 2)
    results["newsqa_chat_ms_per_call"] = round(chat_s * 1000, 2)
    results["newsqa_ask_ms_per_call"] = round(ask_s * 1000, 2)
    results["chat_overhead_ratio"] = round(chat_s / raw_s, 3)
    results["ask_overhead_ratio"] = round(ask_s / raw_s, 3)
    for key, value in results.items():
        print(f"{key:28} {value}")
    out_dir = ROOT / "benchmarks" / "results"
    out_dir.mkdir(exist_ok=True)
    (out_dir / "batch_throughput.json").write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
