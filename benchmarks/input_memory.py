"""Memory benchmark: peak RSS of ``newsqa batch`` and ``newsqa index`` over a large JSONL.

Writes a JSONL of ``--mb`` megabytes (records of about 4 KB: a first sentence naming
the record, then filler sentences) and runs, each in its own process, with the
response cache off:

- ``newsqa index BIG.jsonl --db corpus.sqlite``;
- ``newsqa batch BIG.jsonl -o out.jsonl --task ask`` against a loopback
  OpenAI-compatible server (its own process) that answers each question from the
  prompt's first sentence at once.

Each line prints the command's wall time and its peak resident set size (``wait4``'s
``ru_maxrss``), and checks that every record has its result (batch) or row (index).

Usage: python benchmarks/input_memory.py [--mb 80] [--concurrency 4]
"""

from __future__ import annotations

import argparse
import json
import multiprocessing as mp
import os
import re
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.support.fake_openai import FakeOpenAI, Reply  # noqa: E402

QUESTION = "Which item did Kyiv name?"
_SENTENCE = re.compile(r"\[(\d+)\] Kyiv named item (\d+)\.")
FILLER = "Officials in the region met again on Tuesday to discuss the schedule of the talks. "


def _serve(ready: Any, stop: Any) -> None:
    def respond(request: dict[str, Any]) -> Reply:
        match = _SENTENCE.search(request["messages"][-1]["content"])
        assert match is not None, "the prompt lost its first sentence"
        number, item = match.groups()
        return Reply.json({"sentences": [int(number)], "answer": f"item {item}"})

    with FakeOpenAI([], responder=respond, max_requests=10**7) as server:
        ready.send(server.base_url)
        stop.wait()


def _write(path: Path, megabytes: int) -> int:
    body = FILLER * 48  # about 4 KB
    count = 0
    with path.open("w", encoding="utf-8") as fh:
        while fh.tell() < megabytes * 1_000_000:
            text = f"Kyiv named item {count}. {body}"
            fh.write(json.dumps({"id": f"r{count}", "text": text}) + "\n")
            count += 1
    return count


def _measure(args: list[str], env: dict[str, str]) -> tuple[int, float, float]:
    """Exit status, wall seconds and peak RSS (MB) of ``newsqa ARGS``."""
    started = time.monotonic()
    child = subprocess.Popen(
        [sys.executable, "-m", "newsqa.cli", *args],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    assert child.stderr is not None
    child.stderr.read()  # drained while it runs
    _, status, usage = os.wait4(child.pid, 0)
    child.returncode = os.waitstatus_to_exitcode(status)
    return child.returncode, time.monotonic() - started, usage.ru_maxrss / 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--mb", type=int, default=80)
    parser.add_argument("--concurrency", type=int, default=4)
    args = parser.parse_args()
    receive, send = mp.Pipe(duplex=False)
    stop = mp.Event()
    server = mp.Process(target=_serve, args=(send, stop), daemon=True)
    server.start()
    base_url = receive.recv()
    with tempfile.TemporaryDirectory() as tmp:
        big, out, db = Path(tmp) / "big.jsonl", Path(tmp) / "out.jsonl", Path(tmp) / "c.sqlite"
        count = _write(big, args.mb)
        size = big.stat().st_size / 1e6
        env = {**os.environ, "NEWSQA_CACHE_DIR": str(Path(tmp) / "cache"), "OPENAI_API_KEY": "sk"}
        print(f"{big.name}: {size:.0f} MB, {count} records")
        rc, wall, peak = _measure(["index", str(big), "--db", str(db), "-q"], env)
        with sqlite3.connect(db) as conn:
            rows = conn.execute("SELECT count(*) FROM documents").fetchone()[0]
        conn.close()
        print(f"index: rc {rc}, {wall:.0f} s, peak RSS {peak:.0f} MB, {rows}/{count} stored")
        batch = ["batch", str(big), "-o", str(out), "--task", "ask", "-Q", QUESTION]
        batch += ["--base-url", base_url, "--model", "fake", "--no-cache", "-q"]
        batch += ["--concurrency", str(args.concurrency)]
        rc, wall, peak = _measure(batch, env)
        with out.open(encoding="utf-8") as fh:
            done = sum(1 for line in fh if '"result"' in line)
        print(f"batch: rc {rc}, {wall:.0f} s, peak RSS {peak:.0f} MB, {done}/{count} results")
    stop.set()
    server.join(timeout=10)


if __name__ == "__main__":
    main()
