"""Fault benchmark: a resumable batch under a hostile endpoint and repeated SIGKILLs.

A loopback OpenAI-compatible server runs in its own process on 127.0.0.1 (bounded: at
most 30 requests per document, stopped at the end). Each request fails with HTTP
429/500/502/503/504 with probability 0.20 and has its connection dropped with
probability 0.05; the others answer after 50-150 ms with what the prompt's first
sentence says (``revision R for item I``), so every result names the document version
it was made from.

``newsqa batch`` (the CLI, with its response cache) runs over 200 documents and is
SIGKILLed at a random moment 10 times, each time resumed on the same output; after the
fifth kill 20 documents are edited (revision 2). A final run completes the batch.
Then, per document, against its final content:

- lost: no result line made from the final content;
- duplicated: more than one result line made from the final content;
- stale: the document's last result line (what a reader taking the last line per id
  sees) was made from an older content;
- requests: HTTP requests the server received, and of those answered with 200.

Then two runs over the same documents, each on a fresh output, with the storage under
the response cache failing (the cache is an optimisation: the batch must go on without
it, warning once):

- corrupt cache page: every page of the cache file after the first (its schema) is
  overwritten, so each lookup finds "database disk image is malformed";
- full disk under the cache: the run may not grow any file past 256 KB
  (``RLIMIT_FSIZE``), so the cache's WAL fills after a few dozen replies while the
  output (about 0.1 MB) fits, as on a disk that fills up mid-run.

Each is resumed like the kill phase (at most three runs, until one exits 0: a document
can fail all five tries of its request at these fault rates) and reports its exit
statuses, lost and duplicated results, and the warnings naming the cache file (one per
run that meets the fault).

Then hostile inputs and storage, on the same server (its faults included):

- nested JSON line: the documents as JSONL records with a line of 100,000 ``[`` in the
  middle; the batch must name that ``file:line``, run every other record and show no
  traceback;
- late NUL bytes: the folder plus a text file whose NUL byte comes after its first 64 KB;
  it must be named and never sent, every other document run;
- read-only corpus: the documents indexed, the corpus folder made immutable
  (``chattr +i``, which stops root too, as a read-only mount does); ``ask --db`` must
  answer from it, and ``index`` into it exit 2 saying it is read-only.

Each reports its exit status, lost results (documents without a result after at most
three runs) and whether a traceback showed.

Usage: python benchmarks/faults.py [--docs 200] [--kills 10] [--seed 15]
"""

from __future__ import annotations

import argparse
import json
import multiprocessing as mp
import os
import random
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.support.fake_openai import FakeOpenAI, Reply  # noqa: E402
from tests.support.storage import LIMITED_FILES, corrupt_pages  # noqa: E402

ERROR_STATUSES = (429, 500, 502, 503, 504)
QUESTION = "Which revision and item did Kyiv name?"
_SENTENCE = re.compile(r"\[(\d+)\] Kyiv named revision (\d+) for item (\d+)\.")


def _serve(seed: int, limit: int, ready: Any, stop: Any, counts: Any) -> None:
    """The server process: answers until ``stop`` is set, counting what it did."""
    rng = random.Random(seed)
    sys.stderr = open(os.devnull, "w")  # noqa: SIM115  # the dropped connections' tracebacks

    def respond(request: dict[str, Any]) -> Reply:
        draw = rng.random()
        if draw < 0.20:
            counts[1] += 1
            status = rng.choice(ERROR_STATUSES)
            headers = {"retry-after-ms": "20"} if status == 429 else {}
            return Reply(status=status, body={"error": {"message": "injected"}}, headers=headers)
        if draw < 0.25:
            counts[2] += 1
            return Reply(drop=True)
        counts[0] += 1
        match = _SENTENCE.search(request["messages"][-1]["content"])
        assert match is not None, "the prompt lost its first sentence"
        number, revision, item = match.groups()
        answer = {"sentences": [int(number)], "answer": f"revision {revision} for item {item}"}
        return Reply.json(answer, delay=rng.uniform(0.05, 0.15))

    with FakeOpenAI([], responder=respond, max_requests=limit) as server:
        ready.send(server.base_url)
        stop.wait()


def _write_docs(folder: Path, items: range, revision: int) -> None:
    for i in items:
        (folder / f"doc{i:03d}.txt").write_text(
            f"Kyiv named revision {revision} for item {i}. Moscow said nothing new. "
            f"Talks on item {i} go on.",
            encoding="utf-8",
        )


def _batch(
    folder: Path,
    out: Path,
    base_url: str,
    cache: Path,
    *,
    file_limit: int | None = None,
    stderr: Any = None,
) -> subprocess.Popen[bytes]:
    command = ["-m", "newsqa.cli"]
    if file_limit is not None:
        command = ["-c", LIMITED_FILES, str(file_limit)]
    args = [
        sys.executable,
        *command,
        "batch",
        str(folder),
        "-o",
        str(out),
        "--task",
        "ask",
        "-Q",
        QUESTION,
        "--base-url",
        base_url,
        "--model",
        "fake",
        "--concurrency",
        "4",
        "-q",
    ]
    env = {**os.environ, "NEWSQA_CACHE_DIR": str(cache), "OPENAI_API_KEY": "sk-bench"}
    return subprocess.Popen(args, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=stderr)


def _storage_fault(
    name: str, folder: Path, out: Path, base_url: str, cache: Path, file_limit: int | None = None
) -> str:
    """Runs on a fresh output whose cache storage fails, resumed (as after the kills)
    until one exits 0 or three have run: their exit statuses, lost and duplicated
    results, the warnings naming the cache file, and whether a traceback showed."""
    statuses: list[int] = []
    warnings = 0
    traceback = False
    while len(statuses) < 3 and (not statuses or statuses[-1] != 0):
        run = _batch(folder, out, base_url, cache, file_limit=file_limit, stderr=subprocess.PIPE)
        _, err = run.communicate()
        text = err.decode(errors="replace")
        statuses.append(run.returncode)
        warnings += sum(1 for line in text.splitlines() if str(cache / "responses.sqlite") in line)
        traceback = traceback or "Traceback" in text
    figures = _tally(folder, out, len(list(folder.iterdir())))
    return (
        f"{name}: exit statuses {statuses}, lost {figures['lost']}, duplicated "
        f"{figures['duplicated']}, warnings naming the cache {warnings}, traceback {traceback}"
    )


def _newsqa(args: list[str], cache: Path) -> subprocess.CompletedProcess[str]:
    """``newsqa ARGS`` with the benchmark's cache and key, its output captured."""
    env = {**os.environ, "NEWSQA_CACHE_DIR": str(cache), "OPENAI_API_KEY": "sk-bench"}
    command = [sys.executable, "-m", "newsqa.cli", *args]
    return subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True)


def _hostile_batch(
    name: str, inputs: Path, out: Path, base_url: str, cache: Path, expected: set[str]
) -> str:
    """Up to three runs over ``inputs`` (documents failed by the server run again): the
    last exit status, ``expected`` ids left without a result, the inputs named as
    skipped, and whether a traceback showed."""
    traceback, skipped, done = False, [], set()
    for _ in range(3):
        run = _batch(inputs, out, base_url, cache, stderr=subprocess.PIPE)
        err = run.communicate()[1].decode(errors="replace")
        traceback |= "Traceback" in err
        skipped = [line for line in err.splitlines() if line.startswith("newsqa: skipped")]
        for line in out.read_text(encoding="utf-8").splitlines():
            record = json.loads(line)
            if "result" in record:
                done.add(record["id"])
        if expected <= done:
            break
    return (
        f"{name}: exit {run.returncode}, lost {len(expected - done)}, "
        f"named {skipped}, traceback {traceback}"
    )


def _hostile(tmp: Path, folder: Path, base_url: str, cache: Path) -> list[str]:
    """The hostile input and storage cases (see the module's docstring)."""
    docs = sorted(folder.glob("doc*.txt"))
    records = tmp / "records.jsonl"
    with records.open("w", encoding="utf-8") as fh:
        for i, path in enumerate(docs):
            if i == len(docs) // 2:
                fh.write("[" * 100_000 + "\n")
            fh.write(json.dumps({"id": path.stem, "text": path.read_text()}) + "\n")
    ids = {path.stem for path in docs}
    lines = [
        _hostile_batch("nested JSON line", records, tmp / "nested.jsonl", base_url, cache, ids)
    ]
    late = tmp / "late"
    shutil.copytree(folder, late)
    (late / "zz_late.txt").write_text(
        "Kyiv named revision 9 for item 999. " + "Talks go on. " * 6000 + "\x00",
        encoding="utf-8",
    )
    lines.append(_hostile_batch("late NUL bytes", late, tmp / "late.jsonl", base_url, cache, ids))
    corpus = tmp / "ro" / "corpus.sqlite"
    indexed = _newsqa(["index", str(folder), "--db", str(corpus), "-q"], cache)
    frozen = [*corpus.parent.iterdir(), corpus.parent]
    subprocess.run(["chattr", "+i", *map(str, frozen)], check=True)
    try:
        endpoint = ["--base-url", base_url, "--model", "fake", "--json", "-q"]
        asked = _newsqa(["ask", "-Q", QUESTION, "--db", str(corpus), *endpoint], cache)
        answer = json.loads(asked.stdout or "{}").get("answer")
        again = _newsqa(["index", str(folder), "--db", str(corpus), "-q"], cache)
    finally:
        subprocess.run(["chattr", "-i", *map(str, frozen)], check=True)
    lines.append(
        f"read-only corpus: index exit {indexed.returncode}; ask --db exit {asked.returncode}, "
        f"answer {answer!r}, lost {int(answer is None)}; index into it exit {again.returncode}: "
        f"{again.stderr.strip()!r}; traceback {'Traceback' in asked.stderr + again.stderr}"
    )
    return lines


def _tally(folder: Path, out: Path, n: int) -> dict[str, int]:
    revisions = {
        f"doc{i:03d}": (folder / f"doc{i:03d}.txt").read_text().split()[3] for i in range(n)
    }
    made: dict[str, list[str]] = {doc: [] for doc in revisions}
    torn = 0
    for line in out.read_text(encoding="utf-8", errors="replace").splitlines():
        try:
            record = json.loads(line)
        except json.JSONDecodeError:
            torn += 1
            continue
        if "result" in record:
            made[record["id"]].append(record["result"]["answer"].split()[1])
    return {
        "lost": sum(1 for d, r in made.items() if revisions[d] not in r),
        "duplicated": sum(1 for d, r in made.items() if r.count(revisions[d]) > 1),
        "stale": sum(1 for d, r in made.items() if r and r[-1] != revisions[d]),
        "torn lines": torn,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--docs", type=int, default=200)
    parser.add_argument("--kills", type=int, default=10)
    parser.add_argument("--seed", type=int, default=15)
    args = parser.parse_args()
    rng = random.Random(args.seed)
    counts = mp.Array("i", 3)  # answered, 429/5xx, dropped
    receive, send = mp.Pipe(duplex=False)
    stop = mp.Event()
    server = mp.Process(
        target=_serve, args=(args.seed, 30 * args.docs, send, stop, counts), daemon=True
    )
    server.start()
    base_url = receive.recv()
    started = time.monotonic()
    with tempfile.TemporaryDirectory() as tmp:
        folder, out, cache = Path(tmp) / "in", Path(tmp) / "out.jsonl", Path(tmp) / "cache"
        folder.mkdir()
        _write_docs(folder, range(args.docs), revision=1)
        edited = 20
        finished_early = 0
        for kill in range(args.kills):
            if kill == args.kills // 2:
                _write_docs(folder, range(0, args.docs, args.docs // edited), revision=2)
            run = _batch(folder, out, base_url, cache)
            time.sleep(rng.uniform(1.0, 4.0))  # the CLI starts in about 0.6 s; a pass takes 6
            if run.poll() is None:
                run.send_signal(signal.SIGKILL)
            else:
                finished_early += 1
            run.wait()
        final_runs = 0
        while final_runs < 3:
            final_runs += 1
            if _batch(folder, out, base_url, cache).wait() == 0:
                break
        figures = _tally(folder, out, args.docs)
        answered, failed, dropped = counts[:]  # the storage runs below are not counted
        cache.joinpath("responses.sqlite-wal").unlink(missing_ok=True)
        corrupt_pages(cache / "responses.sqlite")
        storage = [
            _storage_fault("corrupt cache page", folder, Path(tmp) / "out2.jsonl", base_url, cache),
            _storage_fault(
                "full disk under the cache",
                folder,
                Path(tmp) / "out3.jsonl",
                base_url,
                Path(tmp) / "cache3",
                file_limit=256 * 1024,
            ),
        ]
        hostile = _hostile(Path(tmp), folder, base_url, Path(tmp) / "cache4")
    stop.set()
    server.join(timeout=10)
    requests = answered + failed + dropped
    print(
        f"{args.docs} documents ({edited} edited after kill {args.kills // 2}), "
        f"{args.kills} SIGKILLs ({finished_early} runs had finished before theirs), "
        f"{final_runs} final run(s), {time.monotonic() - started:.0f} s"
    )
    print(", ".join(f"{k}: {v}" for k, v in figures.items()))
    print(
        f"requests: {requests} ({requests / args.docs:.2f} per document; "
        f"{requests / (args.docs + edited):.2f} per document version): {answered} answered, "
        f"{failed} 429/5xx, {dropped} dropped"
    )
    for line in storage:
        print(line)
    print("\n".join(hostile))


if __name__ == "__main__":
    main()
