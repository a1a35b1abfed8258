"""The ``newsqa`` command: thin over the public Python API (``import newsqa`` only).

Results go to stdout (human text, or the JSON contract with ``--json``);
progress, the endpoint in use and the tokens spent go to stderr. User and
configuration errors exit 2 with one line, failures of the model endpoint exit 1
with one line; neither shows a traceback.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import shutil
import sqlite3
import sys
import textwrap
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, TypeVar

from pydantic import BaseModel
from tqdm import tqdm

import newsqa
from newsqa import (
    Answer,
    ClaimCheck,
    ConfigError,
    Corpus,
    CorpusStanceReport,
    Document,
    DocumentError,
    Evidence,
    Extraction,
    LLMClient,
    LLMError,
    NewsQAError,
    OutputValidationError,
    StanceReport,
    StanceTimeline,
    Summary,
    TargetStance,
    Usage,
)

__all__ = ["main"]

_T = TypeVar("_T")

EXIT_USAGE = 2
EXIT_FAILURE = 1


def _positive(value: str) -> int:
    try:
        number = int(value)
    except ValueError as e:
        raise argparse.ArgumentTypeError(f"not a whole number: {value!r}") from e
    if number < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1: {number}")
    return number


def _date(value: str) -> dt.date:
    day = newsqa.parse_date(value)
    if day is None:
        raise argparse.ArgumentTypeError(
            f"not a full date (2024-11-08, 'November 8, 2024', RFC 2822): {value!r}"
        )
    return day


def _actor(value: str) -> tuple[str, list[str]]:
    """``--actor NAME`` or ``--actor NAME=ALIAS,ALIAS``: an actor and its other names."""
    name, _, aliases = value.partition("=")
    others = [a.strip() for a in aliases.split(",") if a.strip()]
    if not name.strip() or ("=" in value and not others):
        raise argparse.ArgumentTypeError(f"expected NAME or NAME=ALIAS,ALIAS: {value!r}")
    return name.strip(), others


def _add_actors(p: argparse.ArgumentParser) -> None:
    """``--actor`` (repeatable) and ``--max-actors``: who the stance commands ask about."""
    p.add_argument("--max-actors", type=_positive, default=5, help="default: %(default)s")
    p.add_argument(
        "--actor",
        type=_actor,
        action="append",
        metavar="NAME[=ALIAS,...]",
        help="an actor to ask about first, with the other names the text may use for it "
        "(repeatable; added to the built-in countries and organisations)",
    )


def _actors(args: argparse.Namespace) -> dict[str, list[str]] | None:
    """The ``--actor`` options as ``actors=`` (name → its names, itself included)."""
    if not args.actor:
        return None
    return {name: [name, *aliases] for name, aliases in args.actor}


def _add_period(p: argparse.ArgumentParser) -> None:
    """``--since``/``--until``: a corpus command's dates (any full date a document takes)."""
    p.add_argument("--since", type=_date, help="only articles dated on/after this day")
    p.add_argument("--until", type=_date, help="only articles dated on/before this day")


def _parser() -> argparse.ArgumentParser:
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--json", action="store_true", help="print the JSON contract")
    common.add_argument(
        "--usage",
        action="store_true",
        help='with --json: add "usage" (model calls and tokens) to the output',
    )
    common.add_argument("--base-url", help="OpenAI-compatible endpoint (else OPENAI_BASE_URL)")
    common.add_argument("--model", help="model name (else NEWSQA_MODEL)")
    common.add_argument("--model-path", help="GGUF file for the embedded backend")
    common.add_argument(
        "--context-tokens", type=_positive, help="prompt budget before map-reduce (default 3000)"
    )
    common.add_argument("-q", "--quiet", action="store_true", help="no progress on stderr")
    common.add_argument(
        "--no-cache",
        action="store_true",
        help="do not reuse or store responses (cache: NEWSQA_CACHE_DIR)",
    )
    one = "text file, .jsonl of one record, or - for stdin"
    many = "text files, folders, .jsonl files, or - for stdin"
    schema = "a JSON Schema file (schema.json) or a Pydantic model (package.module:Model)"

    parser = argparse.ArgumentParser(
        prog="newsqa",
        description="Grounded summaries, stances and cited answers from news articles.",
    )
    parser.add_argument("--version", action="version", version=f"newsqa {newsqa.__version__}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    p = sub.add_parser("summarize", parents=[common], help="summarize an article")
    p.add_argument("path", help=one)
    p = sub.add_parser("stances", parents=[common], help="each actor's stance on a topic")
    p.add_argument("path", nargs="?", help=f"{one} (or --db)")
    p.add_argument("--topic", default=newsqa.DEFAULT_TOPIC, help="default: %(default)s")
    _add_actors(p)
    p.add_argument("--db", help="stances across this corpus (built by `newsqa index`)")
    _add_period(p)
    p.add_argument("--k", type=_positive, help="passages to retrieve with --db (default 12)")
    p = sub.add_parser("report", parents=[common], help="summary and stances in one run")
    p.add_argument("path", help=one)
    p.add_argument("--topic", default=newsqa.DEFAULT_TOPIC, help="default: %(default)s")
    _add_actors(p)
    p = sub.add_parser(
        "timeline", parents=[common], help="each actor's stance across dated articles"
    )
    p.add_argument("paths", nargs="+", help=many)
    p.add_argument("--topic", default=newsqa.DEFAULT_TOPIC, help="default: %(default)s")
    _add_actors(p)
    p = sub.add_parser("batch", parents=[common], help="run a task over many documents")
    p.add_argument("inputs", nargs="+", help=many)
    p.add_argument("-o", "--output", required=True, help="JSONL file to append results to")
    p.add_argument("--task", choices=["summarize", "stances", "ask", "extract"], required=True)
    p.add_argument("-Q", "--question", help="the question, for --task ask")
    p.add_argument("--as-of", type=_date, help="for --task ask: the day the question is asked")
    p.add_argument("--topic", default=newsqa.DEFAULT_TOPIC, help="for --task stances")
    p.add_argument("--schema", help=f"for --task extract: {schema}")
    p.add_argument("--instructions", help="for --task extract: extra guidance for the model")
    p.add_argument(
        "--concurrency",
        type=_positive,
        default=1,
        help="documents in flight at once (remote endpoints; default 1)",
    )
    p = sub.add_parser(
        "extract", parents=[common], help="fill your own schema, each value with its sentences"
    )
    p.add_argument("paths", nargs="+", help=many)
    p.add_argument("--schema", required=True, help=schema)
    p.add_argument("--instructions", help="extra guidance for the model")
    p = sub.add_parser("index", help="add files, folders or .jsonl records to a corpus")
    p.add_argument("paths", nargs="+", help=many)
    p.add_argument("--db", required=True, help="the corpus (SQLite file)")
    p.add_argument("--prune", action="store_true", help="remove documents not given")
    p.add_argument("-q", "--quiet", action="store_true", help="no progress on stderr")
    p = sub.add_parser("ask", parents=[common], help="answer a question with citations")
    p.add_argument("paths", nargs="*", help=many)
    p.add_argument("-Q", "--question", required=True, help="the question")
    p.add_argument("--db", help="answer from this corpus (built by `newsqa index`)")
    _add_period(p)
    p.add_argument("--k", type=_positive, default=6, help="passages to retrieve (default 6)")
    p.add_argument(
        "--as-of",
        type=_date,
        help="the day the question is asked: its 'this week' or 'today' is not answered "
        "from documents dated outside that time (with --db, --until sets it)",
    )
    p.add_argument(
        "--choice",
        action="append",
        dest="choices",
        metavar="OPTION",
        help="an option of a multiple-choice question (repeat: --choice A --choice B)",
    )
    p = sub.add_parser("check", parents=[common], help="does an article confirm a claim?")
    p.add_argument("path", help=one)
    p.add_argument("--claim", required=True, help="the claim, e.g. a headline")
    p = sub.add_parser(
        "stance-toward", parents=[common], help="the author's attitude toward targets"
    )
    p.add_argument("path", help=one)
    p.add_argument(
        "--target",
        action="append",
        dest="targets",
        required=True,
        help="e.g. Russia (repeat for several targets)",
    )
    return parser


class _CallCounter:
    """A stderr counter of model calls and tokens, shown while a command runs."""

    def __init__(self, desc: str, quiet: bool) -> None:
        self._bar = tqdm(
            unit=" calls", desc=desc, disable=quiet, file=sys.stderr, leave=False, total=None
        )

    def __call__(self, usage: Usage) -> None:
        self._bar.set_postfix_str(f"{usage.prompt_tokens} tokens in", refresh=False)
        self._bar.update(usage.calls - self._bar.n)

    def close(self) -> None:
        self._bar.close()


def _client(args: argparse.Namespace) -> LLMClient:
    client = newsqa.connect(
        base_url=args.base_url,
        model=args.model,
        model_path=args.model_path,
        context_tokens=args.context_tokens,
        cache=not args.no_cache,
        progress=not args.quiet,
    )
    args.open_client = client  # closed by main() whatever happens
    return client


def _one_document(path: str) -> Document:
    """The single document at ``path`` (a text file, a one-record .jsonl, or ``-``)."""
    docs = newsqa.load_documents([path])
    if len(docs) != 1:
        raise ValueError(
            f"{path} holds {len(docs)} documents and this command takes one; "
            "use `newsqa batch` for many"
        )
    return docs[0]


def _status(args: argparse.Namespace, message: str) -> None:
    if not args.quiet:
        print(message, file=sys.stderr, flush=True)


def _usage_line(usage: Usage, client: LLMClient) -> str:
    line = (
        f"{usage.calls} model calls, {usage.prompt_tokens} tokens in, {usage.completion_tokens} out"
    )
    prices = client.settings.prices
    if prices:
        line += f"; estimated cost {usage.cost(*prices):.4f}"
    return line


def _since(before: Usage, now: Usage) -> Usage:
    return Usage(
        calls=now.calls - before.calls,
        prompt_tokens=now.prompt_tokens - before.prompt_tokens,
        completion_tokens=now.completion_tokens - before.completion_tokens,
    )


def _run_task(
    args: argparse.Namespace, doing: str, task: Callable[..., _T], *a: Any, **kw: Any
) -> _T:
    """Connect, say what runs where, run ``task(*a, client=..., **kw)`` with a live call
    counter, then report the calls and tokens it took."""
    client = _client(args)
    _status(args, f"{doing} with {client.endpoint}…")
    counter = _CallCounter(doing.split(" ", 1)[0], args.quiet)
    before = client.usage
    client.on_call = lambda usage: counter(_since(before, usage))
    try:
        result = task(*a, client=client, **kw)
    finally:
        counter.close()
    spent = _since(before, client.usage)
    args.spent = spent
    _status(args, _usage_line(spent, client))
    return result


def _dump(args: argparse.Namespace, data: Any) -> str:
    """The JSON output, with ``usage`` added when asked for."""
    if args.usage:
        spent = getattr(args, "spent", None) or Usage()
        if not isinstance(data, dict):
            data = {"results": data}
        data = {**data, "usage": spent.model_dump()}
    return json.dumps(data, indent=2, ensure_ascii=False)


def _width() -> int:
    return max(60, shutil.get_terminal_size((100, 24)).columns)


def _quote(ev: Evidence) -> str:
    return f'[{ev.sentence_id}] "{ev.text}" ({ev.start}-{ev.end})'


def _wrap(text: str, indent: str, width: int | None = None) -> str:
    return textwrap.fill(
        text, width=width or min(_width(), 100), initial_indent=indent, subsequent_indent=indent
    )


def format_summary(result: Summary) -> str:
    """Human-readable summary with evidence under each key point."""
    lines = [
        result.headline,
        "=" * min(len(result.headline), 100),
        _wrap(result.summary, ""),
        "",
        "Key points:",
    ]
    for kp in result.key_points:
        lines.append(_wrap("- " + kp.text, "  "))
        lines.extend(_wrap(_quote(ev), "      ") for ev in kp.evidence)
    return "\n".join(lines)


def _table_rows(actor: str, label: str, position: str, width: int) -> list[str]:
    """One ACTOR / LABEL / POSITION row, the position wrapped to the terminal width."""
    indent = " " * (width + 15)
    wrapped = textwrap.wrap(position, width=max(20, _width() - len(indent))) or [""]
    first = f"{actor:<{width}}  {label:<11}  {wrapped[0]}"
    return [first, *(indent + line for line in wrapped[1:])]


def format_stances(result: StanceReport) -> str:
    """Human-readable table of stances, evidence under each row."""
    if not result.stances:
        return f"Topic: {result.topic}\nNo actor takes a position in this text."
    width = max(len(s.actor) for s in result.stances)
    lines = [
        f"Topic: {result.topic}",
        "",
        f"{'ACTOR':<{width}}  {'LABEL':<11}  POSITION",
        f"{'-' * width}  {'-' * 11}  {'-' * 40}",
    ]
    for s in result.stances:
        lines.extend(_table_rows(s.actor, s.label, s.position, width))
        lines.extend(
            _wrap("evidence " + _quote(ev), " " * (width + 15), _width()) for ev in s.evidence
        )
    return "\n".join(lines)


def format_answer(result: Answer) -> str:
    """Human-readable answer with its citations, or the abstention."""
    if not result.answerable:
        return f"Q: {result.question}\nA: (not answered: the documents do not say)"
    lines = [f"Q: {result.question}", f"A: {result.answer}", "", "Citations:"]
    lines.extend(_wrap(f'{c.doc} {c.start}-{c.end}: "{c.text}"', "  ") for c in result.citations)
    return "\n".join(lines)


def format_claim(result: ClaimCheck) -> str:
    """Human-readable verdict on a claim with its evidence."""
    lines = [f"Claim: {result.claim}", f"Verdict: {result.label}"]
    lines.extend(_wrap("evidence " + _quote(ev), "  ") for ev in result.evidence)
    return "\n".join(lines)


def format_target_stances(results: Sequence[TargetStance]) -> str:
    """Human-readable attitude toward each target, evidence under each."""
    lines = []
    for r in results:
        lines.append(f"{r.target}: {r.label}")
        lines.extend(_wrap("evidence " + _quote(ev), "  ") for ev in r.evidence)
    return "\n".join(lines)


def _leaf(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)


def format_extraction(result: Extraction[Any]) -> str:
    """Human-readable extraction: one line per field path with its value, the cited
    sentences (id, text, offsets) under it; a field without evidence is "not stated"."""
    lines = [f"{type(result.value).__name__} from {result.doc}"]
    for row in result.records():
        path, value = row["field"], row["value"]
        cited = result.evidence.get(path, [])
        if cited:
            lines.append(_wrap(f"{path}: {_leaf(value)}", "  "))
            lines.extend(_wrap(_quote(ev), "      ") for ev in cited)
        elif value is None or value == []:
            lines.append(f"  {path}: not stated")
        else:
            lines.append(_wrap(f"{path}: {_leaf(value)} (default; not stated)", "  "))
    return "\n".join(lines)


def format_timeline(result: StanceTimeline) -> str:
    """Human-readable timeline: per actor, its dated points with evidence; a point whose
    label differs from the actor's previous one is marked CHANGED."""
    if not result.actors:
        return f"Topic: {result.topic}\nNo actor takes a position in these documents."
    lines = [f"Topic: {result.topic}"]
    for actor, points in result.actors.items():
        changes = sum(p.changed for p in points)
        lines += ["", f"{actor}: {len(points)} point(s), {changes} change(s)"]
        for p in points:
            when = p.date.isoformat() if p.date else "undated"
            flag = "CHANGED" if p.changed else ""
            row = f"  {when:<10}  {p.label:<11}  {flag:<7}  {p.doc}: {p.position}"
            lines.append(textwrap.fill(row, width=_width(), subsequent_indent=" " * 36))
            lines.extend(_wrap("evidence " + _quote(ev), " " * 14) for ev in p.evidence)
    return "\n".join(lines)


def format_corpus_stances(result: CorpusStanceReport) -> str:
    """Human-readable stances across articles: each evidence line dated and sourced."""
    period = ""
    if result.since or result.until:
        period = f" ({result.since or '…'} to {result.until or '…'})"
    if not result.stances:
        return (
            f"Topic: {result.topic}{period}\nNo actor takes a position in the retrieved articles."
        )
    width = max(len(s.actor) for s in result.stances)
    lines = [
        f"Topic: {result.topic}{period}",
        "",
        f"{'ACTOR':<{width}}  {'LABEL':<11}  POSITION",
        f"{'-' * width}  {'-' * 11}  {'-' * 40}",
    ]
    for s in result.stances:
        lines.extend(_table_rows(s.actor, s.label, s.position, width))
        for ev in s.evidence:
            where = f"{ev.date or 'undated'} {ev.doc} [{ev.sentence_id}]"
            lines.append(
                _wrap(f'{where} "{ev.text}" ({ev.start}-{ev.end})', " " * (width + 15), _width())
            )
    return "\n".join(lines)


def _timeline(args: argparse.Namespace) -> str:
    docs = newsqa.load_documents(args.paths)
    with tqdm(
        total=len(docs), unit="doc", disable=args.quiet, file=sys.stderr, desc="stances"
    ) as bar:

        def advance(_doc: Document) -> None:
            bar.update(1)

        timeline = _run_task(
            args,
            f"finding stances on {args.topic!r} in {len(docs)} document(s)",
            newsqa.stance_timeline,
            docs,
            args.topic,
            max_actors=args.max_actors,
            actors=_actors(args),
            on_done=advance,
        )
    return _dump(args, timeline.to_dict()) if args.json else format_timeline(timeline)


def _corpus_stances(args: argparse.Namespace) -> str:
    if not args.db:
        raise ValueError("--since/--until/--k need --db")
    if args.path:
        raise ValueError("give either an article or --db, not both")
    if args.since and args.until and args.since > args.until:
        raise ValueError("--since is after --until")
    with Corpus(args.db, create=False) as corpus:
        report = _run_task(
            args,
            f"finding stances on {args.topic!r} in {args.db}",
            corpus.stances,
            args.topic,
            k=args.k or 12,
            since=args.since,
            until=args.until,
            max_actors=args.max_actors,
            actors=_actors(args),
        )
        _report_undated(args, corpus)
    return _dump(args, report.to_dict()) if args.json else format_corpus_stances(report)


def _report_undated(args: argparse.Namespace, corpus: Corpus) -> None:
    """Say how many documents a date bound left out for having no date."""
    if args.since or args.until:
        undated = corpus.undated()
        if undated:
            print(
                f"newsqa: {undated} undated document(s) left out by --since/--until",
                file=sys.stderr,
            )


def _schema(spec: str) -> type[BaseModel]:
    """The model ``--schema`` names: a JSON Schema file, or ``package.module:Model``
    (imported with the working directory on the path, as ``python -m`` would)."""
    if Path(spec).exists() or ":" not in spec or spec.lower().endswith(".json"):
        return newsqa.model_from_json_schema(spec)
    here = os.getcwd()
    added = here not in sys.path
    if added:
        sys.path.insert(0, here)
    try:
        return newsqa.import_model(spec)
    finally:
        if added and here in sys.path:
            sys.path.remove(here)


def _extract(args: argparse.Namespace) -> str:
    model = _schema(args.schema)  # a bad schema is refused before any input is read
    docs = newsqa.load_documents(args.paths)
    results: list[Extraction[Any]] = []
    failed: list[str] = []
    with tqdm(
        total=len(docs), unit="doc", disable=args.quiet or len(docs) < 2, file=sys.stderr
    ) as bar:

        def each(documents: list[Document], *, client: LLMClient) -> None:
            for doc in documents:
                try:
                    results.append(
                        newsqa.extract(doc, model, client=client, instructions=args.instructions)
                    )
                except OutputValidationError as e:  # that document only; the others go on
                    failed.append(doc.id)
                    print(
                        newsqa.printable(
                            f"newsqa: {doc.id}: the model's output never validated "
                            f"({len(e.attempts)} tries)"
                        ),
                        file=sys.stderr,
                    )
                bar.update(1)

        _run_task(args, f"extracting {model.__name__} from {len(docs)} document(s)", each, docs)
    if args.json:
        lines = []
        for result in results:
            data = result.to_dict()
            if args.usage:
                data["usage"] = result.usage.model_dump()
            lines.append(json.dumps(data, ensure_ascii=False))
        output = "\n".join(lines)
    else:
        output = "\n\n".join(format_extraction(r) for r in results)
    if failed:
        raise _Failed(output, f"{len(failed)} of {len(docs)} documents failed: {', '.join(failed)}")
    return output


class _Failed(Exception):
    """A command that printed its output but must exit 1 (some documents failed)."""

    def __init__(self, output: str, message: str) -> None:
        super().__init__(message)
        self.output = output


def _batch(args: argparse.Namespace) -> str:
    if args.task == "ask" and not args.question:
        raise ValueError("--task ask needs --question")
    if args.task == "extract" and not args.schema:
        raise ValueError("--task extract needs --schema")
    if args.task != "extract" and (args.schema or args.instructions):
        raise ValueError("--schema and --instructions are for --task extract")
    if args.task != "ask" and args.as_of:
        raise ValueError("--as-of is for --task ask")
    model = _schema(args.schema) if args.schema else None  # refused before any input
    # Every input is read first, so a missing path or two documents with one id are
    # refused before any model call.
    inputs = list(newsqa.iter_inputs(args.inputs))
    client = _client(args)
    _status(args, f"{args.task} over {' '.join(args.inputs)} with {client.endpoint}…")
    with tqdm(
        total=len(inputs), unit="doc", disable=args.quiet, file=sys.stderr, desc=f"{args.task}"
    ) as bar:

        def advance(_id: str, _ok: bool) -> None:
            bar.update(1)

        report = newsqa.batch(
            inputs,
            args.task,
            args.output,
            client=client,
            question=args.question,
            topic=args.topic,
            schema=model,
            instructions=args.instructions,
            as_of=args.as_of,
            concurrency=args.concurrency,
            on_done=advance,
        )
        bar.update(report.skipped)
    args.spent = report.usage
    if args.json:
        output = _dump(args, {"output": args.output, **report.to_dict()})
    else:
        output = (
            f"{args.output}: {report.done} done, {report.failed} failed, "
            f"{report.skipped} already done; {_usage_line(report.usage, client)}"
        )
    if report.failed:
        total = report.done + report.failed
        raise _Failed(output, f"{report.failed} of {total} documents failed (see {args.output})")
    return output


def _index(args: argparse.Namespace) -> str:
    docs: list[Document] = []
    failures = 0
    for item in newsqa.iter_inputs(args.paths):  # every path is checked before the corpus opens
        if isinstance(item, DocumentError):
            failures += 1
            print(newsqa.printable(f"newsqa: skipped: {item}"), file=sys.stderr)
        else:
            docs.append(item)
    if failures and args.prune:
        raise ValueError(
            f"{failures} input(s) failed to load: not pruning (their documents "
            "would be removed); fix or remove them first"
        )
    with (
        Corpus(args.db) as corpus,
        tqdm(
            total=len(docs), unit="doc", disable=args.quiet, file=sys.stderr, desc="indexing"
        ) as bar,
    ):

        def advance(_doc: Document, _outcome: str) -> None:
            bar.update(1)

        stats = corpus.add(docs, prune=args.prune, on_done=advance)
        size = len(corpus)
    undated = sum(1 for d in docs if d.date is None)
    return (
        f"{args.db}: {stats.added} added, {stats.replaced} replaced, "
        f"{stats.unchanged} unchanged, {stats.pruned} pruned, {failures} skipped, "
        f"{undated} undated; {size} documents"
    )


def _ask_corpus(args: argparse.Namespace) -> str:
    if args.paths:
        raise ValueError("give either documents or --db, not both")
    with Corpus(args.db, create=False) as corpus:
        answer = _run_task(
            args,
            f"answering from {args.db}",
            corpus.ask,
            args.question,
            k=args.k,
            since=args.since,
            until=args.until,
            choices=args.choices,
        )
        _report_undated(args, corpus)
        if args.json:
            return _dump(args, answer.to_dict())
        lines = [format_answer(answer)]
        for c in answer.citations:
            doc = corpus.document(c.doc)
            lines.append(f"  ({c.doc}: {doc.date or 'undated'}, {doc.title or 'untitled'})")
    return "\n".join(lines)


def _run(args: argparse.Namespace) -> str:
    if args.command == "summarize":
        doc = _one_document(args.path)
        summary = _run_task(args, f"summarizing {doc.id}", newsqa.summarize, doc)
        return _dump(args, summary.to_dict()) if args.json else format_summary(summary)
    if args.command == "stances":
        if args.db or args.since or args.until or args.k:
            return _corpus_stances(args)
        if not args.path:
            raise ValueError("give an article, or --db CORPUS")
        doc = _one_document(args.path)
        report = _run_task(
            args,
            f"finding stances on {args.topic!r} in {doc.id}",
            newsqa.analyze_stances,
            doc,
            args.topic,
            max_actors=args.max_actors,
            actors=_actors(args),
        )
        return _dump(args, report.to_dict()) if args.json else format_stances(report)
    if args.command == "batch":
        return _batch(args)
    if args.command == "extract":
        return _extract(args)
    if args.command == "timeline":
        return _timeline(args)
    if args.command == "report":
        doc = _one_document(args.path)

        def both(document: Document, *, client: LLMClient) -> tuple[Summary, StanceReport]:
            summary = newsqa.summarize(document, client=client)
            _status(args, f"finding stances on {args.topic!r}…")
            stances = newsqa.analyze_stances(
                document,
                args.topic,
                client=client,
                max_actors=args.max_actors,
                actors=_actors(args),
            )
            return summary, stances

        summary, report = _run_task(args, f"summarizing {doc.id}", both, doc)
        if args.json:
            return _dump(args, {"summary": summary.to_dict(), "stances": report.to_dict()})
        return format_summary(summary) + "\n\n" + format_stances(report)
    if args.command == "index":
        return _index(args)
    if args.command == "check":
        doc = _one_document(args.path)
        verdict = _run_task(
            args, f"checking the claim against {doc.id}", newsqa.check_claim, doc, args.claim
        )
        return _dump(args, verdict.to_dict()) if args.json else format_claim(verdict)
    if args.command == "stance-toward":
        doc = _one_document(args.path)
        results = _run_task(
            args,
            f"reading {doc.id}'s attitude toward {', '.join(args.targets)}",
            newsqa.stances_toward,
            doc,
            args.targets,
        )
        if args.json:
            return _dump(args, [r.to_dict() for r in results])
        return format_target_stances(results)
    if args.since and args.until and args.since > args.until:
        raise ValueError("--since is after --until")
    if args.db:
        if args.as_of:
            raise ValueError("with --db, the question's date is --until (not --as-of)")
        return _ask_corpus(args)
    if not args.paths:
        raise ValueError("give documents to ask, or --db CORPUS")
    if args.since or args.until:
        raise ValueError("--since/--until need --db")
    docs = newsqa.load_documents(args.paths)
    answer = _run_task(
        args,
        f"answering from {len(docs)} document(s)",
        newsqa.ask,
        docs,
        args.question,
        choices=args.choices,
        as_of=args.as_of,
    )
    return _dump(args, answer.to_dict()) if args.json else format_answer(answer)


def _run_and_close(args: argparse.Namespace) -> str:
    try:
        return _run(args)
    finally:
        client = getattr(args, "open_client", None)
        if client is not None:
            client.close()


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``newsqa`` command; returns the exit status."""
    args = _parser().parse_args(argv)
    try:
        output = _run_and_close(args)
    except (DocumentError, ConfigError, ValueError, OSError, sqlite3.Error) as e:
        first = str(e).splitlines()[0] if str(e) else type(e).__name__
        print(newsqa.printable(f"newsqa: error: {first}"), file=sys.stderr)
        return EXIT_USAGE
    except OutputValidationError as e:
        print(
            f"newsqa: the model's output never validated ({len(e.attempts)} tries); "
            f"last output: {e.raw_output[:200]!r}",
            file=sys.stderr,
        )
        return EXIT_FAILURE
    except (LLMError, NewsQAError) as e:
        print(newsqa.printable(f"newsqa: {str(e).splitlines()[0]}"), file=sys.stderr)
        return EXIT_FAILURE
    except _Failed as e:
        if e.output:
            print(e.output if getattr(args, "json", False) else newsqa.printable(e.output))
        print(f"newsqa: {e}", file=sys.stderr)
        return EXIT_FAILURE
    except KeyboardInterrupt:
        print("newsqa: interrupted", file=sys.stderr)
        return 130
    print(output if getattr(args, "json", False) else newsqa.printable(output))
    return 0


if __name__ == "__main__":
    sys.exit(main())
