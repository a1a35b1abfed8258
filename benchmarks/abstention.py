"""Answer or abstain (issue 14): RealTime QA dev questions asked over the articles that
hold the answer and over the articles that do not, newsqa vs a raw baseline.

    python -m benchmarks.abstention                      # 60 questions, every condition
    python -m benchmarks.abstention --n 5 --cache /tmp/a.sqlite
    python -m benchmarks.abstention --score              # figures from the last run's rows
    python -m benchmarks.abstention --sheet sheet.jsonl  # the sheet the labels came from

Items: RealTime QA dev questions (``benchmarks.quality.data``, same seed) that have at
least one retrieved article containing the gold answer string and at least one that
does not (``contains_answer_string``), distinct choices, and a wording that also works
without options (no "which of the following", no "not"). Every question is asked in
four conditions, the same items in each (paired):

- ``answer/choice``: its answer-bearing articles, multiple choice → must answer right;
- ``answer/free``: the same articles, free text → must answer (gold = the right
  option's text, matched word by word, see :func:`matches`);
- ``none/free``: only its articles WITHOUT the answer string, free text → should abstain;
- ``none/choice``: the same articles, multiple choice → should not pick an option.

newsqa is ``newsqa.ask`` (``choices=`` for multiple choice) with default settings except
``context_tokens=--budget``; the baseline is one stuffed prompt of the articles' leads
within the same ``--budget`` tokens, its multiple-choice letter constrained by the
grammar (it cannot abstain) and its free-text reply ``{"answer": text or null}``. Both
run on the same model, client and response cache. Figures: every share with n and a
95% Wilson interval, paired McNemar tests on the same items, seconds per question.
"Answer-bearing" means only that an article holds the gold option's string; whether
it states the answer to the question (the same event) is a reader's call, made blind to
every system's output on the sheet ``--sheet`` writes and kept in
``benchmarks/labels/abstention_stated.jsonl`` (question id, stated or not, the sentence).
With those labels each answer-bearing condition is also scored on the questions whose
text states the answer and on the others.
Writes benchmarks/results/abstention.json and abstention.jsonl and prints a table.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import random
import re
import sys
import time
from pathlib import Path
from typing import Any

from tqdm import tqdm

import newsqa
from benchmarks.quality import baseline, data
from benchmarks.quality.metrics import paired, proportion
from benchmarks.quality.report import table
from newsqa import Document, LLMClient, Settings
from newsqa.grounding import Passage, states, topic_share
from newsqa.llm.cache import ResponseCache

RESULTS = Path(__file__).resolve().parent / "results"
CONDITIONS = ("answer/choice", "answer/free", "none/free", "none/choice")
SYSTEMS = ("newsqa", "baseline")
_OPEN_UNFIT = re.compile(r"\b(following|these|not|n't)\b", re.IGNORECASE)
_ARTICLES = {"a", "an", "the"}
STATED = Path(__file__).resolve().parent / "labels" / "abstention_stated.jsonl"
STATES, DOES_NOT = "text states it", "text does not"


def items(n: int) -> list[data.QAItem]:
    """``n`` questions (seeded sample) with answer-bearing and other articles both."""
    pool = [
        item
        for item in data._realtimeqa_items()
        if item.gold_docs
        and len(item.gold_docs) < len(item.docs)
        and len(set(item.choices)) == len(item.choices)
        and not _OPEN_UNFIT.search(item.question)
    ]
    return random.Random(data.SEED).sample(pool, min(n, len(pool)))


def _tokens(text: str) -> set[str]:
    return {
        w for w in re.findall(r"[a-z0-9]+", text.lower().replace(",", "")) if w not in _ARTICLES
    }


def matches(answer: str | None, gold: str) -> bool:
    """A free-text answer is right when it holds every word of the gold option ("$35 a
    month" for "$35") or is made of the gold option's words ("Nolan" for "Christopher
    Nolan"); case, commas in numbers and articles are ignored."""
    if not answer:
        return False
    said, wanted = _tokens(answer), _tokens(gold)
    return bool(said and wanted) and (wanted <= said or said <= wanted)


def _docs(item: data.QAItem, condition: str) -> list[Document]:
    bearing = condition.startswith("answer/")
    return [d for d in item.docs if (d.id in item.gold_docs) == bearing]


def _ours(item: data.QAItem, condition: str, client: LLMClient) -> dict[str, Any]:
    choices = item.choices if condition.endswith("/choice") else None
    result = newsqa.ask(
        _docs(item, condition), item.question, choices=choices, client=client, as_of=item.date
    )
    return {
        "answer": result.answer,
        "choice": result.choice,
        "abstained": not result.answerable,
        "cited_docs": sorted({c.doc for c in result.citations}),
        "citations": [c.text for c in result.citations],
        "calls": result.usage.calls,
    }


def _base(item: data.QAItem, condition: str, client: LLMClient, budget: int) -> dict[str, Any]:
    docs = _docs(item, condition)
    if condition.endswith("/choice"):
        index, usage = baseline.qa_letter(client, docs, item.question, item.choices, budget)
        choice = None if index < 0 else index
        return {
            "answer": None if choice is None else item.choices[choice],
            "choice": choice,
            "abstained": choice is None,
            "calls": usage.calls,
        }
    answer, usage = baseline.qa_open(client, docs, item.question, budget)
    return {"answer": answer, "choice": None, "abstained": answer is None, "calls": usage.calls}


def _right(row: dict[str, Any], pred: dict[str, Any]) -> bool:
    if pred.get("abstained", True):
        return False
    if row["condition"].endswith("/choice"):
        return pred.get("choice") in row["gold"]
    return matches(pred.get("answer"), row["gold_text"])


def stated_labels(path: Path = STATED) -> dict[str, bool]:
    """Question id -> whether its answer-bearing articles state the answer to the
    question as asked (``benchmarks/labels/abstention_stated.jsonl``; see :func:`sheet`).
    Empty when the file is missing."""
    if not path.is_file():
        return {}
    return {r["id"]: bool(r["stated"]) for r in map(json.loads, path.read_text().splitlines())}


def sheet(n: int) -> list[dict[str, Any]]:
    """The labelling sheet behind :data:`STATED`: per question, the sentences of its
    answer-bearing articles that hold the gold option (up to 12, most question-like
    first, each with the sentences before and after it, its article's title and date).
    A reader who has not seen any system's output marks whether one of them states the
    answer to the question as asked (same event; paraphrase allowed)."""
    out = []
    for item in items(n):
        gold = item.choices[min(item.gold)]
        found: list[tuple[float, dict[str, Any]]] = []
        for doc in _docs(item, "answer/choice"):
            units = Passage.of([doc]).units
            for i, u in enumerate(units):
                text = u.sentence.text
                if gold.lower() in text.lower() or states(gold, [text], min_share=0.75):
                    near = [
                        units[j].sentence.text if 0 <= j < len(units) else ""
                        for j in (i - 1, i + 1)
                    ]
                    found.append(
                        (
                            topic_share(item.question, [text], names_suffice=True),
                            {
                                "doc": doc.id,
                                "title": doc.title,
                                "date": str(doc.date),
                                "n": u.number,
                                "prev": near[0],
                                "sentence": text,
                                "next": near[1],
                            },
                        )
                    )
        found.sort(key=lambda f: -f[0])
        out.append(
            {
                "id": item.id,
                "question": item.question,
                "choices": item.choices,
                "gold": gold,
                "candidates": [c for _, c in found[:12]],
                "n_candidates": len(found),
            }
        )
    return out


def _figures(condition: str, mine: list[dict[str, Any]]) -> dict[str, Any]:
    res: dict[str, Any] = {"n": len(mine)}
    flags: dict[str, dict[str, list[bool]]] = {}
    for system in SYSTEMS:
        preds = [r.get(system) or {"abstained": True} for r in mine]
        right = [_right(r, p) for r, p in zip(mine, preds, strict=True)]
        abstained = [bool(p.get("abstained", True)) for p in preds]
        fig: dict[str, Any] = {}
        if condition.startswith("answer/"):
            fig["accuracy"] = proportion(right)
            fig["false_abstention"] = proportion(abstained)
            fig["wrong"] = proportion(
                [not a and not ok for a, ok in zip(abstained, right, strict=True)]
            )
            if system == "newsqa":
                fig["citation_in_gold_article"] = proportion(
                    [
                        bool(set(p.get("cited_docs", [])) & set(r["gold_docs"]))
                        for r, p, a in zip(mine, preds, abstained, strict=True)
                        if not a
                    ]
                )
            flags[system] = {"right": right}
        else:
            fig["abstention"] = proportion(abstained)
            fig["answered_gold_anyway"] = proportion(right)
            fig["wrong_answer"] = proportion(
                [not a and not ok for a, ok in zip(abstained, right, strict=True)]
            )
            flags[system] = {"abstained": abstained}
        secs = [
            r[f"{system}_s"]
            for r in mine
            if r.get(f"{system}_s") is not None and (r.get(system) or {}).get("calls")
        ]
        fig["s_per_question"] = round(sum(secs) / len(secs), 1) if secs else None
        fig["calls"] = sum((r.get(system) or {}).get("calls", 0) for r in mine)
        res[system] = fig
    key = "right" if condition.startswith("answer/") else "abstained"
    p = paired(flags["newsqa"][key], flags["baseline"][key])
    res["paired"] = {
        "metric": key,
        "only_newsqa": p["only_a"],
        "only_baseline": p["only_b"],
        "mcnemar_p": p["mcnemar_p"],
    }
    return res


def score(rows: list[dict[str, Any]], stated: dict[str, bool] | None = None) -> dict[str, Any]:
    """Figures per condition and system, and paired tests, from the per-item rows.

    With ``stated`` labels (question id -> do its answer-bearing articles state the
    answer), each answer-bearing condition is also scored on the two halves:
    ``"<condition> | text states it"`` and ``"<condition> | text does not"``."""
    out: dict[str, Any] = {}
    for condition in CONDITIONS:
        mine = [r for r in rows if r["condition"] == condition]
        if not mine:
            continue
        out[condition] = _figures(condition, mine)
        if stated and condition.startswith("answer/"):
            for flag, label in ((True, STATES), (False, DOES_NOT)):
                half = [r for r in mine if stated.get(r["id"]) is flag]
                if half:
                    out[f"{condition} | {label}"] = _figures(condition, half)
    return out


def report(figures: dict[str, Any]) -> str:
    shown = [c for c in figures if not c.startswith("_")]
    lines = [table({c: figures[c] for c in shown}), ""]
    for c in shown:
        p = figures[c]["paired"]
        lines.append(
            f"{c}: {p['metric']} only newsqa {p['only_newsqa']}, only baseline "
            f"{p['only_baseline']}, McNemar p = {p['mcnemar_p']}"
        )
    return "\n".join(lines)


def _row(item: data.QAItem, condition: str) -> dict[str, Any]:
    return {
        "id": item.id,
        "condition": condition,
        "question": item.question,
        "choices": item.choices,
        "gold": sorted(item.gold),
        "gold_text": item.choices[min(item.gold)],
        "gold_docs": sorted(item.gold_docs),
        "docs": [d.id for d in _docs(item, condition)],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=60, help="questions (seeded sample)")
    parser.add_argument("--budget", type=int, default=1000, help="article tokens read")
    parser.add_argument("--cache", type=Path, default=RESULTS / "abstention-cache.sqlite")
    parser.add_argument("--conditions", default=",".join(CONDITIONS))
    parser.add_argument("--score", action="store_true", help="score the last run's rows only")
    parser.add_argument("--sheet", type=Path, help="write the labelling sheet (JSON lines) here")
    args = parser.parse_args()
    if args.sheet:
        args.sheet.write_text("".join(json.dumps(r) + "\n" for r in sheet(args.n)))
        return
    rows_path, out_path = RESULTS / "abstention.jsonl", RESULTS / "abstention.json"
    if args.score:
        last = [json.loads(line) for line in rows_path.read_text().splitlines() if line]
        print(report(score(last, stated_labels())))
        return
    if not data.DEV.is_dir():
        sys.exit(f"no dev data at {data.DEV}")
    conditions = [c for c in CONDITIONS if c in args.conditions.split(",")]
    RESULTS.mkdir(parents=True, exist_ok=True)
    args.cache.parent.mkdir(parents=True, exist_ok=True)
    client = LLMClient(
        Settings.from_env(context_tokens=args.budget), cache=ResponseCache(args.cache)
    )
    rows: list[dict[str, Any]] = []
    with rows_path.open("w") as fh:
        for item in tqdm(items(args.n), desc="abstention", file=sys.stderr):
            for side in ("answer/", "none/"):
                mine = [c for c in conditions if c.startswith(side)]
                batch = {c: _row(item, c) for c in mine}
                # System by system, so that the baseline's two prompts on one set of
                # articles follow each other and share their prefix in the model's cache.
                for system in SYSTEMS:
                    for condition in mine:
                        row = batch[condition]
                        t = time.perf_counter()
                        try:
                            row[system] = (
                                _ours(item, condition, client)
                                if system == "newsqa"
                                else _base(item, condition, client, args.budget)
                            )
                        except newsqa.NewsQAError as e:
                            row[system] = {"abstained": True, "error": str(e), "calls": 0}
                        row[f"{system}_s"] = round(time.perf_counter() - t, 1)
                for row in batch.values():
                    rows.append(row)
                    fh.write(json.dumps(row, default=str) + "\n")
                fh.flush()
    figures = score(rows, stated_labels())
    figures["_meta"] = {
        "date": dt.date.today().isoformat(),
        "model": client.model,
        "budget_tokens": args.budget,
        "questions": len(rows) // max(1, len(conditions)),
    }
    out_path.write_text(json.dumps(figures, indent=2))
    print(report(figures))
    client.close()


if __name__ == "__main__":
    main()
