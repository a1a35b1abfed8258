"""Quality of newsqa vs a naive one-prompt baseline on the dev data, same model.

    python -m benchmarks.quality                  # default samples (~20-30 min embedded)
    python -m benchmarks.quality --only ruw,fnc1  # some datasets
    python -m benchmarks.quality --scale 3        # 3x bigger samples
    python -m benchmarks.quality --only stances   # country positions (all 11 dev articles)

Needs the ``bench`` extra (rouge-score). Model replies are cached in
benchmarks/results/quality-cache.sqlite, so a re-run only pays for changed prompts;
seconds per item are averaged over items that made at least one model call.
Writes benchmarks/results/quality.json (+ one JSONL of predictions per dataset)
and prints a Markdown table.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import statistics
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from tqdm import tqdm

import newsqa
from benchmarks.quality import baseline, country_stances, data
from benchmarks.quality.metrics import FNC_LABELS, RUW_LABELS, macro_f1, share
from benchmarks.quality.report import Timer, table
from benchmarks.quality.report import with_usage as _task
from newsqa import LLMClient, Settings, Usage
from newsqa.documents import split_sentences
from newsqa.grounding import supported_by
from newsqa.llm.cache import ResponseCache

RESULTS = Path(__file__).resolve().parents[1] / "results"
SIZES = {"realtimeqa": 8, "ruw": 30, "fnc1": 9, "frank": 5}
QA_BUDGET = 1000
FNC_BUDGET = 900


def realtimeqa(items: list[data.QAItem], qa_client: LLMClient) -> tuple[dict[str, Any], list[Any]]:
    ours, base = Timer(), Timer()
    rows = []
    for item in tqdm(items, desc="realtimeqa", file=sys.stderr):
        a = ours.run(
            _task(newsqa.ask), item.docs, item.question, choices=item.choices, client=qa_client
        )
        b = base.run(
            _triple, baseline.qa, qa_client, item.docs, item.question, item.choices, QA_BUDGET
        )
        rows.append(
            {
                "id": item.id,
                "gold": sorted(item.gold),
                "gold_docs": sorted(item.gold_docs),
                "newsqa": None
                if a is None
                else {"choice": a.choice, "cited": sorted({c.doc for c in a.citations})},
                "baseline": None
                if b is None
                else {"choice": b[0], "cited": [b[1]] if b[1] else []},
            }
        )

    def figures(system: str, timer: Timer) -> dict[str, Any]:
        preds = [r[system] for r in rows]
        answered = [
            (r, p) for r, p in zip(rows, preds, strict=True) if p and p["choice"] is not None
        ]
        return {
            "accuracy": share(
                [bool(p and p["choice"] in r["gold"]) for r, p in zip(rows, preds, strict=True)]
            ),
            "abstention": share([not (p and p["choice"] is not None) for p in preds]),
            "citation_in_gold_article": share(
                [bool(set(p["cited"]) & set(r["gold_docs"])) for r, p in answered]
            ),
            **timer.figures(len(rows)),
        }

    return {
        "n": len(rows),
        "with_gold_article": sum(1 for r in rows if r["gold_docs"]),
        "newsqa": figures("newsqa", ours),
        "baseline": figures("baseline", base),
    }, rows


def ruw(items: list[data.StanceItem], client: LLMClient) -> tuple[dict[str, Any], list[Any]]:
    ours, base = Timer(), Timer()
    rows = []
    for item in tqdm(items, desc="ruw", file=sys.stderr):

        def both(item: data.StanceItem) -> tuple[dict[str, str], Usage]:
            results = newsqa.stances_toward(item.text, ["Russia", "Ukraine"], client=client)
            labels = {r.target: RUW_LABELS[r.label] for r in results}
            return labels, sum((r.usage for r in results), Usage())

        a = ours.run(both, item)
        b = base.run(baseline.ruw, client, item.text.text)
        rows.append({"id": item.id, "gold": item.gold, "newsqa": a, "baseline": b})
    labels = ["FAVOR", "AGAINST", "NONE"]

    def figures(system: str, timer: Timer) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for target in ("Russia", "Ukraine"):
            gold = [r["gold"][target] for r in rows]
            pred = [(r[system] or {}).get(target, "NONE") for r in rows]
            out[f"macro_f1_{target.lower()}"] = round(macro_f1(gold, pred, labels), 3)
        return {**out, **timer.figures(len(rows))}

    return {
        "n": len(rows),
        "newsqa": figures("newsqa", ours),
        "baseline": figures("baseline", base),
    }, rows


def fnc1(items: list[data.ClaimItem], client: LLMClient) -> tuple[dict[str, Any], list[Any]]:
    ours, base = Timer(), Timer()
    rows = []
    for item in tqdm(items, desc="fnc1", file=sys.stderr):
        a = ours.run(_task(newsqa.check_claim), item.article, item.headline, client=client)
        b = base.run(baseline.fnc, client, item.headline, item.article, FNC_BUDGET)
        rows.append(
            {
                "id": item.id,
                "gold": item.gold,
                "newsqa": None if a is None else FNC_LABELS[a.label],
                "newsqa_evidence": bool(a and a.evidence),
                "baseline": b,
            }
        )
    labels = ["agree", "disagree", "discuss"]

    def figures(system: str, timer: Timer) -> dict[str, Any]:
        gold = [r["gold"] for r in rows]
        pred = [r[system] or "discuss" for r in rows]
        return {"macro_f1": round(macro_f1(gold, pred, labels), 3), **timer.figures(len(rows))}

    return {
        "n": len(rows),
        "newsqa": figures("newsqa", ours),
        "baseline": figures("baseline", base),
    }, rows


def _grounded(claim: str, evidence: list[str]) -> bool:
    return bool(evidence) and supported_by(claim, evidence, min_share=0.6)


def _best_sentence(claim: str, doc: newsqa.Document) -> list[str]:
    words = set(claim.lower().split())
    best = max(doc.sentences, key=lambda s: len(words & set(s.text.lower().split())))
    return [best.text]


def frank(items: list[data.SummaryItem], client: LLMClient) -> tuple[dict[str, Any], list[Any]]:
    from rouge_score import rouge_scorer  # the `bench` extra

    scorer = rouge_scorer.RougeScorer(["rouge1", "rouge2", "rougeL"], use_stemmer=True)
    ours, base = Timer(), Timer()
    rows = []
    for item in tqdm(items, desc="frank", file=sys.stderr):
        a = ours.run(_task(newsqa.summarize), item.article, client=client)
        b = base.run(baseline.summary, client, item.article, client.settings.context_tokens)
        row: dict[str, Any] = {"id": item.id, "reference": item.reference}
        if a is not None:
            row["newsqa"] = a.summary
            row["newsqa_grounded"] = [
                _grounded(kp.text, [e.text for e in kp.evidence]) for kp in a.key_points
            ]
        if b is not None:
            row["baseline"] = b
            row["baseline_grounded"] = [
                _grounded(s.text, _best_sentence(s.text, item.article)) for s in split_sentences(b)
            ]
        rows.append(row)

    def figures(system: str, timer: Timer) -> dict[str, Any]:
        scores = [scorer.score(r["reference"], r.get(system) or "") for r in rows]
        claims = [g for r in rows for g in r.get(f"{system}_grounded", [])]
        return {
            **{
                m: round(statistics.mean(s[m].fmeasure for s in scores), 3)
                for m in ("rouge1", "rouge2", "rougeL")
            },
            "grounded_claims": round(share(claims) or 0.0, 3),
            **timer.figures(len(rows)),
        }

    return {
        "n": len(rows),
        "newsqa": figures("newsqa", ours),
        "baseline": figures("baseline", base),
    }, rows


def _triple(fn: Callable[..., tuple[Any, Any, Usage]], *args: Any) -> tuple[Any, Usage]:
    first, second, usage = fn(*args)
    return (first, second), usage


_TIMING = ("s_per_item", "timed_items", "calls", "prompt_tokens_per_item")


def _keep_earlier_timings(figures: dict[str, Any], earlier: dict[str, Any] | None) -> None:
    """A system whose replies all came from the cache keeps the timings of the earlier
    run that made the calls (same sample size), marked ``timing_from_earlier_run``."""
    if not earlier or earlier.get("n") != figures["n"]:
        return
    for system in ("newsqa", "baseline"):
        before = earlier.get(system) or {}
        if figures[system]["timed_items"] == 0 and before.get("timed_items"):
            figures[system].update({k: before[k] for k in _TIMING if k in before})
            figures[system]["timing_from_earlier_run"] = True


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--only", default=",".join([*SIZES, "stances"]), help="datasets, comma-separated"
    )
    parser.add_argument("--scale", type=float, default=1.0, help="multiply every sample size")
    parser.add_argument("--split", default="dev", help="split of the country-stance set")
    parser.add_argument("--cache", type=Path, default=RESULTS / "quality-cache.sqlite")
    args = parser.parse_args()
    if not data.DEV.is_dir():
        sys.exit(f"no dev data at {data.DEV}")
    RESULTS.mkdir(parents=True, exist_ok=True)
    sizes = {k: max(1, round(v * args.scale)) for k, v in SIZES.items()}
    cache = ResponseCache(args.cache)
    client = LLMClient(Settings.from_env(), cache=cache)
    qa_client = LLMClient(Settings.from_env(context_tokens=QA_BUDGET), cache=cache)
    runners: dict[str, Callable[[], tuple[dict[str, Any], list[Any]]]] = {
        "realtimeqa": lambda: realtimeqa(data.realtimeqa(sizes["realtimeqa"]), qa_client),
        "ruw": lambda: ruw(data.ruw(sizes["ruw"]), client),
        "fnc1": lambda: fnc1(data.fnc1(sizes["fnc1"]), client),
        "frank": lambda: frank(data.frank(sizes["frank"]), client),
        "stances": lambda: country_stances.run(data.country_stances(args.split), client, Timer),
    }
    out_path = RESULTS / "quality.json"
    results: dict[str, Any] = json.loads(out_path.read_text()) if out_path.exists() else {}
    for name in args.only.split(","):
        figures, rows = runners[name]()
        _keep_earlier_timings(figures, results.get(name))
        results[name] = figures
        with (RESULTS / f"quality-{name}.jsonl").open("w") as fh:
            fh.writelines(json.dumps(r, default=str) + "\n" for r in rows)
        results["_meta"] = {
            "date": dt.date.today().isoformat(),
            "model": client.model,
            "qa_budget_tokens": QA_BUDGET,
            "fnc_budget_tokens": FNC_BUDGET,
        }
        out_path.write_text(json.dumps(results, indent=2))
        print(json.dumps({name: figures}, indent=2), flush=True)
    print(table(results))
    client.close()
    qa_client.close()


if __name__ == "__main__":
    main()
