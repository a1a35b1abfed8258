"""Batch runs: one task over many documents, one JSONL line per document.

Each finished document is appended to the output file at once (and flushed), so an
interrupted run loses no finished work. Re-running with the same output skips the
documents that already have a result and retries those that failed. Failures are
recorded per document (``error``) and never stop the batch.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from newsqa.errors import DocumentError, NewsQAError
from newsqa.llm.client import LLMClient
from newsqa.tasks.ask import ask
from newsqa.tasks.stances import DEFAULT_TOPIC, analyze_stances
from newsqa.tasks.summarize import summarize
from newsqa.types import Document, Usage

__all__ = ["BatchReport", "Task", "completed_ids", "run_batch"]

Task = Literal["summarize", "stances", "ask"]


@dataclass
class BatchReport:
    """What a batch run did."""

    done: int = 0
    failed: int = 0
    skipped: int = 0
    usage: Usage = field(default_factory=Usage)
    errors: dict[str, str] = field(default_factory=dict)


def _job(task: str, question: str | None, topic: str) -> dict[str, str]:
    """What identifies a job besides the document: the task and its question or topic."""
    if task == "ask":
        return {"task": task, "question": question or ""}
    if task == "stances":
        return {"task": task, "topic": topic}
    return {"task": task}


def completed_ids(
    out: Path, task: str, *, question: str | None = None, topic: str = DEFAULT_TOPIC
) -> set[str]:
    """Ids that already have a result for this job (task, and its question or topic)
    in ``out``; a later error line for the same id does not undo an earlier result."""
    done: set[str] = set()
    if not out.exists():
        return done
    job = _job(task, question, topic)
    with out.open(encoding="utf-8", errors="replace") as fh:
        for line in fh:
            try:
                record = json.loads(line)
            except json.JSONDecodeError:
                continue  # a line cut short by a crash: that document runs again
            if (
                isinstance(record, dict)
                and "result" in record
                and all(record.get(k) == v for k, v in job.items())
            ):
                done.add(str(record.get("id")))
    return done


def _run_one(
    doc: Document, task: Task, client: LLMClient, question: str | None, topic: str
) -> tuple[dict[str, Any], Usage]:
    if task == "summarize":
        summary = summarize(doc, client=client)
        return summary.to_dict(), summary.usage
    if task == "stances":
        report = analyze_stances(doc, topic, client=client)
        return report.to_dict(), report.usage
    if not question:
        raise ValueError("the ask task needs a question")
    answer = ask([doc], question, client=client)
    return answer.to_dict(), answer.usage


def run_batch(
    docs: Iterable[Document | DocumentError],
    task: Task,
    out: Path,
    *,
    client: LLMClient,
    question: str | None = None,
    topic: str = DEFAULT_TOPIC,
    concurrency: int = 1,
    on_done: Callable[[str, bool], None] | None = None,
) -> BatchReport:
    """Run ``task`` on every document and append one JSONL line each to ``out``.

    Args:
        docs: documents, or the :class:`DocumentError` of inputs that failed to load
            (recorded as failures, so a bad file never stops the batch).
        task: ``summarize``, ``stances`` or ``ask``.
        out: JSONL output; lines are ``{"id", "task", "result"}`` or
            ``{"id", "task", "error", "error_type"}``, with ``usage``.
        client: the LLM client (thread-safe; the embedded model serves one at a time).
        question: required for ``ask``.
        topic: for ``stances``.
        concurrency: documents in flight at once.
        on_done: called with ``(id, ok)`` after each document (progress bars).
    """
    if task == "ask" and not (question and question.strip()):
        raise ValueError("the ask task needs a question")
    if concurrency < 1:
        raise ValueError("concurrency must be at least 1")
    out.parent.mkdir(parents=True, exist_ok=True)
    skip = completed_ids(out, task, question=question, topic=topic)
    job = _job(task, question, topic)
    report = BatchReport()
    lock = threading.Lock()

    def write(record: dict[str, Any], ok: bool) -> None:
        with lock, out.open("a", encoding="utf-8") as fh:
            fh.write(json.dumps(record, ensure_ascii=False) + "\n")
            fh.flush()
            if ok:
                report.done += 1
            else:
                report.failed += 1
                report.errors[str(record["id"])] = str(record["error"])
        if on_done:
            on_done(str(record["id"]), ok)

    def work(doc: Document) -> None:
        try:
            result, usage = _run_one(doc, task, client, question, topic)
        except (NewsQAError, ValueError) as e:
            usage = getattr(e, "usage", None) or Usage()
            with lock:
                report.usage += usage
            write(
                {
                    "id": doc.id,
                    **job,
                    "error": str(e),
                    "error_type": type(e).__name__,
                    "usage": usage.model_dump(),
                },
                ok=False,
            )
            return
        with lock:
            report.usage += usage
        write({"id": doc.id, **job, "result": result, "usage": usage.model_dump()}, ok=True)

    def pending() -> Iterator[Document]:
        for item in docs:
            if isinstance(item, DocumentError):
                write(
                    {
                        "id": item.source or "?",
                        **job,
                        "error": str(item),
                        "error_type": "DocumentError",
                        "usage": Usage().model_dump(),
                    },
                    ok=False,
                )
            elif item.id in skip:
                report.skipped += 1
            else:
                yield item

    pool = ThreadPoolExecutor(max_workers=concurrency)
    running: set[Future[None]] = set()
    try:
        for doc in pending():
            if len(running) >= concurrency:
                finished, running = wait(running, return_when=FIRST_COMPLETED)
                for f in finished:
                    f.result()
            running.add(pool.submit(work, doc))
        for f in running:
            f.result()
    except BaseException:
        # Ctrl-C: do not wait for requests in flight; every finished line is on disk.
        pool.shutdown(wait=False, cancel_futures=True)
        raise
    pool.shutdown()
    return report
