"""Batch runs: one task over many documents, one JSONL line per document.

Each finished document is appended to the output file at once, so an interrupted
run loses no finished work. Re-running with the same output skips the documents
that already have a result for the same content key (the document, the task and its
parameters, the model, the endpoint and the prompt version: an edited article, another
model or base URL, or an edited prompt template runs again; a line that names no model
counts as made by the model in use) and retries those that failed; a line
torn by a crash or a full disk is set aside first (:mod:`newsqa.batch.output`).
One run at a time holds an output file. Failures are recorded per document
(``error``, with the usage of every call it made) and never stop the batch.

:class:`BatchRun` is the one implementation: iterate it (``for`` or ``async for``) to
get each document as it finishes; :func:`run_batch` just drains it.
"""

from __future__ import annotations

import asyncio
import concurrent.futures as cf
import contextlib
import json
import re
import threading
from collections.abc import AsyncGenerator, Callable, Generator, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Generic, NamedTuple, TypeVar

from newsqa import prompts
from newsqa.batch.keys import content_key, document_text
from newsqa.batch.output import OutputFile, check_output, output_files
from newsqa.documents.load import check_inputs, duplicate_id
from newsqa.errors import DocumentError, LLMError, NewsQAError
from newsqa.llm.client import LLMClient
from newsqa.llm.pending import Pending
from newsqa.tasks.base import Task
from newsqa.types import Document, Result, Usage

__all__ = [
    "BatchItem",
    "BatchReport",
    "BatchRun",
    "completed_keys",
    "job_key",
    "result_key",
    "result_line",
    "run_batch",
    "run_document",
]

R = TypeVar("R", bound=Result)
"""The result type of a batch's task (``BatchRun[Summary]`` for ``summarize``)."""


class BatchItem(NamedTuple, Generic[R]):
    """One finished document of a batch: ``(id, outcome)``.

    ``outcome`` is the task's result, or the exception the document failed with
    (:class:`~newsqa.errors.NewsQAError` or ``ValueError``; a
    :class:`~newsqa.errors.DocumentError` for an input that did not load), or, in a
    provider batch round, :class:`~newsqa.llm.pending.Pending` (no line written: the
    document waits for the batch's replies).
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
    pending: int = 0
    """Documents that wait for a provider batch's replies (no line written yet)."""

    def to_dict(self) -> dict[str, Any]:
        """The JSON form (``--json`` of ``newsqa batch``; ``pending`` only when some
        document waits for a provider batch)."""
        return {
            "done": self.done,
            "failed": self.failed,
            "skipped": self.skipped,
            **({"pending": self.pending} if self.pending else {}),
            "usage": self.usage.model_dump(),
            "errors": dict(self.errors),
        }


def job_key(doc: Document, task: Task[Any]) -> str:
    """Resume key of one document's job (:meth:`~newsqa.tasks.base.Task.key`): SHA-256 of
    the task and its parameters and of everything of the document the prompt shows
    (id, text, title, date), so an edited document, another parameter or a changed
    schema never reuses an old result."""
    return task.key(doc)


def result_key(doc: Document, task: Task[Any], client: LLMClient | None) -> str:
    """The content key of ``task`` on ``doc`` with ``client``: SHA-256 of the document
    (id, text, title, date), the task and its parameters, the model, the endpoint and
    the prompt version (a hash of the templates the task renders), so another model,
    base URL or prompt template never reuses a result; for a task that uses no model
    (``client`` is ``None``), its :func:`job_key`."""
    if client is None:
        return job_key(doc, task)
    return content_key(
        document_text(doc),
        task.name,
        json.dumps(task.key_fields(), sort_keys=True, ensure_ascii=False),
        client.model,
        client.scope,
        prompts.version(task.prompts),
    )


def run_document(task: Task[R], doc: Document, client: LLMClient | None) -> BatchItem[R]:
    """``task`` on ``doc``: its result, or the error the document failed with
    (:class:`~newsqa.errors.NewsQAError` or ``ValueError``; an
    :class:`~newsqa.errors.LLMError` carries the usage of every call the document made)."""
    metered = client.metered() if client else contextlib.nullcontext()
    with metered as meter:
        try:
            outcome: R | Exception = task.run(doc, client=client)
        except (NewsQAError, ValueError) as e:
            outcome = e
    if isinstance(outcome, LLMError) and meter is not None:
        outcome.usage = meter.usage  # every call of the document, not only the last
    return BatchItem(doc.id, outcome)


def result_line(
    item: BatchItem[Any], job: dict[str, Any], model: str | None, key: str | None
) -> dict[str, Any]:
    """The JSONL line of one finished document: ``{"id", **job, "model", "key",
    "result", "usage"}``, or ``"error"`` and ``"error_type"`` (and the ``"source"`` of an
    input that did not load) in place of ``"result"``."""
    line: dict[str, Any] = {"id": item.id, **job}
    if model is not None:
        line["model"] = model
    if key:
        line["key"] = key
    if isinstance(item.outcome, Exception):
        line["error"] = str(item.outcome)
        line["error_type"] = type(item.outcome).__name__
        if isinstance(item.outcome, DocumentError) and item.outcome.source:
            line["source"] = item.outcome.source
    else:
        line["result"] = item.outcome.to_dict()
    line["usage"] = item.usage.model_dump()
    return line


def completed_keys(out: Path) -> set[str]:
    """The key of every line of ``out`` that holds a result (a later error line for the
    same key does not undo an earlier result)."""
    current, legacy = _result_keys(out)
    return current | legacy


def _result_keys(out: Path) -> tuple[set[str], set[str]]:
    """The keys of ``out``'s result lines: those that name their model (content keys,
    :func:`~newsqa.batch.keys.content_key`) and those that name none (written before
    lines recorded their model: a :func:`job_key`, made by the model in use)."""
    current: set[str] = set()
    legacy: set[str] = set()
    if not out.exists():
        return current, legacy
    with out.open(encoding="utf-8", errors="replace") as fh:
        for line in fh:
            try:
                record = json.loads(line)
            except (json.JSONDecodeError, RecursionError):
                continue  # a line cut short by a crash: that document runs again
            if isinstance(record, dict) and "result" in record and "key" in record:
                (current if "model" in record else legacy).add(str(record["key"]))
    return current, legacy


def input_id(error: DocumentError) -> str:
    """The id of an input that did not load, by the rule every line follows (the id of
    its document): a file's stem, ``stdin`` for ``-``, and ``file:line`` for a JSONL
    line (its record's id could not be read). A later result for that id supersedes it."""
    source = error.source or "?"
    if source == "-":
        return "stdin"
    if re.search(r":\d+$", source):
        return source
    return Path(source).stem


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
        task: the task object (``Summarize()``, ``Ask("Who met?")``, a registered task
            of your own, ...).
        out: JSONL output, a regular file or a new one (``/dev/full`` or a folder
            is refused); lines are ``{"id", "task", "model", "key", "result", "usage"}`` or
            ``{"id", "task", "model", "key", "error", "error_type", "usage"}``
            (``model`` when the task uses one), with the task's
            parameters as :meth:`~newsqa.tasks.base.Task.job` shows them.
        client: the LLM client (thread-safe; the embedded model serves one at a time);
            ``None`` for a task that does not use the model.
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
        ValueError: a task that cannot run (:meth:`~newsqa.tasks.base.Task.check`, e.g.
            an empty question), a task that uses the model without a client,
            ``concurrency`` below 1, an output that is not a regular file, or two
            documents with one id (at once unless ``docs`` is an iterator, otherwise
            when the second one is reached).
        SchemaError: a schema that cannot be extracted (before any document is read).
    """

    def __init__(
        self,
        docs: Iterable[Document | DocumentError],
        task: Task[R],
        out: Path,
        *,
        client: LLMClient | None,
        concurrency: int = 1,
        on_done: Callable[[str, bool], None] | None = None,
        close_client: bool = False,
    ) -> None:
        task.check()
        if task.uses_model and client is None:
            raise ValueError(f"the {task.name} task needs a model client")
        if concurrency < 1:
            raise ValueError("concurrency must be at least 1")
        self.task, self.out, self.client = task, out, client
        self.concurrency = concurrency
        self.report = BatchReport()
        check_output(out)
        self.total: int | None = None
        self.unreadable: list[DocumentError] = []
        if not isinstance(docs, Iterator):  # walked twice: refused before any work
            self.total, self.unreadable = check_inputs(docs)
        self._docs = docs
        self._on_done = on_done
        self._close_client = close_client
        self._job = task.job()
        self._lock = threading.Lock()
        self._started = False
        self._file: OutputFile | None = None

    @staticmethod
    def files(out: str | Path) -> tuple[Path, Path]:
        """What a run on ``out`` writes: ``out`` and ``out.partial`` (torn lines);
        a walk of its inputs must leave both out (``Inputs(..., skip=...)``)."""
        return output_files(Path(out))

    def _key(self, doc: Document) -> str:
        return result_key(doc, self.task, self.client)

    def _done(self, doc: Document, skip: tuple[set[str], set[str]]) -> bool:
        """Has ``doc`` a result in the output: a line with its content key, or a line
        that names no model with its :func:`job_key` (made by the model in use, so
        upgrading newsqa bills no finished document again)?"""
        current, legacy = skip
        return self._key(doc) in current or job_key(doc, self.task) in legacy

    def _record(self, item: BatchItem[R], key: str | None = None) -> BatchItem[R]:
        """Append the item's line (flushed), count it, report progress."""
        model = self.client.model if self.client is not None else None
        line = result_line(item, self._job, model, key)
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
        try:
            item = run_document(self.task, doc, self.client)
        except Pending as e:  # its requests wait for a provider batch: no line yet
            with self._lock:
                self.report.pending += 1
            return BatchItem(doc.id, e)
        return self._record(item, self._key(doc))

    def _entries(self) -> Iterator[Document | BatchItem[R]]:
        """Documents still to run, and the recorded items of inputs that did not load."""
        if self._started:
            raise RuntimeError("a batch run can be iterated only once")
        self._started = True
        self._file = OutputFile(self.out)
        skip = _result_keys(self.out)
        sources: dict[str, str | None] = {}
        for entry in self._docs:
            if isinstance(entry, DocumentError):
                yield self._record(BatchItem(input_id(entry), entry))
                continue
            if entry.id in sources:
                raise duplicate_id(entry, sources[entry.id])
            sources[entry.id] = entry.source
            if self._done(entry, skip):
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
        if self._close_client and self.client is not None:
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
        """The same run as ``for``, each step awaited off the event loop: leaving early
        (``break``, cancellation) closes it as ``break`` closes the ``for`` loop, as soon as
        the step under way returns, without waiting for the documents in flight."""
        items = iter(self)
        stepper = cf.ThreadPoolExecutor(max_workers=1, thread_name_prefix="newsqa-batch")
        step: cf.Future[BatchItem[R] | None] = stepper.submit(next, items, None)
        try:
            while (item := await asyncio.wrap_future(step)) is not None:
                yield item
                step = stepper.submit(next, items, None)
        finally:
            step.add_done_callback(lambda _: items.close())
            stepper.shutdown(wait=False)


def run_batch(
    docs: Iterable[Document | DocumentError],
    task: Task[R],
    out: Path,
    *,
    client: LLMClient | None,
    concurrency: int = 1,
    on_done: Callable[[str, bool], None] | None = None,
) -> BatchReport:
    """Run ``task`` on every document, appending one JSONL line each to ``out``, and
    return the report (arguments as for :class:`BatchRun`)."""
    return BatchRun(docs, task, out, client=client, concurrency=concurrency, on_done=on_done).run()
