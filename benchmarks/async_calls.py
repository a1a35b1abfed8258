"""Async calls in flight: ``asyncio.gather`` of N ``asummarize`` calls against a loopback
server that answers each request after D seconds.

Prints the wall time and the most requests the server was answering at once (one call
per document: each is short enough for one prompt). With every call in flight at once
the wall time is about D; with a pool of W workers it is about ceil(N / W) * D.

Usage: python benchmarks/async_calls.py [--calls 20] [--delay 1.0]
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import newsqa  # noqa: E402
from tests.support.fake_openai import FakeOpenAI, Reply, schema_instance  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--calls", type=int, default=20)
    parser.add_argument("--delay", type=float, default=1.0)
    args = parser.parse_args()

    def answer(request: dict[str, Any]) -> Reply:
        schema = request["response_format"]["json_schema"]["schema"]
        return Reply.json(schema_instance(schema), delay=args.delay)

    docs = [f"Kyiv said no to plan {i}. Moscow said yes to plan {i}." for i in range(args.calls)]
    with FakeOpenAI([], responder=answer, max_requests=args.calls) as server:
        client = newsqa.connect(base_url=server.base_url, model="fake", cache=False)

        async def run_all() -> None:
            await asyncio.gather(*(newsqa.asummarize(doc, client=client) for doc in docs))

        started = time.perf_counter()
        asyncio.run(run_all())
        elapsed = time.perf_counter() - started
        client.close()
        peak = server.peak_in_flight
    print(
        f"{args.calls} asummarize calls, server delay {args.delay:g} s: "
        f"{elapsed:.2f} s wall, at most {peak} in flight"
    )


if __name__ == "__main__":
    main()
