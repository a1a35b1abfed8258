"""newsqa's ``extract`` side by side with Google's LangExtract (issue 31): the same
model, articles, schemas and examples.

    python -m benchmarks.langextract_compare            # all 41 cases, three systems
    python -m benchmarks.langextract_compare --n 2      # a quick check of the harness
    python -m benchmarks.langextract_compare --stop-at 2030-01-01T06:00+00:00
    python -m benchmarks.langextract_compare --only langextract     # one system now...
    python -m benchmarks.langextract_compare --keep langextract     # ...the others later

``--keep`` takes a system's predictions from the per-case files of earlier runs
(``--only`` runs write ``langextract.<systems>.jsonl``), so systems may run apart (or
side by side, each with half the cores) and be scored together.

Cases: ``benchmarks/labels/extract_cases.jsonl``, 41 (article, schema) pairs over 24
short FRANK dev articles (by hash; the text is read from ``../shared/eval/dev`` at run
time, never copied): ``speakers`` (the named people quoted with their own words in
quotation marks; 24 cases, 4 of them with none) and ``figures`` (quantities with their
unit: money, durations, distances, counts; not calendar years, dates, times of day or
ages; 17 cases). Labelled from the article text alone, before either system ran.

Systems: ``langextract`` (LangExtract 1.7.1 through its OpenAI provider, one worked
example per schema, as it requires; each reply capped at 1,000 tokens), ``newsqa`` with
the same example, ``newsqa-bare`` without one, and ``newsqa-2passes`` with the example
and ``passes=2`` (the second reading lists the values the first found and asks for
more; only with ``--only``). The model is the embedded GGUF,
served on a loopback port by this module (wsgiref around newsqa's embedded WSGI app),
so both libraries speak the OpenAI API to the same weights; temperature 0, no response
cache.

Scoring: a predicted speaker is right when its last name (or whole name) is a gold
one's; a predicted figure when one of the values it may stand for
(:func:`newsqa.documents.lexical.numbers` of its text or amount and unit) is the gold
amount and the units agree (a shared stem, a currency symbol, or the same first
letter: "m" for metres); each gold value is matched once. Precision and recall pool the
values of all cases; the 95% intervals and the paired differences (a system minus
LangExtract) come from a bootstrap over cases (2,000 resamples, seed 0). Also: the
share of right values whose span (newsqa's ``spans``, LangExtract's ``char_interval``)
holds the value, and seconds per case; for all cases and for each schema. Writes
``benchmarks/results/langextract.json`` (and ``.jsonl``, the per-case predictions) and
prints Markdown tables.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import random
import re
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from wsgiref.simple_server import WSGIRequestHandler, make_server

from pydantic import BaseModel, Field

import newsqa
from newsqa import Document, Settings
from newsqa.documents.lexical import numbers, stems
from newsqa.llm.local import EmbeddedModel

HERE = Path(__file__).resolve().parent
CASES = HERE / "labels" / "extract_cases.jsonl"
RESULTS = HERE / "results"
DEV = HERE.parent.parent / "shared" / "eval" / "dev"
SYSTEMS = ("langextract", "newsqa", "newsqa-bare", "newsqa-2passes")
DEFAULT = SYSTEMS[:3]
"""What a run without ``--only`` runs (``newsqa-2passes`` was tried and left: see the docs)."""
RESAMPLES = 2000
LX_MAX_TOKENS = 1000
"""Output cap of each LangExtract call (newsqa's calls are capped by the schema, 374
tokens for ``speakers``, 558 for ``figures``): without one, a reply the small model
repeats itself in runs to the end of the context window, minutes a chunk."""


class Speakers(BaseModel):
    speakers: list[str] = Field(
        default_factory=list,
        description="Names of the people quoted in the article with their own words "
        "in quotation marks",
    )


class Figure(BaseModel):
    amount: float = Field(description="The number, as a plain number")
    unit: str = Field(description="What it counts or measures: pounds, goals, years...")


class Figures(BaseModel):
    figures: list[Figure] = Field(
        default_factory=list,
        description="Quantities stated with their unit (money, durations, distances, "
        "counts); not calendar years, dates, times of day or ages",
    )


SCHEMAS: dict[str, type[BaseModel]] = {"speakers": Speakers, "figures": Figures}
SCHEMA_ORDER = ("speakers", "figures")
"""The order cases run in (all of a schema first), so a run stopped by ``--stop-at``
has whole schemas done."""
EXAMPLES: dict[str, tuple[str, BaseModel]] = {
    "speakers": (
        'Mayor Jane Doyle said the bridge "will open in May". A council spokesman '
        'declined to comment. "We are delighted," added engineer Tom Reyes.',
        Speakers(speakers=["Jane Doyle", "Tom Reyes"]),
    ),
    "figures": (
        "The club paid 12 million pounds for the 23-year-old striker, who scored 14 goals in 30 "
        "games over two seasons.",
        Figures(
            figures=[
                Figure(amount=12_000_000, unit="pounds"),
                Figure(amount=14, unit="goals"),
                Figure(amount=30, unit="games"),
                Figure(amount=2, unit="seasons"),
            ]
        ),
    ),
}
"""The one worked example of each schema, written for this benchmark (no dev text)."""
_WRITTEN = {
    "pounds": "12 million pounds",
    "goals": "14 goals",
    "games": "30 games",
    "seasons": "two seasons",
}


@dataclass
class Case:
    article: str
    schema: str
    gold: list[Any]


@dataclass
class Prediction:
    """One system's values for one case: each with the text of its span (or None)."""

    values: list[tuple[Any, str | None]] = field(default_factory=list)
    seconds: float = 0.0
    error: str | None = None


def cases(n: int | None = None) -> list[Case]:
    rows = [json.loads(line) for line in CASES.read_text(encoding="utf-8").splitlines()]
    return [Case(**row) for row in rows[:n]]


def articles(dev: Path = DEV) -> dict[str, Document]:
    """The FRANK dev articles by hash (read at run time)."""
    found = {}
    with (dev / "frank_articles_valid.jsonl").open(encoding="utf-8") as lines:
        for line in lines:
            row = json.loads(line)
            found[row["hash"]] = newsqa.document_from_text(row["article"], id=row["hash"])
    return found


# --- matching --------------------------------------------------------------------


def _name(text: str) -> tuple[str, str]:
    words = re.findall(r"[\w-]+", text.casefold().replace("’s", "").replace("'s", ""))
    return (" ".join(words), words[-1] if words else "")


def same_speaker(predicted: str, gold: str) -> bool:
    """The same person: the same whole name, or the same last name."""
    (p_all, p_last), (g_all, g_last) = _name(predicted), _name(gold)
    return bool(p_all) and (p_all == g_all or p_last == g_last)


_SYMBOLS = {"pounds": "£", "euros": "€", "dollars": "$"}


def same_figure(predicted: tuple[float | None, str, str], gold: Sequence[Any]) -> bool:
    """``predicted`` is (amount or None, unit, text as written); ``gold`` (amount, unit)."""
    amount, unit, written = predicted
    values = numbers(written) | numbers(f"{amount} {unit}" if amount is not None else "")
    if amount is not None:
        values.add(float(amount))
    if not any(abs(v - float(gold[0])) <= 1e-6 * max(1.0, abs(v)) for v in values):
        return False
    g_unit = str(gold[1]).casefold()
    said = f"{unit} {written}".casefold()
    return bool(
        stems(g_unit) & stems(said)
        or (_SYMBOLS.get(g_unit, "\0") in said)
        or (unit[:1].casefold() == g_unit[:1] and unit)
    )


def match(schema: str, predicted: list[Any], gold: list[Any]) -> list[int | None]:
    """For each predicted value, the gold value it matches (each matched once)."""
    left = list(range(len(gold)))
    found: list[int | None] = []
    same: Callable[[Any, Any], bool] = same_speaker if schema == "speakers" else same_figure
    for value in predicted:
        hit = next((g for g in left if same(value, gold[g])), None)
        if hit is not None:
            left.remove(hit)
        found.append(hit)
    return found


def span_holds(schema: str, gold: Any, span: str | None) -> bool:
    """Does a right value's span hold it (the name, or a number of its amount)?"""
    if span is None:
        return False
    if schema == "speakers":
        return _name(str(gold))[1] in _name(span)[0].split()
    return any(abs(v - float(gold[0])) <= 1e-6 * max(1.0, abs(v)) for v in numbers(span))


@dataclass
class Counts:
    tp: int = 0
    predicted: int = 0
    gold: int = 0
    spans: int = 0

    def __add__(self, other: Counts) -> Counts:
        return Counts(
            self.tp + other.tp,
            self.predicted + other.predicted,
            self.gold + other.gold,
            self.spans + other.spans,
        )


def score(case: Case, prediction: Prediction) -> Counts:
    values = [value for value, _ in prediction.values]
    hits = match(case.schema, values, case.gold)
    spans = sum(
        span_holds(case.schema, case.gold[g], span)
        for g, (_, span) in zip(hits, prediction.values, strict=True)
        if g is not None
    )
    return Counts(sum(g is not None for g in hits), len(values), len(case.gold), spans)


def _ratio(a: int, b: int) -> float | None:
    return a / b if b else None


def bootstrap(per_case: dict[str, list[Counts]], seed: int = 0) -> dict[str, Any]:
    """Pooled precision and recall of each system with 95% intervals, and each
    system's paired difference from langextract, over case resamples."""
    n = len(next(iter(per_case.values())))
    rng = random.Random(seed)
    draws: dict[str, dict[str, list[float | None]]] = {s: {"p": [], "r": []} for s in per_case}
    for _ in range(RESAMPLES):
        pick = [rng.randrange(n) for _ in range(n)]
        for system, counts in per_case.items():
            total = sum((counts[i] for i in pick), Counts())
            draws[system]["p"].append(_ratio(total.tp, total.predicted))
            draws[system]["r"].append(_ratio(total.tp, total.gold))

    def interval(values: Sequence[float | None]) -> list[float] | None:
        ordered = sorted(v for v in values if v is not None)
        if not ordered:
            return None
        low, high = ordered[int(0.025 * len(ordered))], ordered[int(0.975 * len(ordered)) - 1]
        return [round(low, 3), round(high, 3)]

    figures: dict[str, Any] = {}
    for system, counts in per_case.items():
        total = sum(counts, Counts())
        figures[system] = {
            "precision": _ratio(total.tp, total.predicted),
            "precision_ci95": interval(draws[system]["p"]),
            "recall": _ratio(total.tp, total.gold),
            "recall_ci95": interval(draws[system]["r"]),
            "right_values": total.tp,
            "predicted_values": total.predicted,
            "gold_values": total.gold,
            "right_with_span": _ratio(total.spans, total.tp),
        }
        if system != "langextract" and "langextract" in draws:
            for key, name in (("p", "precision"), ("r", "recall")):
                pairs = zip(draws[system][key], draws["langextract"][key], strict=True)
                diffs = [a - b for a, b in pairs if a is not None and b is not None]
                figures[system][f"{name}_minus_langextract_ci95"] = interval(diffs)
    return figures


# --- the systems -------------------------------------------------------------------


class _Quiet(WSGIRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        pass


def serve(settings: Settings) -> tuple[str, Callable[[], None]]:
    """The embedded model on a loopback port: its base URL and a stop function."""
    app = EmbeddedModel(settings).wsgi_app
    httpd = make_server("127.0.0.1", 0, app, handler_class=_Quiet)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    return f"http://127.0.0.1:{httpd.server_port}/v1", httpd.shutdown


def run_newsqa(
    client: newsqa.LLMClient, doc: Document, case: Case, examples: bool, passes: int = 1
) -> Prediction:
    schema = SCHEMAS[case.schema]
    shown = [EXAMPLES[case.schema]] if examples else []
    result = newsqa.extract(doc, schema, client=client, examples=shown, passes=passes)
    values: list[tuple[Any, str | None]] = []
    if case.schema == "speakers":
        for i, name in enumerate(result.value.speakers):  # type: ignore[attr-defined]
            span = result.spans.get(f"speakers[{i}]")
            values.append((name, span.text if span else None))
    else:
        for i, figure in enumerate(result.value.figures):  # type: ignore[attr-defined]
            span = result.spans.get(f"figures[{i}].amount")
            written = span.text if span else ""
            values.append(((figure.amount, figure.unit, written), span.text if span else None))
    return Prediction(values)


def _lx_examples(schema: str) -> list[Any]:
    import langextract as lx

    text, value = EXAMPLES[schema]
    if isinstance(value, Speakers):
        found = [lx.data.Extraction("speaker", name) for name in value.speakers]
    else:
        assert isinstance(value, Figures)
        found = [
            lx.data.Extraction(
                "figure",
                _WRITTEN[f.unit],
                attributes={"amount": str(f.amount), "unit": f.unit},
            )
            for f in value.figures
        ]
    return [lx.data.ExampleData(text=text, extractions=found)]


def run_langextract(base_url: str, model: str, doc: Document, case: Case) -> Prediction:
    import langextract as lx
    from langextract.providers.openai import OpenAILanguageModel

    schema = SCHEMAS[case.schema]
    field_info = next(iter(schema.model_fields.values()))
    language_model = OpenAILanguageModel(
        model_id=model,
        api_key="local",
        base_url=base_url,
        temperature=0.0,
        max_workers=1,
        max_tokens=LX_MAX_TOKENS,
    )
    annotated = lx.extract(
        doc.text,
        prompt_description=field_info.description,
        examples=_lx_examples(case.schema),
        model=language_model,
        fence_output=False,
        use_schema_constraints=False,
        max_workers=1,
        show_progress=False,
    )
    values: list[tuple[Any, str | None]] = []
    for item in annotated.extractions or []:
        interval = item.char_interval
        span = None
        if interval is not None and interval.start_pos is not None and interval.end_pos is not None:
            span = doc.text[interval.start_pos : interval.end_pos]
        if case.schema == "speakers":
            values.append((item.extraction_text, span))
        else:
            attributes = item.attributes or {}
            try:
                amount: float | None = float(str(attributes.get("amount", "")).replace(",", ""))
            except ValueError:
                amount = None
            unit = str(attributes.get("unit", ""))
            values.append(((amount, unit, item.extraction_text), span))
    return Prediction(values)


def _timed(fn: Callable[..., Prediction], *args: Any) -> Prediction:
    start = time.perf_counter()
    try:
        prediction = fn(*args)
    except Exception as e:  # a system that fails on a case scores no value there
        prediction = Prediction(error=f"{type(e).__name__}: {e}"[:300])
    prediction.seconds = round(time.perf_counter() - start, 2)
    return prediction


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--n", type=int, help="only the first N cases")
    parser.add_argument("--only", choices=SYSTEMS, action="append", help="only these systems")
    parser.add_argument("--dev", type=Path, default=DEV, help="the folder of the dev data")
    parser.add_argument(
        "--stop-at",
        type=dt.datetime.fromisoformat,
        help="start no case after this time (ISO, with its zone): the figures are then "
        "those of the cases done, every system on each",
    )
    parser.add_argument(
        "--keep",
        choices=SYSTEMS,
        action="append",
        default=[],
        help="take this system's predictions from the per-case file of an earlier run "
        "where it has one for the case (run it where not)",
    )
    args = parser.parse_args()
    chosen = args.only or list(DEFAULT)
    kept = _kept(args.keep)
    items = sorted(cases(args.n), key=lambda c: SCHEMA_ORDER.index(c.schema))
    docs = articles(args.dev)
    settings = Settings.from_env()
    base_url, stop = serve(settings)
    model = settings.model_name
    client = newsqa.connect(base_url=base_url, model=model, api_key="local", cache=False)
    predictions: dict[str, list[Prediction]] = {s: [] for s in chosen}
    finished: list[Case] = []
    RESULTS.mkdir(exist_ok=True)
    try:
        for number, case in enumerate(items, 1):
            if args.stop_at and dt.datetime.now(dt.UTC) >= args.stop_at:
                print(f"stopped at {args.stop_at}: {len(finished)} of {len(items)} cases done")
                break
            doc = docs[case.article]
            for system in chosen:
                earlier = kept.get((case.article, case.schema, system))
                if earlier is not None:
                    one = earlier
                elif system == "langextract":
                    one = _timed(run_langextract, base_url, model, doc, case)
                else:
                    passes = 2 if system.endswith("2passes") else 1
                    one = _timed(run_newsqa, client, doc, case, system != "newsqa-bare", passes)
                predictions[system].append(one)
            finished.append(case)
            _write_case(case, {s: predictions[s][-1] for s in chosen}, first=number == 1)
            print(f"{number}/{len(items)} {case.article} {case.schema}", flush=True)
    finally:
        client.close()
        stop()
    per_case = {
        s: [score(c, p) for c, p in zip(finished, predictions[s], strict=True)] for s in chosen
    }
    figures = bootstrap(per_case)
    by_schema = {}
    for schema in SCHEMA_ORDER:
        mine = [i for i, c in enumerate(finished) if c.schema == schema]
        if mine:
            by_schema[schema] = bootstrap({s: [per_case[s][i] for i in mine] for s in chosen})
            by_schema[schema]["cases"] = len(mine)
    for system in chosen:
        timed = [p.seconds for p in predictions[system]]
        figures[system]["s_per_case"] = round(sum(timed) / len(timed), 1)
        figures[system]["errors"] = sum(p.error is not None for p in predictions[system])
    report = {
        "cases": len(finished),
        "of": len(items),
        "model": model,
        "systems": figures,
        "by_schema": by_schema,
    }
    (RESULTS / "langextract.json").write_text(json.dumps(report, indent=2) + "\n")
    print(table(figures))
    for schema, rows in by_schema.items():
        print(f"\n{schema} ({rows.pop('cases')} cases)\n{table(rows)}")


def _kept(systems: Sequence[str]) -> dict[tuple[str, str, str], Prediction]:
    """The predictions of ``systems`` in the per-case files of earlier runs, by
    (article, schema, system); read whole before a file is written again."""
    if not systems:
        return {}
    found = {}
    lines = [
        line
        for path in sorted(RESULTS.glob("langextract*.jsonl"))
        for line in path.read_text(encoding="utf-8").splitlines()
    ]
    for line in lines:
        row = json.loads(line)
        for system in systems:
            if system in row and row[system]["error"] is None:
                values = [
                    (tuple(value) if isinstance(value, list) else value, span)
                    for value, span in row[system]["values"]
                ]
                found[(row["article"], row["schema"], system)] = Prediction(
                    values, row[system]["seconds"]
                )
    return found


def _write_case(case: Case, predictions: dict[str, Prediction], *, first: bool) -> None:
    """One case's predictions, appended to the per-case file as it is done:
    ``langextract.jsonl`` for all systems, else ``langextract.<systems>.jsonl``."""
    row: dict[str, Any] = {"article": case.article, "schema": case.schema, "gold": case.gold}
    for system, p in predictions.items():
        row[system] = {"values": p.values, "seconds": p.seconds, "error": p.error}
    name = "" if set(predictions) == set(SYSTEMS) else "." + "+".join(predictions)
    path = RESULTS / f"langextract{name}.jsonl"
    with path.open("w" if first else "a", encoding="utf-8") as out:
        out.write(json.dumps(row, default=str) + "\n")


def table(figures: dict[str, Any]) -> str:
    def fmt(value: Any) -> str:
        if value is None:
            return "–"
        if isinstance(value, float):
            return f"{value:.3f}"
        if isinstance(value, list):
            return f"[{value[0]:.3f}, {value[1]:.3f}]"
        return str(value)

    keys = ["precision", "precision_ci95", "recall", "recall_ci95", "right_with_span", "s_per_case"]
    lines = ["| system | " + " | ".join(keys) + " |", "|---" * (len(keys) + 1) + "|"]
    for system, row in figures.items():
        lines.append(f"| {system} | " + " | ".join(fmt(row.get(k)) for k in keys) + " |")
    return "\n".join(lines)


if __name__ == "__main__":
    main()
