"""Fixed, seeded samples of the dev datasets in ../shared/eval/dev (read, never copied)."""

from __future__ import annotations

import ast
import datetime as dt
import gzip
import json
import random
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from newsqa import DocumentError, document_from_text
from newsqa.types import Document

DEV = Path(__file__).resolve().parents[2].parent / "shared" / "eval" / "dev"
SEED = 20261126


def _jsonl(name: str) -> list[dict[str, Any]]:
    raw = (DEV / name).read_bytes()
    if name.endswith(".gz"):
        raw = gzip.decompress(raw)
    return [json.loads(line) for line in raw.decode("utf-8").split("\n") if line.strip()]


def _date(value: str | None) -> dt.date | None:
    try:
        return dt.date.fromisoformat((value or "").strip()[:10].replace("/", "-"))
    except ValueError:
        return None


def _literal(value: Any) -> Any:
    return ast.literal_eval(value) if isinstance(value, str) else value


@dataclass
class QAItem:
    id: str
    question: str
    date: dt.date
    choices: list[str]
    gold: set[int]
    docs: list[Document]
    gold_docs: set[str]
    """Ids of the given articles that contain the gold answer string."""


def realtimeqa(n: int) -> list[QAItem]:
    """``n`` questions, each with its retrieved articles published on or before the
    question date (undated articles are left out); questions left with no article
    are skipped before sampling."""
    items = _realtimeqa_items()
    return random.Random(SEED).sample(items, min(n, len(items)))


def realtimeqa_one_article(n: int) -> list[QAItem]:
    """``n`` questions with one document each: the first of its articles that contains
    the gold answer string. Questions with no such article, or with two choices of
    the same text, are skipped before sampling (same seed as :func:`realtimeqa`)."""
    items = [
        QAItem(
            id=item.id,
            question=item.question,
            date=item.date,
            choices=item.choices,
            gold=item.gold,
            docs=[doc],
            gold_docs={doc.id},
        )
        for item in _realtimeqa_items()
        if len(set(item.choices)) == len(item.choices)
        for doc in [d for d in item.docs if d.id in item.gold_docs][:1]
    ]
    return random.Random(SEED).sample(items, min(n, len(items)))


def _realtimeqa_items() -> list[QAItem]:
    items = []
    for row in _jsonl("realtimeqa_2024_articles.jsonl.gz"):
        qdate = _date(row["question_date"])
        if qdate is None:
            continue
        docs, gold_docs = [], set()
        for i, art in enumerate(_literal(row["retrieved_articles"])):
            pub = _date(art.get("publish_date"))
            if pub is None or pub > qdate:
                continue
            try:
                doc = document_from_text(
                    art["text"],
                    id=f"a{i}",
                    title=art.get("title"),
                    date=pub,
                    parse_date_prefix=False,
                )
            except DocumentError:
                continue
            docs.append(doc)
            if str(art.get("contains_answer_string")) == "True":
                gold_docs.add(doc.id)
        if docs:
            items.append(
                QAItem(
                    id=row["question_id"],
                    question=row["question_sentence"],
                    date=qdate,
                    choices=[str(c) for c in _literal(row["choices"])],
                    gold={int(a) for a in _literal(row["answer"])},
                    docs=docs,
                    gold_docs=gold_docs,
                )
            )
    return items


@dataclass
class StanceItem:
    id: str
    text: Document
    gold: dict[str, str]
    """Target → FAVOR / AGAINST / NONE."""


def ruw(n: int) -> list[StanceItem]:
    """``n`` tweets of the RUW validation split with their stance toward Russia and Ukraine."""
    rows = _jsonl("ruw_val.jsonl")
    picked = random.Random(SEED).sample(range(len(rows)), min(n, len(rows)))
    items = []
    for i in picked:
        try:
            doc = document_from_text(rows[i]["text"], id=f"ruw{i}", parse_date_prefix=False)
        except DocumentError:
            continue
        items.append(StanceItem(id=f"ruw{i}", text=doc, gold=dict(rows[i]["stance"])))
    return items


@dataclass
class ClaimItem:
    id: str
    headline: str
    article: Document
    gold: str


def fnc1(n: int) -> list[ClaimItem]:
    """``n`` related headline/article pairs, stratified: equal shares of agree,
    disagree and discuss (disagree is rare, so a plain sample would hold almost none)."""
    rows = _jsonl("fnc1_dev.jsonl")
    bodies = {r["body_id"]: r["article"] for r in rows if r["type"] == "body"}
    rng = random.Random(SEED)
    items: list[ClaimItem] = []
    for label in ("agree", "disagree", "discuss"):
        pairs = [(i, r) for i, r in enumerate(rows) if r["type"] == "pair" and r["stance"] == label]
        for i, r in rng.sample(pairs, min(len(pairs), n // 3 + (label == "agree") * (n % 3))):
            try:
                doc = document_from_text(
                    bodies[r["body_id"]], id=f"body{r['body_id']}", parse_date_prefix=False
                )
            except (DocumentError, KeyError):
                continue
            items.append(ClaimItem(id=f"fnc{i}", headline=r["headline"], article=doc, gold=label))
    rng.shuffle(items)
    return items


@dataclass
class SummaryItem:
    id: str
    article: Document
    reference: str


def frank(n: int) -> list[SummaryItem]:
    """``n`` FRANK validation articles (CNN/DM and XSum) with their human reference."""
    rows = _jsonl("frank_articles_valid.jsonl")
    items = []
    for i in random.Random(SEED).sample(range(len(rows)), min(n, len(rows))):
        r = rows[i]
        try:
            doc = document_from_text(r["article"], id=r["hash"][:12], parse_date_prefix=False)
        except DocumentError:
            continue
        items.append(SummaryItem(id=r["hash"][:12], article=doc, reference=r["reference"]))
    return items


@dataclass
class CountryStanceItem:
    """One article of the country-stance set with its gold positions."""

    id: str
    topic: str
    article: Document
    actors: dict[str, dict[str, Any]]
    """Gold positions: name -> {label, accept, evidence, note}."""
    optional: list[str]
    mentioned_no_position: list[str]


def country_stances(split: str = "dev") -> list[CountryStanceItem]:
    """Every article of ``stance_gold_<split>.jsonl`` with its text (no sampling: the
    set is small, and every item counts)."""
    articles = {a["id"]: a for a in _jsonl(f"stance_articles_{split}.jsonl")}
    items = []
    for gold in _jsonl(f"stance_gold_{split}.jsonl"):
        art = articles[gold["id"]]
        doc = document_from_text(
            art["text"], id=art["id"], title=art.get("title"), date=_date(art.get("date"))
        )
        items.append(
            CountryStanceItem(
                id=gold["id"],
                topic=gold["topic"],
                article=doc,
                actors=gold["actors"],
                optional=list(gold.get("optional", [])),
                mentioned_no_position=list(gold.get("mentioned_no_position", [])),
            )
        )
    return items
