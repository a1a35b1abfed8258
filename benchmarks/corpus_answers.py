"""Corpus mode vs direct reading on RealTime QA dev: accuracy, tokens and seconds.

Every question's retrieved articles go into ONE corpus. For a seeded sample of
questions, newsqa answers the multiple-choice question twice on the embedded model
(or OPENAI_BASE_URL):

- corpus: ``Corpus.ask(question, choices, until=question_date, k=6)``, retrieving
  from the whole corpus;
- direct: ``newsqa.ask(own_articles, question, choices)``, the question's own articles
  published on or before its date, read focused within the default prompt budget.

Reports accuracy, abstention, prompt tokens and seconds per question and the ratios.
Replies are not cached here (fresh timings).

Usage: python -m benchmarks.corpus_answers [--n 8] [--k 6]
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

import newsqa
from benchmarks.corpus_retrieval import DATA, _date, load
from newsqa import Corpus, LLMClient, NewsQAError, Settings

RESULTS = Path(__file__).resolve().parent / "results"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=8, help="questions (seeded sample)")
    parser.add_argument("--k", type=int, default=6, help="passages retrieved")
    args = parser.parse_args()
    questions, docs, gold = load(DATA)
    rng = random.Random(20261126)
    sample = rng.sample(questions, args.n)
    client = LLMClient(Settings.from_env())
    rows: dict[str, list[dict[str, Any]]] = {"corpus": [], "direct": []}
    with tempfile.TemporaryDirectory() as tmp:
        corpus = Corpus(Path(tmp) / "rtqa.sqlite")
        corpus.add(docs.values())
        for q in sample:
            until = _date(q["question_date"])
            choices = [str(c) for c in _literal(q["choices"])]
            answer_ids = {int(a) for a in _literal(q["answer"])}
            own = [
                docs[u]
                for u in q["_articles"]
                if u in docs and docs[u].date is not None and until and docs[u].date <= until
            ]
            runs = {
                "corpus": lambda q=q, c=choices, u=until: corpus.ask(
                    q["question_sentence"], client=client, k=args.k, until=u, choices=c
                ),
                "direct": lambda q=q, c=choices, own=own: newsqa.ask(
                    own, q["question_sentence"], client=client, choices=c
                ),
            }
            for mode, run in runs.items():
                if mode == "direct" and not own:
                    rows[mode].append({"correct": False, "abstained": True, "tokens": 0, "s": 0.0})
                    continue
                t = time.perf_counter()
                try:
                    a = run()
                except NewsQAError as e:
                    print(f"{mode} {q['question_id']}: {e}")
                    continue
                rows[mode].append(
                    {
                        "id": q["question_id"],
                        "correct": a.choice in answer_ids,
                        "abstained": a.choice is None,
                        "gold_cited": any(
                            gold.get(f"{q['question_id']}|{c.doc}") for c in a.citations
                        ),
                        "tokens": a.usage.prompt_tokens,
                        "s": time.perf_counter() - t,
                    }
                )
            print(json.dumps({m: r[-1] for m, r in rows.items() if r}), flush=True)
        corpus.close()
    client.close()
    out: dict[str, Any] = {"n": args.n, "k": args.k}
    for mode, rs in rows.items():
        out[mode] = {
            "accuracy": round(sum(r["correct"] for r in rs) / len(rs), 3),
            "abstention": round(sum(r["abstained"] for r in rs) / len(rs), 3),
            "prompt_tokens_mean": round(statistics.mean(r["tokens"] for r in rs)),
            "seconds_mean": round(statistics.mean(r["s"] for r in rs), 1),
        }
    out["direct_over_corpus_tokens"] = round(
        out["direct"]["prompt_tokens_mean"] / max(1, out["corpus"]["prompt_tokens_mean"]), 2
    )
    out["direct_over_corpus_seconds"] = round(
        out["direct"]["seconds_mean"] / max(0.1, out["corpus"]["seconds_mean"]), 2
    )
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "corpus_answers.json").write_text(json.dumps(out, indent=2))
    print(json.dumps(out, indent=2))


def _literal(value: Any) -> Any:
    import ast

    return ast.literal_eval(value) if isinstance(value, str) else value


if __name__ == "__main__":
    main()
