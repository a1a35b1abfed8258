"""Batch example: summarize every article of a folder (default: seeds/) into JSONL.

Run: python examples/batch_summaries.py [INPUT_FOLDER_OR_JSONL] [-o OUT.jsonl]
Re-running skips articles already summarized; Ctrl-C loses no finished article.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import newsqa

ROOT = Path(__file__).resolve().parent.parent


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("input", nargs="?", default=str(ROOT / "seeds"))
    parser.add_argument("-o", "--output", default="summaries.jsonl")
    args = parser.parse_args()
    out = Path(args.output)
    with newsqa.connect() as client:
        report = newsqa.batch(
            args.input,
            newsqa.Summarize(),
            out,
            client=client,
            on_done=lambda doc_id, ok: print(("done " if ok else "FAILED ") + doc_id),
        )
    print(
        f"{report.done} done, {report.failed} failed, {report.skipped} skipped; "
        f"{report.usage.calls} calls, {report.usage.total_tokens} tokens"
    )
    for line in out.read_text(encoding="utf-8").splitlines():
        record = json.loads(line)
        if "result" in record:
            print(f"- {record['id']}: {record['result']['headline']}")


if __name__ == "__main__":
    main()
