"""Corpus mode on RealTime QA dev data: retrieval quality, prompt size, and scale.

Reads ../shared/eval/dev/realtimeqa_2024_articles.jsonl.gz (never copied into the repo).

1. Quality (no model): every question's retrieved articles go into ONE corpus; each
   question is searched with ``until=question_date``. Reports recall@k (a passage from
   an article that contains the gold answer string) and the prompt tokens of the
   retrieved passages vs handing ``ask`` that question's own articles (ratio).
2. Scale: the dev articles replicated with distinct ids to 1k / 10k / 100k documents:
   index build throughput (documents/s), database size, and query latency p50/p95
   (warm) of the dev questions, without a date and with ``until=question_date``.

``--engine postgres`` runs both on a PostgreSQL corpus in a throwaway cluster
(tests/support/postgres.py) instead of SQLite; ``--engine both`` runs the quality part
on both and reports the paired difference of recall (PostgreSQL − SQLite, same
questions) with a 95% interval, then the scale part on each.

``--grow`` grows one corpus through the scales instead of building one per scale (a
large scale then costs only its new documents); ``--no-quality`` runs the scale part only.

Usage: python benchmarks/corpus_retrieval.py [--scales 1000,10000] [--k 3,6,10]
       [--engine sqlite|postgres|both] [--grow] [--no-quality]
"""

from __future__ import annotations

import argparse
import ast
import contextlib
import datetime as dt
import gzip
import json
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from newsqa import Corpus, DocumentError, document_from_text
from newsqa.documents import count_tokens
from newsqa.retrieval import postgres_index
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


Opener = Callable[[str], contextlib.AbstractContextManager[tuple[Corpus, Callable[[], int]]]]
"""A fresh, empty corpus named ``name`` and a function giving its size in bytes."""


@contextlib.contextmanager
def sqlite_corpus(name: str) -> Iterator[tuple[Corpus, Callable[[], int]]]:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / f"{name}.sqlite"
        corpus = Corpus(path)
        try:
            yield (
                corpus,
                lambda: sum(
                    p.stat().st_size for p in Path(tmp).iterdir() if p.name.startswith(path.name)
                ),
            )
        finally:
            corpus.close()


def postgres_opener(stack: contextlib.ExitStack) -> Opener:
    """Fresh databases in one throwaway cluster (closed with ``stack``)."""
    import psycopg

    sys.path.insert(0, str(ROOT))
    from tests.support.postgres import postgres_cluster

    admin = stack.enter_context(postgres_cluster())

    @contextlib.contextmanager
    def opener(name: str) -> Iterator[tuple[Corpus, Callable[[], int]]]:
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        url = admin.replace("/postgres?", f"/{name}?", 1)
        corpus = Corpus(url)

        def size() -> int:
            with psycopg.connect(url, autocommit=True) as conn:
                conn.execute("VACUUM ANALYZE")
                row = conn.execute("SELECT pg_database_size(current_database())").fetchone()
            return int(row[0]) if row else 0

        try:
            yield corpus, size
        finally:
            corpus.close()
            with psycopg.connect(admin, autocommit=True) as conn:
                conn.execute(f'DROP DATABASE "{name}" WITH (FORCE)')

    return opener


def quality(
    questions: list[dict[str, Any]],
    docs: dict[str, Document],
    gold: dict[str, bool],
    ks: list[int],
    opener: Opener = sqlite_corpus,
) -> dict[str, Any]:
    with opener("rtqa") as (index, _size):
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
            hit_list: list[int] = []
            retrieved_tokens, own_tokens = [], []
            for q in answerable:
                until = _date(q["question_date"])
                t = time.perf_counter()
                hits = index.search(q["question_sentence"], k, until=until)
                latencies.append(time.perf_counter() - t)
                hit = any(gold.get(f"{q['question_id']}|{h.doc_id}") for h in hits)
                found += hit
                hit_list.append(int(hit))
                retrieved_tokens.append(sum(count_tokens(h.text) for h in hits))
                own_tokens.append(sum(count_tokens(docs[u].text) for u in q["_articles"]))
            out[f"recall@{k}"] = round(found / len(answerable), 3)
            out[f"_found@{k}"] = hit_list  # per question, for a paired comparison
            out[f"passage_tokens@{k}_mean"] = round(statistics.mean(retrieved_tokens))
            out[f"own_articles_tokens_mean@{k}"] = round(statistics.mean(own_tokens))
            out[f"token_ratio@{k}"] = round(sum(own_tokens) / max(1, sum(retrieved_tokens)), 1)
        out["query_ms_p50"] = round(statistics.median(latencies) * 1000, 2)
    return out


def scale(
    docs: list[Document],
    queries: list[tuple[str, dt.date | None]],
    sizes: list[int],
    opener: Opener = sqlite_corpus,
    *,
    grow: bool = False,
    budgets: list[int] | None = None,
) -> list[dict[str, Any]]:
    """Build, size and query latency at each of ``sizes``: a fresh corpus for each, or
    with ``grow`` one corpus grown from size to size (the build rate is then that of
    the documents added, into a corpus already holding the ones before). ``budgets``:
    the latencies under each candidate budget of the PostgreSQL corpus."""
    rows = []
    with contextlib.ExitStack() as stack:
        held = stack.enter_context(opener("scale")) if grow else None
        done = 0
        for size in sizes:
            index, db_size = held or stack.enter_context(opener(f"scale{size}"))
            first = done if held else 0
            batch = (
                docs[i % len(docs)].model_copy(update={"id": f"{i}:{docs[i % len(docs)].id}"})
                for i in range(first, size)
            )
            t = time.perf_counter()
            index.add(batch)
            build = time.perf_counter() - t
            done = size
            row: dict[str, Any] = {
                "documents": size,
                "build_docs_per_s": round((size - first) / build, 1),
                "db_mb": round(db_size() / 1e6, 1),
            }
            for budget in budgets or [None]:
                if budget is not None:  # the PostgreSQL corpus's candidate budget
                    postgres_index.ROW_BUDGET = budget
                tag = f"_budget{budget}" if budgets else ""
                for dated in (False, True):
                    for q, _ in queries[:20]:  # warm-up
                        index.search(q, 6)
                    lat = []
                    for q, until in queries:
                        t = time.perf_counter()
                        index.search(q, 6, until=until if dated else None)
                        lat.append(time.perf_counter() - t)
                    lat.sort()
                    label = ("as_of" if dated else "no_date") + tag
                    row[f"query_ms_p50_{label}"] = round(lat[len(lat) // 2] * 1000, 2)
                    row[f"query_ms_p95_{label}"] = round(lat[int(len(lat) * 0.95)] * 1000, 2)
            rows.append(row)
            print(rows[-1], flush=True)
            if not held:
                stack.close()  # this size's corpus, before the next is built
    return rows


def paired_difference(a: list[int], b: list[int]) -> dict[str, float]:
    """Mean of ``a - b`` over the same items, with a normal 95% interval."""
    diffs = [x - y for x, y in zip(a, b, strict=True)]
    mean = statistics.mean(diffs)
    half = 1.96 * statistics.stdev(diffs) / len(diffs) ** 0.5 if len(diffs) > 1 else 0.0
    return {
        "n": len(diffs),
        "difference": round(mean, 3),
        "ci95": [round(mean - half, 3), round(mean + half, 3)],
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--data", type=Path, default=DATA)
    parser.add_argument("--k", default="3,6,10")
    parser.add_argument("--scales", default="1000,10000,100000")
    parser.add_argument("--engine", choices=["sqlite", "postgres", "both"], default="sqlite")
    parser.add_argument(
        "--grow", action="store_true", help="grow one corpus through the scales (not one each)"
    )
    parser.add_argument("--no-quality", action="store_true", help="only the scale part")
    parser.add_argument(
        "--budgets", help="PostgreSQL: latencies under each of these candidate budgets (5000,20000)"
    )
    args = parser.parse_args()
    if not args.data.is_file():
        raise SystemExit(f"dev data not found: {args.data}")
    questions, docs, gold = load(args.data)
    ks = [int(k) for k in args.k.split(",")]
    engines = ["sqlite", "postgres"] if args.engine == "both" else [args.engine]
    queries = [(q["question_sentence"], _date(q["question_date"])) for q in questions[:200]]
    sizes = [int(s) for s in args.scales.split(",") if s]
    results: dict[str, Any] = {"engine": args.engine}
    with contextlib.ExitStack() as stack:
        openers = {
            engine: postgres_opener(stack) if engine == "postgres" else sqlite_corpus
            for engine in engines
        }
        for engine, opener in openers.items():
            if args.no_quality:
                break
            found = quality(questions, docs, gold, ks, opener)
            results[f"quality_{engine}"] = found
            print(engine, json.dumps({a: b for a, b in found.items() if a[0] != "_"}), flush=True)
        if len(engines) == 2 and not args.no_quality:
            results["paired"] = {
                f"recall@{k}": paired_difference(
                    results["quality_postgres"][f"_found@{k}"],
                    results["quality_sqlite"][f"_found@{k}"],
                )
                for k in ks
            }
            print(json.dumps(results["paired"]), flush=True)
        for engine, opener in openers.items():
            results[f"scale_{engine}"] = scale(
                list(docs.values()),
                queries,
                sizes,
                opener,
                grow=args.grow,
                budgets=[int(b) for b in args.budgets.split(",")] if args.budgets else None,
            )
    out = ROOT / "benchmarks" / "results"
    out.mkdir(exist_ok=True)
    (out / f"corpus_retrieval_{args.engine}.json").write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
