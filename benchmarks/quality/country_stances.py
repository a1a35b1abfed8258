"""Country positions in real news (the project's own labelled stance set).

Per gold country: found, label in ``accept``, label right where ``supports`` is not
accepted, evidence hit (a gold evidence substring inside a cited sentence); per
article: spurious definite stances (supports/opposes/conditional for a country that
is neither a gold actor nor optional), seconds and tokens. newsqa's
``analyze_stances`` against the naive one-prompt baseline on the same articles.
"""

from __future__ import annotations

import re
import sys
from collections import Counter
from typing import Any

from tqdm import tqdm

import newsqa
from benchmarks.quality import baseline, data
from benchmarks.quality.metrics import mcnemar_p, proportion
from newsqa import LLMClient, Usage
from newsqa.documents.actors import gazetteer

DEFINITE = {"supports", "opposes", "conditional"}


def canonical(name: str) -> str:
    """The gazetteer's name for ``name`` (an alias such as "the U.S." or "Kremlin"),
    else ``name`` without a leading "the"."""
    bare = re.sub(r"^the\s+", "", name.strip(), flags=re.IGNORECASE).strip(" .")
    for key, aliases in gazetteer().items():
        if bare.lower() == key.lower() or any(bare.lower() == a.lower() for a in aliases):
            return key
    return bare


def _ours(item: data.CountryStanceItem, client: LLMClient) -> tuple[dict[str, Any], Usage]:
    report = newsqa.analyze_stances(item.article, item.topic, client=client)
    return {
        canonical(s.actor): {"label": s.label, "cited": [e.text for e in s.evidence]}
        for s in report.stances
    }, report.usage


def _base(
    item: data.CountryStanceItem, client: LLMClient, budget: int
) -> tuple[dict[str, Any], Usage]:
    rows, usage = baseline.stances(client, item.article, item.topic, budget)
    out: dict[str, Any] = {}
    for country, label, quote in rows:
        # the quote counts as evidence only where it is verbatim: the sentences holding it
        cited = [s.text for s in item.article.sentences if len(quote) >= 12 and quote in s.text]
        out.setdefault(canonical(country), {"label": label, "cited": cited, "quote": quote})
    return out, usage


def score(
    items: list[data.CountryStanceItem], preds: list[dict[str, Any] | None]
) -> dict[str, Any]:
    """Figures with n and 95% Wilson intervals, plus per-country flags for pairing."""
    flags: dict[str, list[bool]] = {"found": [], "label": [], "label_not_supports": []}
    hits: list[bool] = []
    spurious = 0
    confusion: Counter[tuple[str, str]] = Counter()
    per_country: list[dict[str, Any]] = []
    for item, pred in zip(items, preds, strict=True):
        pred = pred or {}
        for name, gold in item.actors.items():
            got = pred.get(name)
            found = got is not None
            right = found and got["label"] in gold["accept"]
            flags["found"].append(found)
            flags["label"].append(right)
            if "supports" not in gold["accept"]:
                flags["label_not_supports"].append(right)
            if found:
                hit = any(ev in c for ev in gold["evidence"] for c in got["cited"])
                hits.append(hit)
            confusion[(gold["label"], got["label"] if found else "missing")] += 1
            per_country.append({"article": item.id, "country": name, "right": right})
        allowed = set(item.actors) | set(item.optional)
        spurious += sum(
            1 for name, got in pred.items() if name not in allowed and got["label"] in DEFINITE
        )
    out: dict[str, Any] = {}
    for key, values in [*flags.items(), ("evidence_hit", hits)]:
        out[key] = proportion(values)
    out["spurious_definite"] = spurious
    out["confusion"] = {f"{g}->{p}": c for (g, p), c in sorted(confusion.items())}
    out["_per_country"] = per_country
    return out


def _unchecked(items: list[data.CountryStanceItem], client: LLMClient) -> dict[str, Any]:
    """The same run (replies from the cache) with the model's own labels, unchecked."""
    from unittest import mock

    from newsqa.tasks import stances

    with mock.patch.object(
        stances, "check_label", lambda label, *_, **__: stances.CheckedLabel(label)
    ):
        preds = [_ours(item, client)[0] for item in items]
    fig = score(items, preds)
    fig.pop("_per_country")
    return {k: fig[k] for k in ("label", "label_not_supports", "spurious_definite")}


def run(
    items: list[data.CountryStanceItem], client: LLMClient, timer_cls: Any
) -> tuple[dict[str, Any], list[Any]]:
    ours, base = timer_cls(), timer_cls()
    rows = []
    for item in tqdm(items, desc="stances", file=sys.stderr):
        a = ours.run(_ours, item, client)
        b = base.run(_base, item, client, client.settings.context_tokens)
        rows.append({"id": item.id, "topic": item.topic, "newsqa": a, "baseline": b})
    a_fig = score(items, [r["newsqa"] for r in rows])
    b_fig = score(items, [r["baseline"] for r in rows])
    pairs = zip(a_fig.pop("_per_country"), b_fig.pop("_per_country"), strict=True)
    only_a = only_b = 0
    for x, y in pairs:
        only_a += x["right"] and not y["right"]
        only_b += y["right"] and not x["right"]
    return {
        "n_articles": len(items),
        "n": sum(len(i.actors) for i in items),
        "newsqa": {**a_fig, **ours.figures(len(items))},
        "baseline": {**b_fig, **base.figures(len(items))},
        "ablation_model_label_unchecked": _unchecked(items, client),
        "paired_label": {
            "only_newsqa": only_a,
            "only_baseline": only_b,
            "mcnemar_p": round(mcnemar_p(only_a, only_b), 4),
        },
    }, rows
