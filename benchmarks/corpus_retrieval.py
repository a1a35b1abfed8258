"""Corpus mode on RealTime QA dev data: retrieval quality, prompt size, and scale.

Reads ../shared/eval/dev/realtimeqa_2024_articles.jsonl.gz (never copied into the repo).

1. Quality (no model): every question's retrieved articles go into ONE corpus; each
   question is searched with ``until=question_date``. Reports recall@k (a passage from
   an article that contains the gold answer string) and the prompt tokens of the
   retrieved passages vs handing ``ask`` that question's own articles (ratio).
2. Scale: the dev articles replicated with distinct ids to 1k / 10k / 100k documents:
   index build throughput (documents/s) and query latency p50/p95.

Usage: python benchmarks/corpus_retrieval.py [--scales 1000,10000] [--k 3,6,10]
"""

from __future__ import annotations

import argparse
import ast
import datetime as dt
import gzip
import json
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

from newsqa import DocumentError, document_from_text
from newsqa.documents import count_tokens
from newsqa.retrieval import SQLiteIndex
from newsqa.types import Document

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT.parent / "shared" / "eval" / "dev" / "realtimeqa_2024_articles.jsonl.gz"


def _date(value: str) -> dt.date | None:
    try:
        return dt.date.fromisoformat(value.strip()[:10].replace("/", "-"))
    except (ValueError, AttributeError):
        return None


def load(path: Path) -> tuple[list[dict[str, Any]], dict[str, Document], dict[str, bool]]:
    """Questions, unique article documents (id = URL) and which contain their answer."""
    questions, docs, gold = [], {}, {}
    with gzip.open(path, "rt", encoding="utf-8") as fh:
        for line in fh:
            q = json.loads(line)
            arts = q["retrieved_articles"]
            arts = ast.literal_eval(arts) if isinstance(arts, str) else arts
            q["_articles"] = []
            for a in arts:
                url = a["url"]
                if url not in docs:
                    try:
                        docs[url] = document_from_text(
                            a["text"],
                            id=url,
                            title=a.get("title"),
                            date=_date(a.get("publish_date") or ""),
                            parse_date_prefix=False,
                        )
                    except DocumentError:
                        continue
                q["_articles"].append(url)
                gold[f"{q['question_id']}|{url}"] = str(a.get("contains_answer_string")) == "True"
            questions.append(q)
    return questions, docs, gold


def quality(
    questions: list[dict[str, Any]], docs: dict[str, Document], gold: dict[str, bool], ks: list[int]
) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as tmp:
        index = SQLiteIndex(Path(tmp) / "rtqa.sqlite")
        t = time.perf_counter()
        index.add(docs.values())
        build_s = time.perf_counter() - t
        answerable = [
            q for q in questions if any(gold.get(f"{q['question_id']}|{u}") for u in q["_articles"])
        ]
        out: dict[str, Any] = {
            "questions": len(questions),
            "articles": len(docs),
            "questions_with_gold_article": len(answerable),
            "index_build_s": round(build_s, 1),
        }
        latencies = []
        for k in ks:
            found = 0
            retrieved_tokens, own_tokens = [], []
            for q in answerable:
                until = _date(q["question_date"])
                t = time.perf_counter()
                hits = index.search(q["question_sentence"], k, until=until)
                latencies.append(time.perf_counter() - t)
                if any(gold.get(f"{q['question_id']}|{h.doc_id}") for h in hits):
                    found += 1
                retrieved_tokens.append(sum(count_tokens(h.text) for h in hits))
                own_tokens.append(sum(count_tokens(docs[u].text) for u in q["_articles"]))
            out[f"recall@{k}"] = round(found / len(answerable), 3)
            out[f"passage_tokens@{k}_mean"] = round(statistics.mean(retrieved_tokens))
            out[f"own_articles_tokens_mean@{k}"] = round(statistics.mean(own_tokens))
            out[f"token_ratio@{k}"] = round(sum(own_tokens) / max(1, sum(retrieved_tokens)), 1)
        out["query_ms_p50"] = round(statistics.median(latencies) * 1000, 2)
        index.close()
    return out


def scale(docs: list[Document], queries: list[str], sizes: list[int]) -> list[dict[str, Any]]:
    rows = []
    for size in sizes:
        with tempfile.TemporaryDirectory() as tmp:
            index = SQLiteIndex(Path(tmp) / "scale.sqlite")
            batch = (
                docs[i % len(docs)].model_copy(update={"id": f"{i}:{docs[i % len(docs)].id}"})
                for i in range(size)
            )
            t = time.perf_counter()
            index.add(batch)
            build = time.perf_counter() - t
            lat = []
            for q in queries:
                t = time.perf_counter()
                index.search(q, 6)
                lat.append(time.perf_counter() - t)
            lat.sort()
            rows.append(
                {
                    "documents": size,
                    "build_docs_per_s": round(size / build, 1),
                    "query_ms_p50": round(lat[len(lat) // 2] * 1000, 2),
                    "query_ms_p95": round(lat[int(len(lat) * 0.95)] * 1000, 2),
                    "db_mb": round((Path(tmp) / "scale.sqlite").stat().st_size / 1e6, 1),
                }
            )
            index.close()
            print(rows[-1], flush=True)
    return rows


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--data", type=Path, default=DATA)
    parser.add_argument("--k", default="3,6,10")
    parser.add_argument("--scales", default="1000,10000,100000")
    args = parser.parse_args()
    if not args.data.is_file():
        raise SystemExit(f"dev data not found: {args.data}")
    questions, docs, gold = load(args.data)
    results: dict[str, Any] = {
        "quality": quality(questions, docs, gold, [int(k) for k in args.k.split(",")])
    }
    print(json.dumps(results["quality"], indent=2), flush=True)
    queries = [q["question_sentence"] for q in questions[:200]]
    results["scale"] = scale(
        list(docs.values()), queries, [int(s) for s in args.scales.split(",") if s]
    )
    out = ROOT / "benchmarks" / "results"
    out.mkdir(exist_ok=True)
    (out / "corpus_retrieval.json").write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
