"""Grounded extraction into a user's Pydantic model (issue 17): newsqa vs a naive baseline.

    python -m benchmarks.extract_fields                       # 60 items, both systems
    python -m benchmarks.extract_fields --n 3 --only baseline # a quick check of one system
    python -m benchmarks.extract_fields --cache /tmp/extract-cache.sqlite --budget 1500

Items: RealTime QA dev questions (``benchmarks.quality.data``, same seed) with one
document each, the first of their articles that contains the gold answer string.
Each item's schema is built at run time: one field ``answer`` of type
``Literal[<the choice texts>] | None`` (default ``None``) described by the question.
newsqa's ``extract`` and the baseline (one user prompt: the article's lead, "Fill
this JSON schema", the schema; strict ``response_format``; lenient parsing) run on the
same items with the same model, client and response cache, and read at most
``--budget`` tokens of the article each.

Figures (each share with n and a 95% Wilson interval): accuracy, abstention, wrong
answers; for newsqa also whether its evidence is verbatim, backs each answer, holds the
words of the answer given and, when right, the gold answer (as one string, or word by
word); a paired McNemar test on accuracy; seconds and tokens per item.
Writes benchmarks/results/extract_fields.json and extract_fields.jsonl (per-item
predictions) and prints a Markdown table. Seconds are averaged over the items that
made at least one model call; a system that made calls on fewer items than the earlier
run of the same items (replies from the cache) keeps that run's timings.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import re
import sys
import time
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, Field, create_model
from tqdm import tqdm

import newsqa
from benchmarks.quality import baseline, data
from benchmarks.quality.metrics import paired, proportion
from benchmarks.quality.report import Timer, table, with_usage
from newsqa import Document, LLMClient, Settings
from newsqa.llm.cache import ResponseCache

RESULTS = Path(__file__).resolve().parent / "results"
SYSTEMS = ("newsqa", "baseline")
_TIMING = (
    "s_per_item",
    "timed_items",
    "calls",
    "prompt_tokens_per_item",
    "completion_tokens_per_item",
)


def answer_model(question: str, choices: list[str]) -> type[BaseModel]:
    """The item's schema: one optional field ``answer`` limited to the choice texts."""
    kind: Any = Literal[tuple(choices)]
    field: Any = (kind | None, Field(None, description=question))
    return create_model("Answer", answer=field)


def holds(sentences: list[str], text: str) -> bool:
    """True when one of ``sentences`` contains ``text`` (case-insensitive)."""
    return any(text.lower() in s.lower() for s in sentences)


def holds_words(sentences: list[str], text: str) -> bool:
    """True when every word of ``text`` is a word of ``sentences`` (case-insensitive,
    any order: "Cleveland Cavaliers" in "CLEVELAND — The Cavaliers matched ...")."""
    wanted = set(re.findall(r"\w+", text.lower()))
    return bool(wanted) and wanted <= set(re.findall(r"\w+", " ".join(sentences).lower()))


def _ours(
    doc: Document, model: type[BaseModel], client: LLMClient
) -> tuple[dict[str, Any], newsqa.Usage]:
    result, usage = with_usage(newsqa.extract)(doc, model, client=client)
    evidence = {
        path: [
            {**e.model_dump(mode="json"), "verbatim": doc.text[e.start : e.end] == e.text}
            for e in spans
        ]
        for path, spans in result.evidence.items()
    }
    return {"answer": getattr(result.value, "answer", None), "evidence": evidence}, usage


def _base(
    doc: Document, model: type[BaseModel], client: LLMClient, budget: int
) -> tuple[dict[str, Any], newsqa.Usage]:
    (value, dropped, raw), usage = baseline.extract(client, doc, model, budget)
    answer = None if value is None else getattr(value, "answer", None)
    return {"answer": answer, "invalid": value is None or bool(dropped), "raw": raw}, usage


def score(rows: list[dict[str, Any]], system: str, timer: Timer | None) -> dict[str, Any]:
    """One system's figures over the rows (a row whose system failed counts as no answer)."""
    preds = [r.get(system) or {} for r in rows]
    answers = [p.get("answer") for p in preds]
    right = [a == r["gold"] for a, r in zip(answers, rows, strict=True)]
    answered = [a is not None for a in answers]
    fig: dict[str, Any] = {
        "accuracy": proportion(right),
        "abstention": proportion([not a for a in answered]),
        "wrong": proportion([a and not ok for a, ok in zip(answered, right, strict=True)]),
        "accuracy_when_answered": proportion(
            [ok for a, ok in zip(answered, right, strict=True) if a]
        ),
        "accuracy_answer_in_lead": proportion(
            [ok for ok, r in zip(right, rows, strict=True) if r["gold_in_lead"]]
        ),
    }
    if system == "newsqa":
        cited = [[e for spans in (p.get("evidence") or {}).values() for e in spans] for p in preds]
        fig["evidence_verbatim"] = proportion([e["verbatim"] for c in cited for e in c])
        fig["answers_with_evidence"] = proportion(
            [bool(c) for c, a in zip(cited, answered, strict=True) if a]
        )
        right_cited = [
            ([e["text"] for e in c], r["gold"])
            for c, r, ok in zip(cited, rows, right, strict=True)
            if ok and c
        ]
        fig["evidence_has_answer_words"] = proportion(
            [
                holds_words([e["text"] for e in c], a)
                for c, a in zip(cited, answers, strict=True)
                if a is not None
            ]
        )
        fig["evidence_holds_gold_when_right"] = proportion([holds(*x) for x in right_cited])
        fig["evidence_has_gold_words_when_right"] = proportion(
            [holds_words(*x) for x in right_cited]
        )
    else:
        fig["invalid_replies"] = proportion([bool(p.get("invalid")) for p in preds if p])
    if timer is not None:
        fig.update(timer.figures(len(rows)))
        n = len(rows)
        fig["completion_tokens_per_item"] = round(timer.usage.completion_tokens / n) if n else None
    return fig


def _keep_earlier_timings(
    figures: dict[str, Any], earlier: dict[str, Any] | None, ids: list[str]
) -> None:
    """A system that made calls on fewer items than the earlier run of the same items
    (most replies came from the cache; tries that failed validation are never cached,
    so they are paid again) keeps that run's timings, marked ``timing_from_earlier_run``."""
    if not earlier or earlier.get("ids") != ids:
        return
    for system in SYSTEMS:
        now, before = figures.get(system), earlier.get(system) or {}
        if now and now.get("timed_items", 0) < before.get("timed_items", 0):
            now.update({k: before[k] for k in _TIMING if k in before})
            now["timing_from_earlier_run"] = True


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=60, help="items sampled")
    parser.add_argument("--cache", type=Path, default=RESULTS / "extract-cache.sqlite")
    parser.add_argument("--budget", type=int, default=1500, help="article tokens read")
    parser.add_argument("--only", choices=["ours", "baseline"], help="run one system")
    args = parser.parse_args()
    if not data.DEV.is_dir():
        sys.exit(f"no dev data at {data.DEV}")
    RESULTS.mkdir(parents=True, exist_ok=True)
    args.cache.parent.mkdir(parents=True, exist_ok=True)
    run = {"newsqa": args.only != "baseline", "baseline": args.only != "ours"}
    items = data.realtimeqa_one_article(args.n)
    client = LLMClient(
        Settings.from_env(context_tokens=args.budget), cache=ResponseCache(args.cache)
    )
    timers = {s: Timer() for s in SYSTEMS if run[s]}
    rows: list[dict[str, Any]] = []
    for item in tqdm(items, desc="extract_fields", file=sys.stderr):
        doc = item.docs[0]
        gold = item.choices[min(item.gold)]
        model = answer_model(item.question, item.choices)
        row: dict[str, Any] = {
            "id": item.id,
            "question": item.question,
            "choices": item.choices,
            "gold": gold,
            "doc": doc.id,
            "doc_tokens": newsqa.count_tokens(doc.text),
            "gold_in_lead": gold.lower() in baseline.lead(doc, args.budget).lower(),
            "gold_in_doc": gold.lower() in doc.text.lower(),
        }
        for system in SYSTEMS:
            if not run[system]:
                continue
            t = time.perf_counter()
            if system == "newsqa":
                row[system] = timers[system].run(_ours, doc, model, client)
            else:
                row[system] = timers[system].run(_base, doc, model, client, args.budget)
            row[f"{system}_s"] = round(time.perf_counter() - t, 1)
        rows.append(row)

    ids = [r["id"] for r in rows]
    figures: dict[str, Any] = {"n": len(rows), "ids": ids}
    for system in SYSTEMS:
        figures[system] = score(rows, system, timers[system]) if run[system] else None
    if all(run.values()):
        right = {s: [(r.get(s) or {}).get("answer") == r["gold"] for r in rows] for s in SYSTEMS}
        p = paired(right["newsqa"], right["baseline"])
        figures["paired_accuracy"] = {
            "only_newsqa": p["only_a"],
            "only_baseline": p["only_b"],
            "mcnemar_p": p["mcnemar_p"],
        }
    out_path = RESULTS / "extract_fields.json"
    earlier = json.loads(out_path.read_text()) if out_path.exists() else None
    _keep_earlier_timings(figures, earlier, ids)
    figures["_meta"] = {
        "date": dt.date.today().isoformat(),
        "model": client.model,
        "budget_tokens": args.budget,
        "only": args.only,
    }
    out_path.write_text(json.dumps(figures, indent=2))
    with (RESULTS / "extract_fields.jsonl").open("w") as fh:
        for r in rows:
            fh.write(json.dumps(r, default=str) + "\n")
    print(table({"extract_fields": figures}))
    if "paired_accuracy" in figures:
        pa = figures["paired_accuracy"]
        print(
            f"\npaired accuracy: right only by newsqa {pa['only_newsqa']}, only by the "
            f"baseline {pa['only_baseline']}, McNemar p = {pa['mcnemar_p']}"
        )
    client.close()


if __name__ == "__main__":
    main()
