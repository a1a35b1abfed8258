"""The stance label step alone, on short passages that state a position plainly.

``benchmarks/data/stance_probe.jsonl`` (``--split dev``, the one the label checks
were tuned on), ``stance_probe_check.jsonl`` (``--split check``, written before it
was first run and kept for checking) and ``stance_probe_fresh.jsonl`` (``--split
fresh``, written before the label rules were last changed, for scoring each rule on
text it was not written against): 60 passages each, written for this project (no
third-party text), 12 per class: a country that supports talks, sets conditions,
opposes them, takes no side, or speaks about something else (``none``: any definite
label is wrong). Each passage is two sentences, the second often about another
party, so the hard part of real news (finding the actor's sentence, reading an
implicit position) is taken away and what is left is the label. newsqa's
``analyze_stances`` is scored on the probed country, beside the model's own label
before the checks (``check_label`` bypassed, same cached replies) and the naive
one-prompt baseline on the same passages, paired.

Usage: python -m benchmarks.stance_probe [--split dev|check|fresh] [--cache PATH] [--out PATH]
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import Counter
from pathlib import Path
from typing import Any
from unittest import mock

import newsqa
from benchmarks.quality import baseline
from benchmarks.quality.country_stances import canonical
from benchmarks.quality.metrics import paired, proportion
from newsqa import LLMClient, Settings, document_from_text
from newsqa.llm.cache import ResponseCache
from newsqa.tasks import stances

DATA = Path(__file__).resolve().parent / "data"
SPLITS = {
    "dev": DATA / "stance_probe.jsonl",
    "check": DATA / "stance_probe_check.jsonl",
    "fresh": DATA / "stance_probe_fresh.jsonl",
}
RESULTS = Path(__file__).resolve().parent / "results"
CLASSES = ("supports", "conditional", "opposes", "neutral", "none")


def items(split: str = "dev") -> list[dict[str, str]]:
    """The probe passages of ``split``: ``id``, ``actor``, ``label`` (one of
    :data:`CLASSES`), ``text``."""
    text = SPLITS[split].read_text("utf-8")
    rows = [json.loads(line) for line in text.splitlines() if line.strip()]
    for row in rows:
        if row["label"] not in CLASSES:
            raise ValueError(f"{row['id']}: unknown label {row['label']!r}")
    return rows


def right(gold: str, got: str) -> bool:
    """Is label ``got`` (``missing`` when no stance was given) right for class ``gold``?
    For ``none`` any label but a definite one is right."""
    return got not in stances.DEFINITE if gold == "none" else got == gold


def _ours(item: dict[str, str], client: LLMClient) -> str:
    doc = document_from_text(item["text"], id=item["id"])
    report = newsqa.analyze_stances(doc, stances.DEFAULT_TOPIC, client=client)
    labels = {canonical(s.actor): s.label for s in report.stances}
    return str(labels.get(item["actor"], "missing"))


def _base(item: dict[str, str], client: LLMClient) -> str:
    doc = document_from_text(item["text"], id=item["id"])
    rows, _ = baseline.stances(client, doc, stances.DEFAULT_TOPIC, client.settings.context_tokens)
    labels = {canonical(country): label for country, label, _ in rows}
    return labels.get(item["actor"], "missing")


def figures(rows: list[dict[str, str]], key: str) -> dict[str, Any]:
    """Right overall and per class (n and 95% intervals), and the confusion counts."""
    flags = [right(r["label"], r[key]) for r in rows]
    out: dict[str, Any] = {"right": proportion(flags)}
    for cls in CLASSES:
        out[cls] = proportion([f for f, r in zip(flags, rows, strict=True) if r["label"] == cls])
    out["confusion"] = dict(sorted(Counter(f"{r['label']}->{r[key]}" for r in rows).items()))
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--split", choices=sorted(SPLITS), default="dev")
    parser.add_argument("--cache", type=Path, default=RESULTS / "stance-probe-cache.sqlite")
    parser.add_argument("--out", type=Path, help="default: results/stance_probe_<split>.json")
    args = parser.parse_args()
    client = LLMClient(Settings.from_env(), cache=ResponseCache(args.cache))
    rows = []
    for item in items(args.split):
        rows.append({**item, "newsqa": _ours(item, client), "baseline": _base(item, client)})
        print(item["id"], rows[-1]["newsqa"], rows[-1]["baseline"], file=sys.stderr, flush=True)
    with mock.patch.object(
        stances, "check_label", lambda label, *_, **__: stances.CheckedLabel(label)
    ):
        for row in rows:  # the same replies, from the cache
            row["unchecked"] = _ours(row, client)
    result = {key: figures(rows, key) for key in ("newsqa", "unchecked", "baseline")}
    hits = {key: [right(r["label"], r[key]) for r in rows] for key in result}
    result["paired_newsqa_baseline"] = paired(hits["newsqa"], hits["baseline"])
    result["paired_newsqa_unchecked"] = paired(hits["newsqa"], hits["unchecked"])
    out = args.out or RESULTS / f"stance_probe_{args.split}.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps({"n": len(rows), **result, "rows": rows}, indent=2))
    print("| class (n) | newsqa | model label, unchecked | baseline |\n|---|---|---|---|")
    for cls in ("right", *CLASSES):
        cells = []
        for key in ("newsqa", "unchecked", "baseline"):
            p = result[key][cls]
            lo, hi = p["ci95"]
            cells.append(f"{p['k']}/{p['n']} = {p['share']:.2f} [{lo:.2f}, {hi:.2f}]")
        print(f"| {cls} ({result['newsqa'][cls]['n']}) | " + " | ".join(cells) + " |")
    print(json.dumps({k: result[k] for k in ("paired_newsqa_baseline", "paired_newsqa_unchecked")}))


if __name__ == "__main__":
    main()
