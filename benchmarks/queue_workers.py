"""One batch split across worker processes through the PostgreSQL job queue.

A throwaway PostgreSQL cluster (tests/support/postgres.py) holds the queue; a loopback
endpoint answers every request after a fixed latency (200 ms). Each worker is a
``newsqa worker`` process with the same ``--concurrency``.

1. Throughput: the same ``--docs`` documents (``summarize``, one call each) with 1 worker, then with
   ``--workers`` workers; wall time from the workers' start until every document has a
   result (process start-up included), and the ratio; also from the first result stored
   to the last (start-up left out).
2. Crashes: ``--workers`` workers, one of them SIGKILLed at random every ``--kill-every``
   seconds (``--kills`` times, a new worker started in its place), lease ``--lease`` s:
   documents without a result (lost), ids with more than one line in
   ``newsqa results`` (duplicated), and the endpoint's requests against an
   uninterrupted run's (each worker's start-up probe included).

Usage: python benchmarks/queue_workers.py [--docs 1000] [--workers 4] [--concurrency 4]
"""

from __future__ import annotations

import argparse
import json
import os
import random
import signal
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

import psycopg

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import newsqa  # noqa: E402
from tests.support.fake_openai import FakeOpenAI, Reply, schema_reply  # noqa: E402
from tests.support.postgres import postgres_cluster  # noqa: E402


def _docs(n: int) -> list[newsqa.Document]:
    return [
        newsqa.document_from_text(f"Kyiv said no to plan {i}. Talks go on.", id=f"d{i:05d}")
        for i in range(n)
    ]


def _fresh_db(admin: str, name: str) -> str:
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')
    return admin.replace("/postgres?", f"/{name}?", 1)


def _done(url: str) -> int:
    """Documents with a line (a result or a failure)."""
    with psycopg.connect(url) as conn:
        row = conn.execute("SELECT count(*) FROM newsqa_results").fetchone()
    return int(row[0]) if row else 0


def _span(url: str) -> float:
    """Seconds from the first result stored to the last (workers' start-up left out)."""
    with psycopg.connect(url) as conn:
        row = conn.execute(
            "SELECT extract(epoch FROM max(finished_at) - min(finished_at)) FROM newsqa_results"
        ).fetchone()
    return float(row[0]) if row and row[0] is not None else 0.0


def _worker(url: str, base_url: str, args: argparse.Namespace) -> subprocess.Popen[bytes]:
    command = [sys.executable, "-m", "newsqa.cli", "worker", "--queue", url]
    options = ["--base-url", base_url, "--model", "bench", "--no-cache", "-q"]
    tuning = ["--concurrency", str(args.concurrency), "--lease", str(args.lease)]
    env = {**os.environ, "PYTHONPATH": str(ROOT), "OPENAI_API_KEY": "sk-bench"}
    return subprocess.Popen(
        [*command, *options, *tuning], env=env, stdout=subprocess.DEVNULL, cwd=ROOT
    )


def _run(
    admin: str, name: str, args: argparse.Namespace, workers: int, kills: int = 0
) -> dict[str, float]:
    """Enqueue the documents, run ``workers`` worker processes until every document has
    a result (killing ``kills`` of them on the way), and measure."""
    url = _fresh_db(admin, name)
    docs = _docs(args.docs)
    with FakeOpenAI(
        [], responder=lambda r: _delayed(r, args.latency), max_requests=10**7
    ) as server:
        client = newsqa.connect(base_url=server.base_url, model="bench", cache=False)
        with newsqa.job_queue(url, create=True) as queue:
            queue.enqueue(docs, newsqa.Summarize(), client=client)
        client.close()
        start = time.perf_counter()
        running = [_worker(url, server.base_url, args) for _ in range(workers)]
        rng = random.Random(args.seed)
        killed, next_kill = 0, start + args.kill_every
        try:
            while _done(url) < len(docs):
                time.sleep(0.2)
                if killed < kills and time.perf_counter() >= next_kill:
                    victim = running.pop(rng.randrange(len(running)))
                    victim.send_signal(signal.SIGKILL)
                    victim.wait()
                    running.append(_worker(url, server.base_url, args))
                    killed += 1
                    next_kill += args.kill_every
                if time.perf_counter() - start > args.timeout:
                    raise SystemExit(f"timed out with {_done(url)} of {len(docs)} done")
            seconds = time.perf_counter() - start
        finally:
            for proc in running:
                proc.send_signal(signal.SIGTERM)
            for proc in running:
                proc.wait()
        requests = len(server.requests)
    with tempfile.TemporaryDirectory() as tmp, newsqa.job_queue(url) as queue:
        out = Path(tmp) / "out.jsonl"
        queue.write_results(out)
        lines = [json.loads(line) for line in out.read_text().splitlines()]
        ids = Counter(line["id"] for line in lines)
    return {
        "workers": workers,
        "docs": len(docs),
        "seconds": round(seconds, 2),
        "docs_per_s": round(len(docs) / seconds, 1),
        "first_to_last_s": round(_span(url), 2),
        "requests": requests,
        "starts": workers + killed,
        "kills": killed,
        "failed": sum(1 for line in lines if "error" in line),
        "lost": len(docs) - len(ids),
        "duplicated": sum(1 for n in ids.values() if n > 1),
    }


def _delayed(request: dict[str, object], latency: float) -> Reply:
    """A reply that fills the request's schema, after ``latency`` seconds."""
    return Reply(body=schema_reply(request).body, delay=latency)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--docs", type=int, default=1000)
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--concurrency", type=int, default=4)
    parser.add_argument("--latency", type=float, default=0.2)
    parser.add_argument("--lease", type=float, default=3.0)
    parser.add_argument("--kills", type=int, default=10)
    parser.add_argument("--kill-every", type=float, default=3.0)
    parser.add_argument("--timeout", type=float, default=900.0)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--skip-throughput", action="store_true")
    args = parser.parse_args()
    results: dict[str, object] = {"settings": vars(args)}
    with postgres_cluster() as admin:
        if not args.skip_throughput:
            one = _run(admin, "one", args, 1)
            many = _run(admin, "many", args, args.workers)
            results["throughput"] = {
                "one": one,
                "many": many,
                "ratio": round(one["seconds"] / many["seconds"], 2),
                "ratio_first_to_last": round(one["first_to_last_s"] / many["first_to_last_s"], 2),
            }
            print(json.dumps(results["throughput"]), flush=True)
        calm = _run(admin, "calm", args, args.workers)
        crashes = _run(admin, "crashes", args, args.workers, kills=args.kills)
        results["crashes"] = {
            "uninterrupted": calm,
            "killed": crashes,
            "requests_ratio": round(crashes["requests"] / calm["requests"], 3),
        }
        print(json.dumps(results["crashes"]), flush=True)


if __name__ == "__main__":
    main()
