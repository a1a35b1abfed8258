"""A worker of the job queue (:mod:`newsqa.batch.queue`): procrastinate's worker running
newsqa's one task, the recovery of stalled workers' jobs, and the probe of an endpoint.
"""

from __future__ import annotations

import asyncio
import concurrent.futures as cf
import json
import os
import socket
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from newsqa.batch.run import BatchItem, result_line, run_document
from newsqa.errors import LLMError, NewsQAError, QueueError
from newsqa.llm.client import LLMClient
from newsqa.tasks.base import Task
from newsqa.types import Document

if TYPE_CHECKING:
    import procrastinate

__all__ = ["TASK_NAME", "WorkReport", "probe", "serve"]

TASK_NAME = "newsqa.run_document"
"""The procrastinate task every job names."""
_STORE = """
INSERT INTO newsqa_results (key, ok, line, worker) VALUES (%(key)s, %(ok)s, %(line)s,
    %(worker)s)
ON CONFLICT (key) DO UPDATE SET ok = excluded.ok, line = excluded.line,
    worker = excluded.worker, finished_at = now()
WHERE NOT newsqa_results.ok
"""
"""A result is written once; a failure is replaced by a later try's line."""


@dataclass
class WorkReport:
    """What one worker did before it stopped."""

    done: int = 0
    failed: int = 0
    skipped: int = 0
    """Jobs whose result was stored already (by a worker that died after writing it)."""


async def serve(
    app: procrastinate.App,
    queues: list[str],
    *,
    client: LLMClient | None,
    rebuild: Callable[[Mapping[str, Any]], Task[Any]],
    concurrency: int,
    lease: float,
    wait: bool,
    on_done: Callable[[str, bool], None] | None = None,
) -> WorkReport:
    """Run the jobs of ``queues`` with procrastinate's worker (``app`` not open yet),
    at most ``concurrency`` at a time in threads, until stopped (or, unless ``wait``,
    until none is left); meanwhile retake the jobs of stalled workers (:func:`_retake`).
    Each document's line is stored by its content key (once: a failure is replaced by a
    later success, a success never)."""
    report = WorkReport()
    worker = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"
    pool = cf.ThreadPoolExecutor(max_workers=concurrency)

    async def run_document_job(**payload: Any) -> None:
        key = str(payload["key"])
        connector = app.connector
        stored = await connector.execute_query_one_async(
            "SELECT count(*) AS n FROM newsqa_results WHERE key = %(key)s AND ok", key=key
        )
        if stored["n"]:
            report.skipped += 1
            return
        loop = asyncio.get_running_loop()
        doc = Document.model_validate(payload["doc"])
        try:
            task = rebuild(payload["task"])
        except (NewsQAError, ValueError) as e:  # e.g. a schema this worker cannot import
            item: BatchItem[Any] = BatchItem(doc.id, e)
            job = {"task": payload["task"].get("task")}
        else:
            item = await loop.run_in_executor(pool, run_document, task, doc, client)
            job = task.job()
        line = result_line(item, job, payload.get("model"), key)
        await connector.execute_query_async(
            _STORE,
            key=key,
            ok=item.ok,
            line=json.dumps(line, ensure_ascii=False),
            worker=worker,
        )
        if item.ok:
            report.done += 1
        else:
            report.failed += 1
        if on_done:
            on_done(doc.id, item.ok)

    app.task(name=TASK_NAME)(run_document_job)
    try:
        async with app.open_async():
            await _retake(app, queues, lease)  # before the first fetch
            recovery = asyncio.create_task(_recover(app, queues, lease))
            try:
                await app.run_worker_async(
                    queues=queues,
                    concurrency=concurrency,
                    wait=wait,
                    name=worker,
                    update_heartbeat_interval=max(lease / 5, 0.2),
                    stalled_worker_timeout=lease,
                    fetch_job_polling_interval=min(lease / 2, 5.0),
                    delete_jobs="successful",
                )
            finally:
                recovery.cancel()
    finally:
        pool.shutdown(wait=False, cancel_futures=True)
    return report


async def _recover(app: procrastinate.App, queues: list[str], lease: float) -> None:
    """Every ``lease / 2`` seconds, :func:`_retake` the jobs of stalled workers."""
    while True:
        await asyncio.sleep(lease / 2)
        await _retake(app, queues, lease)


async def _retake(app: procrastinate.App, queues: list[str], lease: float) -> int:
    """Put back the running jobs of workers whose heartbeat is older than ``lease``
    (killed or cut off), so another worker takes them; how many were."""
    retaken = 0
    for queue in queues:
        for job in await app.job_manager.get_stalled_jobs(
            queue=queue, seconds_since_heartbeat=lease
        ):
            try:
                await app.job_manager.retry_job(job)
                retaken += 1
            except Exception:  # taken back by another worker meanwhile: theirs now
                continue
    return retaken


def probe(client: LLMClient) -> None:
    """One small request: a worker whose endpoint, key or model is wrong fails here,
    before it takes any job.

    Raises:
        LLMError: the request failed (after the client's retries).
    """
    try:
        client.chat(
            [{"role": "user", "content": f"Reply OK. ({uuid.uuid4().hex[:8]})"}],
            max_tokens=1,
            store=False,
        )
    except LLMError:
        raise
    except NewsQAError as e:
        raise QueueError(f"this worker cannot reach its model: {e}") from e
