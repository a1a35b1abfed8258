"""How often focused reading keeps the answer, by token budget (no model involved).

For RealTime QA dev questions whose articles contain the gold answer string, the
question (+ its options; ``--free``: the question alone, as a free-text question is
read) is the query, the question's own articles the passage; a
budget "recalls" a question when a sentence holding the gold answer is among the
sentences focused reading keeps. Prints recall with 95% intervals per budget, so
the reading budget is set by measurement.

Usage: python -m benchmarks.focus_recall [--n 200] [--free]
"""

from __future__ import annotations

import argparse

from benchmarks.quality import data
from benchmarks.quality.metrics import wilson
from newsqa.grounding import Passage
from newsqa.grounding.focus import focus

BUDGETS = (300, 500, 750, 1000, 1500, 2000, 3000)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=200, help="questions sampled")
    parser.add_argument("--free", action="store_true", help="query = the question alone")
    args = parser.parse_args()
    items = [i for i in data.realtimeqa(args.n) if i.gold_docs]
    hits = {b: 0 for b in BUDGETS}
    full = 0
    for item in items:
        answers = [item.choices[g].lower() for g in item.gold]
        passage = Passage.of(item.docs)
        full += passage.tokens()
        query = " ".join([item.question, *([] if args.free else item.choices)])
        for budget in BUDGETS:
            kept = focus(passage, query, budget)
            if any(a in u.sentence.text.lower() for u in kept.units for a in answers):
                hits[budget] += 1
    n = len(items)
    print(
        f"n = {n} questions with the answer in their articles; mean passage {full / n:.0f} tokens"
    )
    print("| budget (tokens) | recall of an answer sentence | 95% CI |\n|---|---|---|")
    for budget in BUDGETS:
        lo, hi = wilson(hits[budget], n) or (0.0, 0.0)
        print(f"| {budget} | {hits[budget]}/{n} = {hits[budget] / n:.3f} | [{lo:.2f}, {hi:.2f}] |")


if __name__ == "__main__":
    main()
