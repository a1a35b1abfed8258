"""Start-up time of the ``newsqa`` command: ``--help`` and ``--version`` against a bare
interpreter and a full import of the API (what every real command loads).

Each is a fresh process running what the ``newsqa`` console script runs
(``from newsqa.cli import main; sys.exit(main())``), timed from spawn to exit, ``--runs``
times after one warm-up run (so the files are in the page cache); the median, the fastest
and the slowest are printed. Run it on an idle machine: start-up time is CPU-bound.

Usage: python benchmarks/cli_startup.py [--runs 20]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

CASES = {
    "python -c pass (the interpreter alone)": "pass",
    "newsqa --help": "import sys; from newsqa.cli import main; sys.argv[1:] = ['--help']; main()",
    "newsqa --version": (
        "import sys; from newsqa.cli import main; sys.argv[1:] = ['--version']; main()"
    ),
    "import newsqa; newsqa.connect (what a command loads)": "import newsqa; newsqa.connect",
}


def _time(code: str, env: dict[str, str]) -> float:
    started = time.perf_counter()
    subprocess.run(
        [sys.executable, "-c", code], env=env, cwd=ROOT, stdout=subprocess.DEVNULL, check=False
    )
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=20)
    args = parser.parse_args()
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    print(f"{'case':<55} {'median':>8} {'min':>8} {'max':>8}   (n={args.runs}, seconds)")
    for name, code in CASES.items():
        _time(code, env)  # warm-up
        times = [_time(code, env) for _ in range(args.runs)]
        print(f"{name:<55} {statistics.median(times):8.3f} {min(times):8.3f} {max(times):8.3f}")


if __name__ == "__main__":
    main()
