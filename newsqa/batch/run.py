"""Batch runs: one task over many documents, one JSONL line per document.

Each finished document is appended to the output file at once, so an interrupted
run loses no finished work. Re-running with the same output skips the documents
that already have a result for the same job (task, its question, topic or schema and
instructions, and the document's content: an edited article runs again) and retries
those that failed; a
line torn by a crash or a full disk is set aside first (:mod:`newsqa.batch.output`).
One run at a time holds an output file. Failures are recorded per document
(``error``, with the usage of every call it made) and never stop the batch.

:class:`BatchRun` is the one implementation: iterate it (``for`` or ``async for``) to
get each document as it finishes; :func:`run_batch` just drains it.
"""

from __future__ import annotations

import asyncio
import concurrent.futures as cf
import datetime as dt
import hashlib
import json
import threading
from collections.abc import AsyncGenerator, Callable, Generator, Iterable, Iterator
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any, Generic, Literal, NamedTuple, TypeVar, cast

from pydantic import BaseModel

from newsqa.batch.output import OutputFile, check_output, output_files
from newsqa.documents.load import check_inputs, duplicate_id
from newsqa.errors import DocumentError, LLMError, NewsQAError
from newsqa.llm.client import LLMClient
from newsqa.tasks.ask import ask
from newsqa.tasks.extract import extract, shape_of
from newsqa.tasks.stances import DEFAULT_TOPIC, analyze_stances
from newsqa.tasks.summarize import summarize
from newsqa.types import Answer, Document, Extraction, StanceReport, Summary, Usage

__all__ = [
    "BatchItem",
    "BatchReport",
    "BatchRun",
    "Task",
    "check_job",
    "completed_keys",
    "job_key",
    "run_batch",
    "schema_text",
]

Task = Literal["summarize", "stances", "ask", "extract"]
Result = Summary | StanceReport | Answer | Extraction[Any]
R = TypeVar("R", bound=Result)
"""The result type of a batch's task (``BatchRun[Summary]`` for ``summarize``)."""


class BatchItem(NamedTuple, Generic[R]):
    """One finished document of a batch: ``(id, outcome)``.

    ``outcome`` is the task's result, or the exception the document failed with
    (:class:`~newsqa.errors.NewsQAError` or ``ValueError``; a
    :class:`~newsqa.errors.DocumentError` for an input that did not load).
    """

    id: str
    outcome: R | Exception

    @property
    def ok(self) -> bool:
        """True when the document has a result."""
        return not isinstance(self.outcome, Exception)

    @property
    def usage(self) -> Usage:
        """Tokens this document cost (failed tries included)."""
        return getattr(self.outcome, "usage", None) or Usage()


@dataclass
class BatchReport:
    """What a batch run did."""

    done: int = 0
    failed: int = 0
    skipped: int = 0
    usage: Usage = field(default_factory=Usage)
    errors: dict[str, str] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """The JSON form (``--json`` of ``newsqa batch``)."""
        return {
            "done": self.done,
            "failed": self.failed,
            "skipped": self.skipped,
            "usage": self.usage.model_dump(),
            "errors": dict(self.errors),
        }


def _job(
    task: str,
    question: str | None,
    topic: str,
    schema: type[BaseModel] | None = None,
    instructions: str | None = None,
    as_of: dt.date | None = None,
) -> dict[str, str | None]:
    """What identifies a job besides the document, as each JSONL line shows it: the
    task and its question (and the day it is asked, when given), topic, or schema (by
    name) and instructions."""
    if task == "ask":
        job: dict[str, str | None] = {"task": task, "question": question or ""}
        if as_of is not None:
            job["as_of"] = as_of.isoformat()
        return job
    if task == "stances":
        return {"task": task, "topic": topic}
    if task == "extract":
        name = schema.__name__ if schema is not None else None
        return {"task": task, "schema": name, "instructions": instructions or None}
    return {"task": task}


@lru_cache(maxsize=64)
def schema_text(schema: type[BaseModel]) -> str:
    """The JSON Schema of ``schema``, keys sorted: what the resume key of an extract
    job holds (field names, types, descriptions, choices, defaults, the title)."""
    return json.dumps(schema.model_json_schema(), sort_keys=True, ensure_ascii=False)


def job_key(
    doc: Document,
    task: str,
    *,
    question: str | None = None,
    topic: str = DEFAULT_TOPIC,
    schema: type[BaseModel] | None = None,
    instructions: str | None = None,
    as_of: dt.date | None = None,
) -> str:
    """Resume key of one document's job: SHA-256 of the job (task and its question and
    ``as_of``, topic, or schema and instructions) and of everything of the document the
    prompt shows (id, text, title, date), so an edited document, another question or
    day, or a changed model never reuses an old result.

    For ``extract`` the schema counts by its whole JSON Schema (:func:`schema_text`):
    a field added, retyped or described differently runs every document again (a
    changed validator, which the JSON Schema does not show, does not)."""
    job = _job(task, question, topic, schema, instructions, as_of)
    if task == "extract":
        job["schema"] = schema_text(schema) if schema is not None else None
    payload = {
        **job,
        "id": doc.id,
        "text": doc.text,
        "title": doc.title,
        "date": doc.date.isoformat() if doc.date else None,
    }
    return hashlib.sha256(json.dumps(payload, sort_keys=True).encode()).hexdigest()


def completed_keys(out: Path) -> set[str]:
    """:func:`job_key` of every line of ``out`` that holds a result; a later error
    line for the same key does not undo an earlier result."""
    done: set[str] = set()
    if not out.exists():
        return done
    with out.open(encoding="utf-8", errors="replace") as fh:
        for line in fh:
            try:
                record = json.loads(line)
            except json.JSONDecodeError:
                continue  # a line cut short by a crash: that document runs again
            if isinstance(record, dict) and "result" in record and "key" in record:
                done.add(str(record["key"]))
    return done


def check_job(
    task: Task,
    *,
    question: str | None = None,
    schema: type[BaseModel] | None = None,
    as_of: dt.date | None = None,
) -> None:
    """Refuse a job that cannot run, before any document is read.

    Raises:
        ValueError: ``ask`` without a question, ``extract`` without a schema, ``as_of``
            for another task than ``ask``.
        SchemaError: a schema that cannot be extracted (the message names the field).
    """
    _Job(task, question, schema=schema, as_of=as_of).check()


@dataclass(frozen=True)
class _Job:
    """A task and what it needs besides the document."""

    task: Task
    question: str | None = None
    topic: str = DEFAULT_TOPIC
    schema: type[BaseModel] | None = None
    instructions: str | None = None
    as_of: dt.date | None = None

    def check(self) -> None:
        """See :func:`check_job`."""
        if self.task == "ask" and not (self.question and self.question.strip()):
            raise ValueError("the ask task needs a question")
        if self.as_of is not None and self.task != "ask":
            raise ValueError("as_of (the day a question is asked) is for the ask task")
        if self.task == "extract":
            if self.schema is None:
                raise ValueError("the extract task needs a schema (a Pydantic model class)")
            shape_of(self.schema)

    def key(self, doc: Document) -> str:
        return job_key(
            doc,
            self.task,
            question=self.question,
            topic=self.topic,
            schema=self.schema,
            instructions=self.instructions,
            as_of=self.as_of,
        )

    def line(self) -> dict[str, str | None]:
        return _job(
            self.task, self.question, self.topic, self.schema, self.instructions, self.as_of
        )

    def run(self, doc: Document, client: LLMClient) -> Result:
        if self.task == "summarize":
            return summarize(doc, client=client)
        if self.task == "stances":
            return analyze_stances(doc, self.topic, client=client)
        if self.task == "extract":
            assert self.schema is not None  # check() refused it
            return extract(doc, self.schema, client=client, instructions=self.instructions)
        if not self.question:
            raise ValueError("the ask task needs a question")
        return ask([doc], self.question, client=client, as_of=self.as_of)


class BatchRun(Generic[R]):
    """A batch in progress: iterate it with ``for`` or ``async for`` to get a
    :class:`BatchItem` for each document as it finishes (completion order).

    Every item is on disk (one JSONL line) before it is yielded; documents that
    already have a result in ``out`` are skipped (counted in ``report.skipped``).
    At most ``concurrency`` documents run at once, in worker threads. Stopping the
    iteration early (``break``, Ctrl-C, cancellation) starts no new document; those in
    flight still write their lines (after Ctrl-C, before the interrupt propagates). A
    document's result is reused only for the same job and content (:func:`job_key`).
    A run can be iterated once.

    Args:
        docs: documents, or the :class:`DocumentError` of inputs that failed to load
            (recorded as failures, so a bad file never stops the batch). Anything but
            an iterator (a list, :class:`~newsqa.documents.Inputs`) is walked once
            first, keeping ids only, so two documents with one id are refused before
            any work while one document is held at a time.
        task: ``summarize``, ``stances``, ``ask`` or ``extract``.
        out: JSONL output, a regular file or a new one (``/dev/full`` or a folder
            is refused); lines are ``{"id", "task", "result"}`` or
            ``{"id", "task", "error", "error_type"}``, with ``usage`` (and the
            ``question``, ``topic``, or ``schema`` name and ``instructions`` of the job).
        client: the LLM client (thread-safe; the embedded model serves one at a time).
        question: required for ``ask``.
        topic: for ``stances``.
        schema: the Pydantic model to fill, required for ``extract``.
        instructions: extra guidance for ``extract``.
        as_of: for ``ask``: the day the question is asked (see :func:`~newsqa.ask`).
        concurrency: documents in flight at once.
        on_done: called with ``(id, ok)`` after each document (progress bars).
        close_client: close ``client`` once the run and its requests are over.

    Attributes:
        report: counts, usage and errors so far; final once the iteration ends.
        total: documents and failed inputs the first walk found (``None`` for an
            iterator, walked once).
        unreadable: the inputs the first walk could not load (the run records each
            as a failure; ``newsqa batch`` refuses to start instead).

    Raises:
        ValueError: ``ask`` without a question, ``extract`` without a schema,
            ``concurrency`` below 1, an output that is not a regular file, or two
            documents with one id (at once unless ``docs`` is an iterator, otherwise
            when the second one is reached).
        SchemaError: a schema that cannot be extracted (before any document is read).
    """

    def __init__(
        self,
        docs: Iterable[Document | DocumentError],
        task: Task,
        out: Path,
        *,
        client: LLMClient,
        question: str | None = None,
        topic: str = DEFAULT_TOPIC,
        schema: type[BaseModel] | None = None,
        instructions: str | None = None,
        as_of: dt.date | None = None,
        concurrency: int = 1,
        on_done: Callable[[str, bool], None] | None = None,
        close_client: bool = False,
    ) -> None:
        job = _Job(task, question, topic, schema, instructions, as_of)
        job.check()
        if concurrency < 1:
            raise ValueError("concurrency must be at least 1")
        self.task, self.out, self.client = task, out, client
        self.question, self.topic, self.concurrency = question, topic, concurrency
        self.schema, self.instructions = schema, instructions
        self.report = BatchReport()
        check_output(out)
        self.total: int | None = None
        self.unreadable: list[DocumentError] = []
        if not isinstance(docs, Iterator):  # walked twice: refused before any work
            self.total, self.unreadable = check_inputs(docs)
        self._docs = docs
        self._on_done = on_done
        self._close_client = close_client
        self._spec = job
        self._job = job.line()
        self._lock = threading.Lock()
        self._started = False
        self._file: OutputFile | None = None

    @staticmethod
    def files(out: str | Path) -> tuple[Path, Path]:
        """What a run on ``out`` writes: ``out`` and ``out.partial`` (torn lines);
        a walk of its inputs must leave both out (``Inputs(..., skip=...)``)."""
        return output_files(Path(out))

    def _key(self, doc: Document) -> str:
        return self._spec.key(doc)

    def _record(self, item: BatchItem[R], key: str | None = None) -> BatchItem[R]:
        """Append the item's line (flushed), count it, report progress."""
        line: dict[str, Any] = {"id": item.id, **self._job}
        if key:
            line["key"] = key
        if isinstance(item.outcome, Exception):
            line["error"] = str(item.outcome)
            line["error_type"] = type(item.outcome).__name__
        else:
            line["result"] = item.outcome.to_dict()
        line["usage"] = item.usage.model_dump()
        with self._lock:
            assert self._file is not None
            self._file.append(json.dumps(line, ensure_ascii=False))
            self.report.usage += item.usage
            if item.ok:
                self.report.done += 1
            else:
                self.report.failed += 1
                self.report.errors[item.id] = str(item.outcome)
        if self._on_done:
            self._on_done(item.id, item.ok)
        return item

    def _work(self, doc: Document) -> BatchItem[R]:
        with self.client.metered() as meter:
            try:
                outcome: R | Exception = cast(R, self._spec.run(doc, self.client))
            except (NewsQAError, ValueError) as e:
                outcome = e
        if isinstance(outcome, LLMError):
            outcome.usage = meter.usage  # every call of the document, not only the last
        return self._record(BatchItem(doc.id, outcome), self._key(doc))

    def _entries(self) -> Iterator[Document | BatchItem[R]]:
        """Documents still to run, and the recorded items of inputs that did not load."""
        if self._started:
            raise RuntimeError("a batch run can be iterated only once")
        self._started = True
        self._file = OutputFile(self.out)
        skip = completed_keys(self.out)
        sources: dict[str, str | None] = {}
        for entry in self._docs:
            if isinstance(entry, DocumentError):
                yield self._record(BatchItem(entry.source or "?", entry))
                continue
            if entry.id in sources:
                raise duplicate_id(entry, sources[entry.id])
            sources[entry.id] = entry.source
            if self._key(entry) in skip:
                self.report.skipped += 1
            else:
                yield entry

    def _stop(self, pool: cf.ThreadPoolExecutor) -> None:
        """Start nothing new; documents in flight finish (and write) in the background,
        then the output is released."""
        pool.shutdown(wait=False, cancel_futures=True)
        threading.Thread(target=self._finish, args=(pool,), daemon=True).start()

    def _finish(self, pool: cf.ThreadPoolExecutor) -> None:
        pool.shutdown()
        if self._file is not None:
            self._file.close()
        if self._close_client:
            self.client.close()

    def run(self) -> BatchReport:
        """Process every document (no item is kept) and return the final report."""
        for _ in self:
            pass
        return self.report

    def __iter__(self) -> Generator[BatchItem[R], None, None]:
        pool = cf.ThreadPoolExecutor(max_workers=self.concurrency)
        running: set[cf.Future[BatchItem[R]]] = set()
        try:
            for entry in self._entries():
                if isinstance(entry, BatchItem):
                    yield entry
                    continue
                if len(running) >= self.concurrency:
                    finished, running = cf.wait(running, return_when=cf.FIRST_COMPLETED)
                    for future in finished:
                        yield future.result()
                running.add(pool.submit(self._work, entry))
            for future in cf.as_completed(running):
                yield future.result()
        except (KeyboardInterrupt, ValueError):  # Ctrl-C, a repeated id: documents in
            self._finish(pool)  # flight write their lines first (a second Ctrl-C abandons them)
            raise
        except BaseException:  # break, a failing callback: every finished line is on disk
            self._stop(pool)
            raise
        self._finish(pool)

    async def __aiter__(self) -> AsyncGenerator[BatchItem[R], None]:
        loop = asyncio.get_running_loop()
        pool = cf.ThreadPoolExecutor(max_workers=self.concurrency)
        running: set[asyncio.Future[BatchItem[R]]] = set()
        try:
            for entry in self._entries():
                if isinstance(entry, BatchItem):
                    yield entry
                    continue
                if len(running) >= self.concurrency:
                    finished, running = await asyncio.wait(
                        running, return_when=asyncio.FIRST_COMPLETED
                    )
                    for future in finished:
                        yield future.result()
                running.add(loop.run_in_executor(pool, self._work, entry))
            while running:
                finished, running = await asyncio.wait(running, return_when=asyncio.FIRST_COMPLETED)
                for future in finished:
                    yield future.result()
        except BaseException:  # break (aclose), cancellation: every finished line is on disk
            self._stop(pool)
            raise
        self._finish(pool)


def run_batch(
    docs: Iterable[Document | DocumentError],
    task: Task,
    out: Path,
    *,
    client: LLMClient,
    question: str | None = None,
    topic: str = DEFAULT_TOPIC,
    schema: type[BaseModel] | None = None,
    instructions: str | None = None,
    as_of: dt.date | None = None,
    concurrency: int = 1,
    on_done: Callable[[str, bool], None] | None = None,
) -> BatchReport:
    """Run ``task`` on every document, appending one JSONL line each to ``out``, and
    return the report (arguments as for :class:`BatchRun`)."""
    return BatchRun[Result](
        docs,
        task,
        out,
        client=client,
        question=question,
        topic=topic,
        schema=schema,
        instructions=instructions,
        as_of=as_of,
        concurrency=concurrency,
        on_done=on_done,
    ).run()
