"""One function per ``newsqa`` subcommand, each ``(args, session) -> output``, and the
table that dispatches them."""

from __future__ import annotations

import argparse
import ast
import contextlib
import json
import os
import re
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from pydantic import BaseModel
from tqdm import tqdm

import newsqa
from newsqa import (
    Corpus,
    CorpusStanceReport,
    Document,
    Extraction,
    LLMClient,
    OutputValidationError,
    StanceReport,
    Summary,
)
from newsqa.cli.exits import PartialFailure, validation_line
from newsqa.cli.inputs import documents, left_out, name_unreadable
from newsqa.cli.parser import actors
from newsqa.cli.provider import provider_batch, wants_provider_batch
from newsqa.cli.session import Session, awaiting, one_document
from newsqa.cli.text import (
    format_answer,
    format_claim,
    format_corpus_stances,
    format_extraction,
    format_stances,
    format_summary,
    format_target_stances,
    format_timeline,
)

__all__ = ["COMMANDS", "Command"]

Command = Callable[[argparse.Namespace, Session], str]


def summarize(args: argparse.Namespace, session: Session) -> str:
    doc = one_document(args.path)
    summary = session.run_task(f"summarizing {doc.id}", newsqa.summarize, doc)
    return session.dump(summary.to_dict()) if session.json else format_summary(summary)


def stances(args: argparse.Namespace, session: Session) -> str:
    if args.db or args.since or args.until or args.k:
        return _corpus_stances(args, session)
    if not args.path:
        raise ValueError("give an article, or --db CORPUS")
    doc = one_document(args.path)
    report = session.run_task(
        f"finding stances on {args.topic!r} in {doc.id}",
        newsqa.analyze_stances,
        doc,
        args.topic,
        max_actors=args.max_actors,
        actors=actors(args),
    )
    return session.dump(report.to_dict()) if session.json else format_stances(report)


def _corpus_stances(args: argparse.Namespace, session: Session) -> str:
    report = _stances_in_corpus(args, session, given=args.path, what="an article")
    return session.dump(report.to_dict()) if session.json else format_corpus_stances(report)


def _corpus_timeline(args: argparse.Namespace, session: Session) -> str:
    """The timeline of the stances across a corpus (one point per actor and article)."""
    found = _stances_in_corpus(args, session, given=args.paths, what="articles").timeline()
    return session.dump(found.to_dict()) if session.json else format_timeline(found)


def _stances_in_corpus(
    args: argparse.Namespace, session: Session, *, given: object, what: str
) -> CorpusStanceReport:
    if not args.db:
        raise ValueError("--since/--until/--k need --db")
    if given:
        raise ValueError(f"give either {what} or --db, not both")
    if args.since and args.until and args.since > args.until:
        raise ValueError("--since is after --until")
    with Corpus(args.db, create=False) as corpus:
        report = session.run_task(
            f"finding stances on {args.topic!r} in {corpus.where}",
            corpus.stances,
            args.topic,
            k=args.k or 12,
            since=args.since,
            until=args.until,
            max_actors=args.max_actors,
            actors=actors(args),
        )
        _report_undated(args, corpus)
    return report


def _report_undated(args: argparse.Namespace, corpus: Corpus) -> None:
    """Say how many documents a date bound left out for having no date."""
    if args.since or args.until:
        undated = corpus.undated()
        if undated:
            print(
                f"newsqa: {undated} undated document(s) left out by --since/--until",
                file=sys.stderr,
            )


def report(args: argparse.Namespace, session: Session) -> str:
    doc = one_document(args.path)

    def both(document: Document, *, client: LLMClient) -> tuple[Summary, StanceReport]:
        summary = newsqa.summarize(document, client=client)
        session.status(f"finding stances on {args.topic!r}…")
        found = newsqa.analyze_stances(
            document, args.topic, client=client, max_actors=args.max_actors, actors=actors(args)
        )
        return summary, found

    summary, found = session.run_task(f"summarizing {doc.id}", both, doc)
    if session.json:
        both_results = {"summary": summary.to_dict(), "stances": found.to_dict()}
        return session.dump({"schema_version": newsqa.SCHEMA_VERSION, **both_results})
    return format_summary(summary) + "\n\n" + format_stances(found)


def timeline(args: argparse.Namespace, session: Session) -> str:
    if args.db or args.since or args.until or args.k:
        return _corpus_timeline(args, session)
    if not args.paths:
        raise ValueError("give articles, or --db CORPUS")
    docs, skipped = documents(args.paths)
    with tqdm(
        total=len(docs), unit="doc", disable=session.quiet, file=sys.stderr, desc="stances"
    ) as bar:

        def advance(_doc: Document) -> None:
            bar.update(1)

        result = session.run_task(
            f"finding stances on {args.topic!r} in {len(docs)} document(s)",
            newsqa.stance_timeline,
            docs,
            args.topic,
            max_actors=args.max_actors,
            actors=actors(args),
            on_done=advance,
        )
    output = session.dump(result.to_dict()) if session.json else format_timeline(result)
    if skipped:
        raise PartialFailure(output, left_out(skipped))
    return output


def _schema(spec: str) -> type[BaseModel]:
    """The model ``--schema`` names: a JSON Schema file, or ``package.module:Model``
    (imported with the working directory on the path, as ``python -m`` would)."""
    if spec.lower().endswith(".py"):
        raise ValueError(_module_hint(spec))
    if os.path.exists(spec) or ":" not in spec or spec.lower().endswith(".json"):
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


def _module_hint(spec: str) -> str:
    """What to write instead of a ``.py`` path: its module and the first Pydantic model
    it defines (read, never run)."""
    path = Path(spec)
    parts = path.with_suffix("").parts
    module = path.stem if path.is_absolute() or ".." in parts else ".".join(parts)
    try:
        tree = ast.parse(path.read_text(encoding="utf-8"))
    except (OSError, SyntaxError, UnicodeDecodeError):
        tree = ast.Module(body=[], type_ignores=[])
    models = [
        node.name
        for node in tree.body
        if isinstance(node, ast.ClassDef)
        and any("BaseModel" in ast.unparse(base) for base in node.bases)
    ]
    return (
        f"{spec} is a Python file: name the model in it as module:Model, "
        f"e.g. --schema {module}:{models[0] if models else 'YourModel'}"
    )


def _page_path(spec: str | None) -> Path | None:
    """Where ``--html`` writes its page, refused before any input is read when its
    folder does not exist or it names a folder."""
    if spec is None:
        return None
    path = Path(spec)
    if path.is_dir():
        raise ValueError(f"--html {spec}: is a folder; name the page's file")
    if not path.parent.is_dir():
        raise ValueError(f"--html {spec}: folder {path.parent} does not exist")
    return path


def _write_page(path: Path, results: list[Extraction[Any]]) -> None:
    """The page of ``results`` written to ``path`` whole (a temporary file, renamed)."""
    part = path.with_name(f".{path.name}.part")
    part.write_text(newsqa.extraction_page(results), encoding="utf-8")
    part.replace(path)


def _examples(spec: str | None, model: type[BaseModel]) -> list[tuple[str, BaseModel]]:
    """The examples ``--examples`` names (a JSON list of ``{"text", "value"}``), each
    checked against ``model`` and its own text.

    Raises:
        ValueError: unreadable, not such a list, or an example that does not fit or
            whose values its text does not write; the message names the file.
    """
    if spec is None:
        return []
    try:
        data = json.loads(Path(spec).read_text(encoding="utf-8"))
    except OSError as e:
        raise ValueError(f"--examples {spec}: {e.strerror or e}") from None
    except (UnicodeDecodeError, json.JSONDecodeError) as e:
        raise ValueError(f"--examples {spec}: not JSON ({e})") from None
    if not isinstance(data, list):
        raise ValueError(f'--examples {spec}: expected a JSON list of {{"text", "value"}}')
    try:
        return list(newsqa.Extract(model, examples=data).examples)
    except ValueError as e:
        raise ValueError(f"--examples {spec}: {e}") from None


def extract(args: argparse.Namespace, session: Session) -> str:
    model = _schema(args.schema)  # a bad schema is refused before any input is read
    examples = _examples(args.examples, model)
    page = _page_path(args.html)
    docs, skipped = documents(args.paths)
    results: list[Extraction[Any]] = []
    failed: list[str] = []
    with tqdm(
        total=len(docs), unit="doc", disable=session.quiet or len(docs) < 2, file=sys.stderr
    ) as bar:

        def each(documents: list[Document], *, client: LLMClient) -> None:
            for doc in documents:
                try:
                    results.append(
                        newsqa.extract(
                            doc,
                            model,
                            client=client,
                            instructions=args.instructions,
                            examples=examples,
                            passes=args.passes,
                            reading="focus" if args.focus else "auto",
                        )
                    )
                except OutputValidationError as e:  # that document only; the others go on
                    failed.append(doc.id)
                    print(
                        newsqa.printable(f"newsqa: {doc.id}: {validation_line(e)}"),
                        file=sys.stderr,
                    )
                bar.update(1)

        session.run_task(f"extracting {model.__name__} from {len(docs)} document(s)", each, docs)
    if session.json:
        lines = []
        for result in results:
            data = result.to_dict()
            if session.usage:
                data["usage"] = result.usage.model_dump()
            lines.append(json.dumps(data, ensure_ascii=False))
        output = "\n".join(lines)
    else:
        output = "\n\n".join(format_extraction(r) for r in results)
    if page is not None:
        try:
            _write_page(page, results)
        except OSError as e:  # the results are printed all the same
            raise PartialFailure(output, f"--html {page}: {e.strerror or e}") from None
    if failed:
        raise PartialFailure(
            output, f"{len(failed)} of {len(docs)} documents failed: {', '.join(failed)}"
        )
    if skipped:
        raise PartialFailure(output, left_out(skipped))
    return output


def batch(args: argparse.Namespace, session: Session) -> str:
    if args.task == "ask" and not args.question:
        raise ValueError("--task ask needs --question")
    if args.task == "extract" and not args.schema:
        raise ValueError("--task extract needs --schema")
    extracting = (args.schema, args.instructions, args.examples, args.passes, args.focus)
    if args.task != "extract" and any(extracting):
        raise ValueError(
            "--schema, --instructions, --examples, --passes and --focus are for --task extract"
        )
    if args.task != "ask" and args.as_of:
        raise ValueError("--as-of is for --task ask")
    if not args.output and not args.queue:
        raise ValueError("give -o OUTPUT.jsonl (or --queue URL to enqueue the batch)")
    if args.output and args.queue:
        raise ValueError("with --queue, write the results with `newsqa results`, not -o")
    if args.queue and wants_provider_batch(args):
        raise ValueError(
            "--queue and the provider batch options are two ways to run it: choose one"
        )
    model = _schema(args.schema) if args.schema else None  # refused before any input
    given = {
        "question": args.question,
        "as_of": args.as_of,
        "topic": args.topic if args.task == "stances" else None,
        "schema": model,
        "instructions": args.instructions,
        "examples": _examples(args.examples, model) if model and args.examples else None,
        "passes": args.passes,
        "reading": "focus" if args.focus else None,
    }
    task = newsqa.task(
        args.task, **args.params, **{k: v for k, v in given.items() if v is not None}
    )
    if args.queue:
        return _enqueue(args, session, task)
    # The inputs are walked once first, keeping ids only: a missing path or two
    # documents with one id are refused and unreadable inputs named before the client
    # is made (they get error lines, never a model call); then the run holds one
    # document at a time.
    inputs = newsqa.Inputs(args.inputs, skip=newsqa.BatchRun.files(args.output))
    total, unreadable = inputs.check()
    name_unreadable(unreadable, total - len(unreadable))
    if wants_provider_batch(args):
        return provider_batch(args, session, task, inputs)
    client = session.client() if task.uses_model else None
    where = f"with {client.endpoint}" if client else "(no model)"
    session.status(f"{args.task} over {' '.join(args.inputs)} {where}…")
    cached = client.cached if client else 0
    with tqdm(
        total=total, unit="doc", disable=session.quiet, file=sys.stderr, desc=args.task
    ) as bar:

        def advance(_id: str, _ok: bool) -> None:
            bar.update(1)

        def waiting(replies: int, seconds: float) -> None:
            bar.set_postfix_str(awaiting(replies, seconds), refresh=True)

        with session.watch(client, waiting) if client else contextlib.nullcontext():
            report = newsqa.batch(
                iter(inputs),  # checked: walked once more, lazily
                task,
                args.output,
                client=client,
                concurrency=args.concurrency,
                on_done=advance,
            )
        bar.update(report.skipped)
    if client:
        session.record(report.usage, client.cached - cached)
    if session.json:
        output = session.dump({"output": args.output, **report.to_dict()})
    else:
        output = (
            f"{args.output}: {report.done} done, {report.failed} failed, "
            f"{report.skipped} already done" + (f"; {session.usage_text}" if client else "")
        )
    if report.failed:
        ran = report.done + report.failed
        raise PartialFailure(
            output, f"{report.failed} of {ran} documents failed (see {args.output})"
        )
    return output


def _enqueue(args: argparse.Namespace, session: Session, task: newsqa.Task[Any]) -> str:
    """One job per document in the queue (those done or waiting already are not)."""
    inputs = newsqa.Inputs(args.inputs)
    total, unreadable = inputs.check()
    name_unreadable(unreadable, total - len(unreadable))
    client = session.client() if task.uses_model else None
    with newsqa.job_queue(args.queue, create=True) as queue:
        docs = (item for item in inputs if isinstance(item, Document))
        report = queue.enqueue(docs, task, client=client, job_set=args.set)
        where = queue.where
    if session.json:
        output = session.dump({"queue": where, **report.to_dict()})
    else:
        output = (
            f"{where} set {args.set!r}: {report.enqueued} enqueued, {report.done} done "
            f"already, {report.waiting} waiting already; run them with `newsqa worker`"
        )
    if unreadable:
        raise PartialFailure(output, left_out(len(unreadable)))
    return output


def worker(args: argparse.Namespace, session: Session) -> str:
    """Run queued jobs here until stopped (or until none is left)."""
    client = session.client()
    with newsqa.job_queue(args.queue) as queue:
        session.status(
            f"worker on {queue.where} with {client.endpoint}, "
            f"{args.concurrency} job(s) at a time (Ctrl-C stops)…"
        )
        with tqdm(unit="doc", disable=session.quiet, file=sys.stderr, desc="jobs") as bar:

            def advance(_id: str, _ok: bool) -> None:
                bar.update(1)

            report = queue.work(
                client,
                concurrency=args.concurrency,
                lease=args.lease,
                job_sets=args.sets,
                wait=not args.until_empty,
                on_done=advance,
            )
    session.record(client.usage, client.cached)
    result = {"done": report.done, "failed": report.failed, "skipped": report.skipped}
    if session.json:
        return session.dump(result)
    return (
        f"{report.done} done, {report.failed} failed, {report.skipped} already done; "
        f"{session.usage_text}"
    )


def results(args: argparse.Namespace, session: Session) -> str:
    """Append a job set's lines to a JSONL file (a local batch's format)."""
    with newsqa.job_queue(args.queue) as queue:
        written = queue.write_results(Path(args.output), args.set)
        status = queue.status(args.set)
    waiting = status.jobs.get("todo", 0) + status.jobs.get("doing", 0)
    return (
        f"{args.output}: {written} lines ({status.done} done, {status.failed} failed of "
        f"{status.documents} documents; {waiting} jobs still queued)"
    )


def queue(args: argparse.Namespace, session: Session) -> str:
    """``status``: a job set's progress; ``cancel``: its waiting jobs."""
    with newsqa.job_queue(args.queue) as jobs:
        if args.action == "cancel":
            cancelled = jobs.cancel(args.set)
            return f"{jobs.where} set {args.set!r}: {cancelled} waiting jobs cancelled"
        status = jobs.status(args.set)
    if session.json:
        return session.dump(status.to_dict())
    counts = ", ".join(f"{n} {state}" for state, n in status.jobs.items()) or "no jobs"
    return (
        f"set {args.set!r}: {status.documents} documents, {status.done} done, "
        f"{status.failed} failed; jobs: {counts}"
    )


def run(args: argparse.Namespace, session: Session) -> str:
    """Any registered task on each document: its text renderer, or the results as JSON."""
    task = newsqa.task(args.task, **args.params)
    docs = newsqa.load_documents(args.paths)
    doing = f"running {args.task} on {len(docs)} document(s)"

    def each(items: list[Document], client: LLMClient | None = None) -> list[Any]:
        return [task.run(doc, client=client) for doc in items]

    if task.uses_model:
        results = session.run_task(doing, each, docs)
    else:
        session.status(f"{doing} (no model)…")
        results = each(docs)
    if session.json:
        return session.dump(
            [r.to_dict() for r in results] if len(results) > 1 else results[0].to_dict()
        )
    return "\n\n".join(task.text(r) for r in results)


def tasks(args: argparse.Namespace, session: Session) -> str:
    """The registry: each task's name, what it does and its parameters (``--json``: its
    parameters and result as JSON Schema)."""
    found = newsqa.registered()
    if session.json:
        return json.dumps(
            {
                name: {
                    "uses_model": cls.uses_model,
                    "prompts": list(cls.prompts),
                    "parameters": cls.model_json_schema(by_alias=True),
                    "result": newsqa.result_type(cls).model_json_schema(),
                }
                for name, cls in found.items()
            },
            indent=2,
            ensure_ascii=False,
        )
    lines = []
    for name, cls in found.items():
        doc = re.sub(r"\s*\(see :\w+:`[^`]*`\)", "", (cls.__doc__ or "").split("\n\n")[0])
        params = ", ".join(f.alias or n for n, f in cls.model_fields.items()) or "no parameters"
        lines.append(f"{name}: {' '.join(doc.split())}\n  parameters: {params}")
    return "\n".join(lines)


def compact(args: argparse.Namespace, session: Session) -> str:
    """Rewrite each batch output with its current lines only (``newsqa.compact_results``)."""
    rows = []
    for path in args.outputs:
        kept = newsqa.compact_results(path)
        rows.append(
            {
                "output": path,
                "lines": kept.lines,
                "kept": kept.kept,
                "results": len(kept.results),
                "errors": len(kept.errors),
                "unreadable": kept.unreadable,
            }
        )
    if session.json:
        return session.dump(rows)
    return "\n".join(
        f"{r['output']}: {r['lines']} lines, {r['kept']} kept ({r['results']} results, "
        f"{r['errors']} failing); {r['unreadable']} unreadable left out"
        for r in rows
    )


def index(args: argparse.Namespace, session: Session) -> str:
    inputs = newsqa.Inputs(args.paths)
    total, errors = inputs.check()  # every path is walked before the corpus opens
    name_unreadable(errors, total - len(errors))
    if errors and args.prune:
        raise ValueError(
            f"{len(errors)} input(s) failed to load: not pruning (their documents "
            "would be removed); fix or remove them first"
        )
    undated = 0
    with (
        Corpus(args.db) as corpus,
        tqdm(
            total=total - len(errors),
            unit="doc",
            disable=session.quiet,
            file=sys.stderr,
            desc="indexing",
        ) as bar,
    ):

        def advance(doc: Document, _outcome: str) -> None:
            nonlocal undated
            undated += doc.date is None
            bar.update(1)

        docs = (item for item in inputs if isinstance(item, Document))
        stats = corpus.add(docs, prune=args.prune, on_done=advance)
        size = len(corpus)
    output = (
        f"{corpus.where}: {stats.added} added, {stats.replaced} replaced, "
        f"{stats.unchanged} unchanged, {stats.pruned} pruned, {len(errors)} skipped, "
        f"{undated} undated; {size} documents"
    )
    if errors:
        raise PartialFailure(output, left_out(len(errors)))
    return output


def ask(args: argparse.Namespace, session: Session) -> str:
    if args.since and args.until and args.since > args.until:
        raise ValueError("--since is after --until")
    if args.db:
        if args.as_of:
            raise ValueError("with --db, the question's date is --until (not --as-of)")
        return _ask_corpus(args, session)
    if not args.paths:
        raise ValueError("give documents to ask, or --db CORPUS")
    if args.since or args.until:
        raise ValueError("--since/--until need --db")
    docs, skipped = documents(args.paths)
    answer = session.run_task(
        f"answering from {len(docs)} document(s)",
        newsqa.ask,
        docs,
        args.question,
        choices=args.choices,
        as_of=args.as_of,
    )
    output = session.dump(answer.to_dict()) if session.json else format_answer(answer)
    if skipped:
        raise PartialFailure(output, left_out(skipped))
    return output


def _ask_corpus(args: argparse.Namespace, session: Session) -> str:
    if args.paths:
        raise ValueError("give either documents or --db, not both")
    with Corpus(args.db, create=False) as corpus:
        answer = session.run_task(
            f"answering from {corpus.where}",
            corpus.ask,
            args.question,
            k=args.k,
            since=args.since,
            until=args.until,
            choices=args.choices,
        )
        _report_undated(args, corpus)
        if session.json:
            return session.dump(answer.to_dict())
        lines = [format_answer(answer)]
        for c in answer.citations:
            doc = corpus.document(c.doc)
            lines.append(f"  ({c.doc}: {doc.date or 'undated'}, {doc.title or 'untitled'})")
    return "\n".join(lines)


def check(args: argparse.Namespace, session: Session) -> str:
    doc = one_document(args.path)
    verdict = session.run_task(
        f"checking the claim against {doc.id}", newsqa.check_claim, doc, args.claim
    )
    return session.dump(verdict.to_dict()) if session.json else format_claim(verdict)


def stance_toward(args: argparse.Namespace, session: Session) -> str:
    doc = one_document(args.path)
    results = session.run_task(
        f"reading {doc.id}'s attitude toward {', '.join(args.targets)}",
        newsqa.stances_toward,
        doc,
        args.targets,
    )
    if session.json:
        return session.dump([r.to_dict() for r in results])
    return format_target_stances(results)


COMMANDS: dict[str, Command] = {
    "summarize": summarize,
    "stances": stances,
    "report": report,
    "timeline": timeline,
    "batch": batch,
    "worker": worker,
    "results": results,
    "queue": queue,
    "run": run,
    "tasks": tasks,
    "extract": extract,
    "compact": compact,
    "index": index,
    "ask": ask,
    "check": check,
    "stance-toward": stance_toward,
}
