"""The ``newsqa`` command: thin over the Python API.

Results go to stdout (human text, or the JSON contract with ``--json``);
progress and errors go to stderr. User errors exit 2 with one line, failures of
the model endpoint exit 1 with one line; neither shows a traceback.
"""

from __future__ import annotations

import argparse
import datetime as dt
import itertools
import json
import os
import sqlite3
import sys
import textwrap
from collections.abc import Sequence
from pathlib import Path

from tqdm import tqdm

from newsqa import api
from newsqa.config import Settings
from newsqa.corpus import Corpus
from newsqa.documents import iter_inputs, load_document, load_documents
from newsqa.documents.load import TEXT_SUFFIXES
from newsqa.errors import ConfigError, DocumentError, LLMError, NewsQAError, OutputValidationError
from newsqa.llm.cache import ResponseCache
from newsqa.llm.client import LLMClient
from newsqa.llm.model_files import MODEL_SIZE, ensure_model, model_ready
from newsqa.safe_text import printable
from newsqa.tasks.batch import run_batch
from newsqa.types import (
    Answer,
    ClaimCheck,
    CorpusStanceReport,
    Document,
    Evidence,
    StanceReport,
    StanceTimeline,
    Summary,
    TargetStance,
)

__all__ = ["main"]

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
    try:
        return dt.date.fromisoformat(value)
    except ValueError as e:
        raise argparse.ArgumentTypeError(f"not a date (YYYY-MM-DD): {value!r}") from e


def _parser() -> argparse.ArgumentParser:
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--json", action="store_true", help="print the JSON contract")
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

    parser = argparse.ArgumentParser(
        prog="newsqa",
        description="Grounded summaries, stances and cited answers from news articles.",
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    p = sub.add_parser("summarize", parents=[common], help="summarize an article")
    p.add_argument("path", help="text file of the article")
    p = sub.add_parser("stances", parents=[common], help="each actor's stance on a topic")
    p.add_argument("path", nargs="?", help="text file of the article (or --db)")
    p.add_argument("--topic", default=api.DEFAULT_TOPIC, help="default: %(default)s")
    p.add_argument("--max-actors", type=_positive, default=5, help="default: %(default)s")
    p.add_argument("--db", help="stances across this corpus (built by `newsqa index`)")
    p.add_argument("--since", type=_date, help="only articles dated on/after YYYY-MM-DD")
    p.add_argument("--until", type=_date, help="only articles dated on/before YYYY-MM-DD")
    p.add_argument("--k", type=_positive, help="passages to retrieve with --db (default 12)")
    p = sub.add_parser("report", parents=[common], help="summary and stances in one run")
    p.add_argument("path", help="text file of the article")
    p.add_argument("--topic", default=api.DEFAULT_TOPIC, help="default: %(default)s")
    p.add_argument("--max-actors", type=_positive, default=5, help="default: %(default)s")
    p = sub.add_parser(
        "timeline", parents=[common], help="each actor's stance across dated articles"
    )
    p.add_argument("paths", nargs="+", help="text files, folders or .jsonl files")
    p.add_argument("--topic", default=api.DEFAULT_TOPIC, help="default: %(default)s")
    p.add_argument("--max-actors", type=_positive, default=5, help="default: %(default)s")
    p = sub.add_parser("batch", parents=[common], help="run a task over many documents")
    p.add_argument("input", help="folder of .txt/.md files, or a .jsonl of records")
    p.add_argument("-o", "--output", required=True, help="JSONL file to append results to")
    p.add_argument("--task", choices=["summarize", "stances", "ask"], required=True)
    p.add_argument("-Q", "--question", help="the question, for --task ask")
    p.add_argument("--topic", default=api.DEFAULT_TOPIC, help="for --task stances")
    p.add_argument(
        "--concurrency",
        type=_positive,
        default=1,
        help="documents in flight at once (remote endpoints; default 1)",
    )
    p = sub.add_parser("index", help="add files, folders or .jsonl records to a corpus")
    p.add_argument("paths", nargs="+", help="text files, folders or .jsonl files")
    p.add_argument("--db", required=True, help="the corpus (SQLite file)")
    p.add_argument("--prune", action="store_true", help="remove documents not given")
    p.add_argument("-q", "--quiet", action="store_true", help="no progress on stderr")
    p = sub.add_parser("ask", parents=[common], help="answer a question with citations")
    p.add_argument("paths", nargs="*", help="text files, folders or .jsonl files")
    p.add_argument("-Q", "--question", required=True, help="the question")
    p.add_argument("--db", help="answer from this corpus (built by `newsqa index`)")
    p.add_argument("--since", type=_date, help="only articles dated on/after YYYY-MM-DD")
    p.add_argument("--until", type=_date, help="only articles dated on/before YYYY-MM-DD")
    p.add_argument("--k", type=_positive, default=6, help="passages to retrieve (default 6)")
    p.add_argument(
        "--choice",
        action="append",
        dest="choices",
        metavar="OPTION",
        help="an option of a multiple-choice question (repeat: --choice A --choice B)",
    )
    p = sub.add_parser("check", parents=[common], help="does an article confirm a claim?")
    p.add_argument("path", help="text file of the article")
    p.add_argument("--claim", required=True, help="the claim, e.g. a headline")
    p = sub.add_parser(
        "stance-toward", parents=[common], help="the author's attitude toward targets"
    )
    p.add_argument("path", help="text file of the article or post")
    p.add_argument(
        "--target",
        action="append",
        dest="targets",
        required=True,
        help="e.g. Russia (repeat for several targets)",
    )
    return parser


def _client(args: argparse.Namespace) -> LLMClient:
    settings = Settings.from_env(
        base_url=args.base_url,
        model=args.model,
        model_path=args.model_path,
        context_tokens=args.context_tokens,
    )
    if settings.embedded and settings.model_path is None and not model_ready(settings.cache_dir):
        with tqdm(
            total=MODEL_SIZE,
            unit="B",
            unit_scale=True,
            disable=args.quiet,
            desc="preparing embedded model (once)",
            file=sys.stderr,
            leave=False,
        ) as bar:

            def advance(done: int, _total: int) -> None:
                bar.update(done - bar.n)

            ensure_model(settings.cache_dir, progress=advance)
    cache = None if args.no_cache else ResponseCache(settings.cache_dir / "responses.sqlite")
    client = LLMClient(settings, cache=cache)
    args.open_client = client  # closed by main() whatever happens
    return client


def _status(args: argparse.Namespace, message: str) -> None:
    if not args.quiet:
        print(message, file=sys.stderr, flush=True)


def _quote(ev: Evidence) -> str:
    return f'[{ev.sentence_id}] "{ev.text}" ({ev.start}-{ev.end})'


def _wrap(text: str, indent: str) -> str:
    return textwrap.fill(text, width=100, initial_indent=indent, subsequent_indent=indent)


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
        lines.append(f"{s.actor:<{width}}  {s.label:<11}  {s.position}")
        lines.extend(_wrap("evidence " + _quote(ev), " " * (width + 15)) for ev in s.evidence)
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
            lines.append(f"  {when:<10}  {p.label:<11}  {flag:<7}  {p.doc}: {p.position}")
            lines.extend(_wrap("evidence " + _quote(ev), " " * 14) for ev in p.evidence)
    return "\n".join(lines)


def _timeline(args: argparse.Namespace) -> str:
    docs = load_documents(Path(p) for p in args.paths)
    client = _client(args)
    with tqdm(
        total=len(docs), unit="doc", disable=args.quiet, file=sys.stderr, desc="stances"
    ) as bar:

        def advance(_doc: Document) -> None:
            bar.update(1)

        timeline = api.stance_timeline(
            docs, args.topic, client=client, max_actors=args.max_actors, on_done=advance
        )
    return timeline.to_json(indent=2) if args.json else format_timeline(timeline)


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
        lines.append(f"{s.actor:<{width}}  {s.label:<11}  {s.position}")
        for ev in s.evidence:
            where = f"{ev.date or 'undated'} {ev.doc} [{ev.sentence_id}]"
            lines.append(_wrap(f'{where} "{ev.text}" ({ev.start}-{ev.end})', " " * (width + 15)))
    return "\n".join(lines)


def _corpus_stances(args: argparse.Namespace) -> str:
    if not args.db:
        raise ValueError("--since/--until/--k need --db")
    if args.path:
        raise ValueError("give either an article or --db, not both")
    if args.since and args.until and args.since > args.until:
        raise ValueError("--since is after --until")
    corpus = Corpus(args.db, create=False)
    try:
        client = _client(args)
        _status(args, f"finding stances on {args.topic!r} in {args.db} with {client.model}…")
        report = corpus.stances(
            args.topic,
            client=client,
            k=args.k or 12,
            since=args.since,
            until=args.until,
            max_actors=args.max_actors,
        )
    finally:
        corpus.close()
    u = report.usage
    _status(args, f"{u.calls} model calls, {u.prompt_tokens} tokens in, {u.completion_tokens} out")
    return report.to_json(indent=2) if args.json else format_corpus_stances(report)


def _count_inputs(path: Path) -> int | None:
    if path.is_dir():
        return sum(1 for p in path.iterdir() if p.suffix.lower() in TEXT_SUFFIXES)
    if path.is_file():
        with path.open("rb") as fh:
            return sum(1 for line in fh if line.strip())
    return None


def _batch(args: argparse.Namespace) -> str:
    if args.task == "ask" and not args.question:
        raise ValueError("--task ask needs --question")
    prices = _prices()
    source = Path(args.input)
    inputs = iter_inputs(source)
    first = next(inputs, None)  # surfaces a missing or empty input before any work
    client = _client(args)
    out = Path(args.output)
    with tqdm(
        total=_count_inputs(source),
        unit="doc",
        disable=args.quiet,
        file=sys.stderr,
        desc=f"{args.task}",
    ) as bar:

        def advance(_id: str, _ok: bool) -> None:
            bar.update(1)

        report = run_batch(
            itertools.chain([first] if first is not None else [], inputs),
            args.task,
            out,
            client=client,
            question=args.question,
            topic=args.topic,
            concurrency=args.concurrency,
            on_done=advance,
        )
        bar.update(report.skipped)
    u = report.usage
    line = (
        f"{out}: {report.done} done, {report.failed} failed, {report.skipped} already done; "
        f"{u.calls} model calls, {u.prompt_tokens} tokens in, {u.completion_tokens} out"
    )
    if prices:
        line += f"; estimated cost {u.cost(*prices):.4f}"
    return line


def _prices() -> tuple[float, float] | None:
    """Prices per million tokens from NEWSQA_PRICE_IN / NEWSQA_PRICE_OUT, checked early."""
    price_in, price_out = os.environ.get("NEWSQA_PRICE_IN"), os.environ.get("NEWSQA_PRICE_OUT")
    if not (price_in and price_out):
        return None
    try:
        return float(price_in), float(price_out)
    except ValueError as e:
        raise ValueError(f"NEWSQA_PRICE_IN/NEWSQA_PRICE_OUT must be numbers: {e}") from e


def _index(args: argparse.Namespace) -> str:
    for path in args.paths:
        if not Path(path).exists():
            raise DocumentError(f"{path}: no such file or folder", reason="not_found", source=path)
    corpus = Corpus(args.db)
    docs: list[Document] = []
    failures = 0
    for path in args.paths:
        source = Path(path)
        if source.is_file() and source.suffix.lower() != ".jsonl":
            docs.append(load_document(source))
            continue
        for item in iter_inputs(source):
            if isinstance(item, DocumentError):
                failures += 1
                print(printable(f"newsqa: skipped: {item}"), file=sys.stderr)
            else:
                docs.append(item)
    if failures and args.prune:
        raise ValueError(
            f"{failures} input(s) failed to load: not pruning (their documents "
            "would be removed); fix or remove them first"
        )
    with tqdm(
        total=len(docs), unit="doc", disable=args.quiet, file=sys.stderr, desc="indexing"
    ) as bar:

        def advance(_doc: Document, _outcome: str) -> None:
            bar.update(1)

        stats = corpus.add(docs, prune=args.prune, on_done=advance)
    return (
        f"{args.db}: {stats.added} added, {stats.replaced} replaced, "
        f"{stats.unchanged} unchanged, {stats.pruned} pruned, {failures} skipped; "
        f"{len(corpus)} documents"
    )


def _run(args: argparse.Namespace) -> str:
    if args.command == "summarize":
        doc = load_document(args.path)
        client = _client(args)
        _status(args, f"summarizing {doc.id} with {client.model}…")
        summary = api.summarize(doc, client=client)
        return summary.to_json(indent=2) if args.json else format_summary(summary)
    if args.command == "stances":
        if args.db or args.since or args.until or args.k:
            return _corpus_stances(args)
        if not args.path:
            raise ValueError("give an article, or --db CORPUS")
        doc = load_document(args.path)
        client = _client(args)
        _status(args, f"finding stances on {args.topic!r} in {doc.id} with {client.model}…")
        report = api.analyze_stances(doc, args.topic, client=client, max_actors=args.max_actors)
        return report.to_json(indent=2) if args.json else format_stances(report)
    if args.command == "batch":
        return _batch(args)
    if args.command == "timeline":
        return _timeline(args)
    if args.command == "report":
        doc = load_document(args.path)
        client = _client(args)
        _status(args, f"summarizing {doc.id} with {client.model}…")
        summary = api.summarize(doc, client=client)
        _status(args, f"finding stances on {args.topic!r}…")
        report = api.analyze_stances(doc, args.topic, client=client, max_actors=args.max_actors)
        if args.json:
            return json.dumps({"summary": summary.to_dict(), "stances": report.to_dict()}, indent=2)
        return format_summary(summary) + "\n\n" + format_stances(report)
    if args.command == "index":
        return _index(args)
    if args.command == "check":
        doc = load_document(args.path)
        client = _client(args)
        _status(args, f"checking the claim against {doc.id} with {client.model}…")
        verdict = api.check_claim(doc, args.claim, client=client)
        return verdict.to_json(indent=2) if args.json else format_claim(verdict)
    if args.command == "stance-toward":
        doc = load_document(args.path)
        client = _client(args)
        _status(args, f"reading {doc.id}'s attitude toward {', '.join(args.targets)}…")
        results = api.stances_toward(doc, args.targets, client=client)
        if args.json:
            return json.dumps([r.to_dict() for r in results], indent=2)
        return format_target_stances(results)
    if args.since and args.until and args.since > args.until:
        raise ValueError("--since is after --until")
    if args.db:
        if args.paths:
            raise ValueError("give either documents or --db, not both")
        corpus = Corpus(args.db, create=False)
        client = _client(args)
        _status(args, f"answering from {args.db} with {client.model}…")
        answer = corpus.ask(
            args.question,
            client=client,
            k=args.k,
            since=args.since,
            until=args.until,
            choices=args.choices,
        )
        if args.json:
            return answer.to_json(indent=2)
        lines = [format_answer(answer)]
        for c in answer.citations:
            doc = corpus.document(c.doc)
            lines.append(f"  ({c.doc}: {doc.date or 'undated'}, {doc.title or 'untitled'})")
        return "\n".join(lines)
    if not args.paths:
        raise ValueError("give documents to ask, or --db CORPUS")
    if args.since or args.until:
        raise ValueError("--since/--until need --db")
    docs = load_documents(Path(p) for p in args.paths)
    client = _client(args)
    _status(args, f"answering from {len(docs)} document(s) with {client.model}…")
    answer = api.ask(docs, args.question, client=client, choices=args.choices)
    return answer.to_json(indent=2) if args.json else format_answer(answer)


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
        print(printable(f"newsqa: error: {first}"), file=sys.stderr)
        return EXIT_USAGE
    except OutputValidationError as e:
        print(
            f"newsqa: the model's output never validated ({len(e.attempts)} tries); "
            f"last output: {e.raw_output[:200]!r}",
            file=sys.stderr,
        )
        return EXIT_FAILURE
    except (LLMError, NewsQAError) as e:
        print(printable(f"newsqa: {str(e).splitlines()[0]}"), file=sys.stderr)
        return EXIT_FAILURE
    except KeyboardInterrupt:
        print("newsqa: interrupted", file=sys.stderr)
        return 130
    print(output if getattr(args, "json", False) else printable(output))
    return 0


if __name__ == "__main__":
    sys.exit(main())
