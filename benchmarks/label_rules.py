"""What each stance label rule does: the items it fixes and the items it breaks.

newsqa's stance pipeline runs once per item (model replies cached; the per-actor
call is made only for the actors scored, whose calls are those of the whole
pipeline, and on a probe passage the probed country stands for the call naming the
actors); for every actor the model's own label and what the label rules saw are
kept, then the labels are scored with every rule, with each rule left out, with
each rule alone and with none (``model``), all on the same replies, beside always
answering ``supports``:

- ``--data fresh|check|dev``: a probe split (``benchmarks/data``, the probed
  country's label, see :mod:`benchmarks.stance_probe`);
- ``--data gold``: the 11 labelled dev articles (``../shared/eval/dev``: each gold
  country's label in its ``accept`` list; a country not found is wrong).

Usage: python -m benchmarks.label_rules --data fresh [--cache PATH] [--out PATH] [--rescore]
(``--rescore``: the rows of ``--out`` scored again by today's rules, no model call)
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from unittest import mock

import newsqa
from benchmarks import stance_probe
from benchmarks.quality import data
from benchmarks.quality.country_stances import canonical
from benchmarks.quality.metrics import mcnemar_p, proportion
from newsqa import Document, LLMClient, Settings, Usage, document_from_text
from newsqa.llm.cache import ResponseCache
from newsqa.llm.structured import Structured
from newsqa.tasks import stances

RESULTS = Path(__file__).resolve().parent / "results"
CACHES = {"gold": RESULTS / "quality-cache.sqlite"}
"""The reply cache of each data set (default: the stance probe's)."""
VARIANTS = (
    "rules",
    *(f"without_{r}" for r in stances.LABEL_RULES),
    *(f"only_{r}" for r in stances.LABEL_RULES),
    "model",
)
"""The labellings scored (see :func:`label`). A row holds the model's label and what the
rules read, so ``--rescore`` scores rows recorded under other rules by today's."""


@contextmanager
def _recorded() -> Iterator[list[dict[str, Any]]]:
    """Every call of :func:`newsqa.tasks.stances.check_label` while open, in order
    (one per stance the pipeline keeps, in the stances' order)."""
    calls: list[dict[str, Any]] = []
    real = stances.check_label

    def record(label: str, evidence: Any = (), **kw: Any) -> Any:
        calls.append(
            {"label": label, "evidence": list(evidence), "on_topic": kw.get("on_topic", True)}
        )
        return real(label, evidence, **kw)  # type: ignore[arg-type]

    with mock.patch.object(stances, "check_label", record):
        yield calls


def label(call: dict[str, Any] | None, variant: str) -> str:
    """The label of a recorded call (``None``: the actor got no stance, ``missing``)
    under ``variant`` (see :data:`VARIANTS`), by today's rules."""
    if call is None:
        return "missing"
    if variant == "model":
        return str(call["label"])
    skip: set[str] = set()
    if variant.startswith("without_"):
        skip = {variant.removeprefix("without_")}
    elif variant.startswith("only_"):
        skip = set(stances.LABEL_RULES) - {variant.removeprefix("only_")}
    return stances.check_label(
        call["label"], call["evidence"], on_topic=call["on_topic"], skip=skip
    ).label


@contextmanager
def _asking_only(names: set[str], *, named: bool = False) -> Iterator[None]:
    """While open, the per-actor stance call is made only for actors named in ``names``
    (canonical); another actor's call returns a reply citing nothing, so that actor is
    left out without a model call. The scored actors' calls are those of the whole
    pipeline (the same shared reading and candidate sentences). With ``named`` the call
    naming the actors is skipped too and ``names`` stand for its reply: exact where
    the whole pipeline asks about every actor that speaks (a two-sentence passage)."""
    real = stances._ask_actor
    real_names = stances._ask_names

    def ask(client: LLMClient, reading: Any, topic: str, actor: Any, ids: list[int]) -> Any:
        if canonical(actor.name) in names:
            return real(client, reading, topic, actor, ids)
        draft = stances.StanceDraft(sentences=[], says="-", label="unclear")
        return Structured(value=draft, usage=Usage(), attempts=0)

    def ask_names(client: LLMClient, reading: Any, topic: str) -> Any:
        return (sorted(names), Usage()) if named else real_names(client, reading, topic)

    with (
        mock.patch.object(stances, "_ask_actor", ask),
        mock.patch.object(stances, "_ask_names", ask_names),
    ):
        yield


def _calls(
    doc: Document, topic: str, client: LLMClient, scored: set[str], *, named: bool = False
) -> dict[str, dict[str, Any]]:
    """Actor (canonical) → what its label check saw, for the actors in ``scored`` that
    got a stance in ``doc`` (``named``: see :func:`_asking_only`)."""
    with _recorded() as calls, _asking_only(scored, named=named):
        report = newsqa.analyze_stances(doc, topic, client=client)
    if len(calls) != len(report.stances):
        raise RuntimeError("a stance without a label check")
    return {canonical(s.actor): call for s, call in zip(report.stances, calls, strict=True)}


def _taking_turns(items: list[dict[str, str]]) -> list[dict[str, str]]:
    """``items`` with the classes taking turns (the first of each class, then the
    second, …), so that the rows written so far cover every class alike."""
    by_class: dict[str, list[dict[str, str]]] = {}
    for item in items:
        by_class.setdefault(item["label"], []).append(item)
    queues = list(by_class.values())
    most = max((len(q) for q in queues), default=0)
    return [q[turn] for turn in range(most) for q in queues if turn < len(q)]


def probe_rows(split: str, client: LLMClient, *, backwards: bool = False) -> list[dict[str, Any]]:
    """One row per probe passage: its gold class and what the probed country's label
    check saw (``None``: no stance)."""
    rows = []
    items = _taking_turns(stance_probe.items(split))
    for item in reversed(items) if backwards else items:
        doc = document_from_text(item["text"], id=item["id"])
        calls = _calls(doc, stances.DEFAULT_TOPIC, client, {item["actor"]}, named=True)
        call = calls.get(item["actor"])
        rows.append({"id": item["id"], "gold": item["label"], "call": call})
        print(json.dumps(rows[-1]), file=sys.stderr, flush=True)
    return rows


def gold_rows(client: LLMClient, limit: int | None = None) -> list[dict[str, Any]]:
    """One row per gold country of the labelled dev articles (the first ``limit``), with
    what its label check saw (``None``: the country got no stance)."""
    rows = []
    for item in data.country_stances("dev")[:limit]:
        calls = _calls(item.article, item.topic, client, set(item.actors))
        for name, gold in item.actors.items():
            rows.append(
                {"id": f"{item.id}/{name}", "gold": gold["label"], "accept": gold["accept"]}
                | {"call": calls.get(name)}
            )
        print(item.id, {n: label(calls.get(n), "rules") for n in item.actors}, file=sys.stderr)
    return rows


def scored(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """``rows`` with each variant's label and whether it is right (by today's rules)."""
    out = []
    for row in rows:
        labels = {v: label(row["call"], v) for v in VARIANTS} | {"always_supports": "supports"}
        if "accept" in row:
            right = {v: g in row["accept"] for v, g in labels.items()}
        else:
            right = {v: stance_probe.right(row["gold"], g) for v, g in labels.items()}
        out.append({**row, "labels": labels, "right": right})
    return out


def paired_effect(rows: list[dict[str, Any]], variant: str) -> dict[str, Any]:
    """What the rules do against ``variant``, paired: items right only with the rules
    (``fixes``), right only under ``variant`` (``breaks``), the difference in right
    items with a 95% interval (paired, Wald with the discordant counts) and McNemar's p."""
    fixes = sum(1 for r in rows if r["right"]["rules"] and not r["right"][variant])
    breaks = sum(1 for r in rows if r["right"][variant] and not r["right"]["rules"])
    n = len(rows)
    diff = (fixes - breaks) / n
    half = 1.96 * math.sqrt(max(fixes + breaks - (fixes - breaks) ** 2 / n, 0.0)) / n
    return {
        "n": n,
        "fixes": fixes,
        "breaks": breaks,
        "difference": round(diff, 3),
        "ci95": (round(diff - half, 3), round(diff + half, 3)),
        "mcnemar_p": round(mcnemar_p(fixes, breaks), 4),
    }


def summary(rows: list[dict[str, Any]]) -> dict[str, Any]:
    """Right per variant (n, 95% Wilson interval) and each variant paired with the rules."""
    variants = [*VARIANTS, "always_supports"]
    return {
        "right": {v: proportion([r["right"][v] for r in rows]) for v in variants},
        "paired_with_rules": {v: paired_effect(rows, v) for v in variants if v != "rules"},
    }


def _cell(p: dict[str, Any]) -> str:
    lo, hi = p["ci95"]
    return f"{p['k']}/{p['n']} = {p['share']:.2f} [{lo:.2f}, {hi:.2f}]"


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", choices=[*sorted(stance_probe.SPLITS), "gold"], default="fresh")
    parser.add_argument("--cache", type=Path)
    parser.add_argument("--out", type=Path, help="default: results/label_rules_<data>.json")
    parser.add_argument(
        "--rescore", action="store_true", help="score the rows of --out again (no model)"
    )
    parser.add_argument("--articles", type=int, help="--data gold: only the first N articles")
    parser.add_argument(
        "--backwards",
        action="store_true",
        help="probe passages last to first (a second run on the same cache meets the first)",
    )
    args = parser.parse_args(argv)
    out = args.out or RESULTS / f"label_rules_{args.data}.json"
    if args.rescore:
        rows = json.loads(out.read_text("utf-8"))["rows"]
    else:
        cache = args.cache or CACHES.get(args.data, RESULTS / "stance-probe-cache.sqlite")
        client = LLMClient(Settings.from_env(), cache=ResponseCache(cache))
        rows = (
            gold_rows(client, args.articles)
            if args.data == "gold"
            else probe_rows(args.data, client, backwards=args.backwards)
        )
    rows = scored(rows)
    result = summary(rows)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps({"data": args.data, **result, "rows": rows}, indent=2))
    print("| labels | right | fixes | breaks | difference [95% CI] | McNemar p |")
    print("|---|---|---|---|---|---|")
    for v, p in result["right"].items():
        if v == "rules":
            print(f"| {v} | {_cell(p)} | | | | |")
            continue
        e = result["paired_with_rules"][v]
        lo, hi = e["ci95"]
        print(
            f"| {v} | {_cell(p)} | {e['fixes']} | {e['breaks']} | "
            f"{e['difference']:+.2f} [{lo:+.2f}, {hi:+.2f}] | {e['mcnemar_p']} |"
        )


if __name__ == "__main__":
    main()
