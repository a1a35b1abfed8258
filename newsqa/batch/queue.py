"""One batch split across many workers: a job queue on PostgreSQL (procrastinate).

``enqueue`` turns a batch into one job per document in a named job set (the task's
parameters as JSON, the document, its content key); a document whose content key has
a result already is not enqueued again, and one waiting in the queue is not queued
twice (procrastinate's queueing lock). Workers on any machine take jobs with
``SELECT … FOR UPDATE SKIP LOCKED`` (procrastinate), each at most ``concurrency`` at a
time, and store each result by its content key: a job run twice writes nothing
twice. A worker sends a heartbeat; a job whose worker stopped beating for ``lease``
seconds (killed, lost) is taken again by another worker. :meth:`JobQueue.write_results`
writes a job set's results as the JSONL lines of a local batch.

A worker serves the job sets whose model and endpoint are its own (the content key
holds both), and checks its endpoint with one request before it takes a job: a
misconfigured worker stops at once and leaves the jobs to the others.

Needs the ``postgres`` extra (psycopg 3, procrastinate).
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from newsqa.batch.output import OutputFile, check_output
from newsqa.batch.run import result_key
from newsqa.batch.worker import TASK_NAME, WorkReport, probe, serve
from newsqa.errors import QueueError
from newsqa.llm.client import LLMClient
from newsqa.tasks.base import Task, task_from_job
from newsqa.types import Document

if TYPE_CHECKING:
    import procrastinate
    import psycopg

__all__ = ["QUEUE_FORMAT", "EnqueueReport", "JobQueue", "QueueStatus", "WorkReport"]

QUEUE_FORMAT = "newsqa-queue-1"
"""The version of the queue's tables (``newsqa_queue_meta``); another is refused."""
DEFER_CHUNK = 500
"""Jobs written per statement while enqueueing."""
_TABLES = f"""
CREATE TABLE newsqa_queue_meta (key text PRIMARY KEY, value text NOT NULL);
CREATE TABLE newsqa_job_sets (
    name text PRIMARY KEY, task jsonb NOT NULL, model text, endpoint text,
    created_at timestamptz NOT NULL DEFAULT now()
);
CREATE TABLE newsqa_set_items (
    job_set text NOT NULL REFERENCES newsqa_job_sets(name) ON DELETE CASCADE,
    key text NOT NULL, doc_id text NOT NULL, seq bigserial,
    PRIMARY KEY (job_set, key)
);
CREATE TABLE newsqa_results (
    key text PRIMARY KEY, ok boolean NOT NULL, line text NOT NULL, worker text,
    finished_at timestamptz NOT NULL DEFAULT now()
);
INSERT INTO newsqa_queue_meta VALUES ('format', '{QUEUE_FORMAT}');
"""


def _queue_name(job_set: str) -> str:
    return f"newsqa:{job_set}"


@dataclass
class EnqueueReport:
    """What :meth:`JobQueue.enqueue` did."""

    job_set: str
    enqueued: int = 0
    done: int = 0
    """Documents whose content key had a result already (not enqueued)."""
    waiting: int = 0
    """Documents with a job in the queue already (not enqueued twice)."""

    def to_dict(self) -> dict[str, Any]:
        return {
            "job_set": self.job_set,
            "enqueued": self.enqueued,
            "done": self.done,
            "waiting": self.waiting,
        }


@dataclass
class QueueStatus:
    """A job set's documents: results, failures, and jobs by procrastinate status."""

    job_set: str
    documents: int = 0
    done: int = 0
    failed: int = 0
    jobs: dict[str, int] = field(default_factory=dict)
    """``todo``, ``doing``, ``succeeded``, ``failed``, ``cancelled``… → how many."""

    def to_dict(self) -> dict[str, Any]:
        return {
            "job_set": self.job_set,
            "documents": self.documents,
            "done": self.done,
            "failed": self.failed,
            "jobs": dict(self.jobs),
        }


def _modules() -> tuple[Any, Any]:
    try:
        import procrastinate
        import psycopg
    except ImportError:
        raise QueueError(
            "a job queue needs the postgres extra: pip install 'newsqa[postgres]'"
        ) from None
    return psycopg, procrastinate


def _first_line(error: BaseException) -> str:
    return (str(error).strip().splitlines() or [type(error).__name__])[0]


class JobQueue:
    """The job queue in one PostgreSQL database.

    Args:
        url: a libpq URL (``postgresql:///jobs?host=/run/postgresql``).
        create: set the queue up when the database has none (enqueueing does).
        describe: the task's job as JSON another process can rebuild.
        rebuild: the task of such a job.

    Raises:
        QueueError: the postgres extra is missing, the server cannot be reached, no
            queue there (``create=False``), a queue of another schema version, or a
            procrastinate schema that is not newsqa's.
    """

    def __init__(
        self,
        url: str,
        *,
        create: bool = False,
        describe: Callable[[Task[Any]], dict[str, Any]] = Task.job,
        rebuild: Callable[[Mapping[str, Any]], Task[Any]] = task_from_job,
    ) -> None:
        from newsqa.retrieval.postgres_index import connect, redact

        pg, self._procrastinate = _modules()
        self.url, self.where = url, redact(url)
        self._describe, self._rebuild = describe, rebuild
        try:
            self._db: psycopg.Connection[Any] = connect(pg, url)
        except pg.Error as e:
            raise QueueError(f"{self.where}: cannot reach the queue ({_first_line(e)})") from None
        try:
            self._open(create)
        except pg.Error as e:
            self._db.close()
            raise QueueError(f"{self.where}: cannot use the queue ({_first_line(e)})") from None
        except QueueError:
            self._db.close()
            raise

    def _open(self, create: bool) -> None:
        with self._db.transaction():
            self._db.execute("SELECT pg_advisory_xact_lock(hashtextextended('newsqa_queue', 0))")
            tables = {
                r[0]
                for r in self._db.execute(
                    "SELECT tablename FROM pg_tables WHERE schemaname = current_schema()"
                )
            }
            if "newsqa_queue_meta" in tables:
                row = self._db.execute(
                    "SELECT value FROM newsqa_queue_meta WHERE key = 'format'"
                ).fetchone()
                found = row[0] if row else None
                if found != QUEUE_FORMAT:
                    raise QueueError(
                        f"{self.where}: queue schema {found!r} is not supported (this newsqa "
                        f"runs {QUEUE_FORMAT!r}); use the newsqa that made it, or another "
                        "database"
                    )
                return
            if "procrastinate_jobs" in tables:
                raise QueueError(
                    f"{self.where}: holds a procrastinate queue that is not newsqa's; "
                    "use another database"
                )
            if not create:
                raise QueueError(
                    f"{self.where}: no newsqa queue here; enqueue with `newsqa batch --queue`"
                )
            schema = self._procrastinate.schema.SchemaManager.get_schema()
            self._db.execute(schema)
            self._db.execute(_TABLES)

    def close(self) -> None:
        """Close the connection."""
        self._db.close()

    def __enter__(self) -> JobQueue:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def _app(self) -> procrastinate.App:
        """A procrastinate app on this database (not open)."""
        connector = self._procrastinate.PsycopgConnector(conninfo=self.url)
        return self._procrastinate.App(connector=connector)  # type: ignore[no-any-return]

    def _register_set(self, job_set: str, task: Task[Any], client: LLMClient | None) -> None:
        """Record the set's task, model and endpoint (a set holds one of each)."""
        if not job_set.strip():
            raise QueueError("a job set needs a name")
        job = self._describe(task)
        model = client.model if client else None
        endpoint = client.scope if client else None
        self._db.execute(
            "INSERT INTO newsqa_job_sets (name, task, model, endpoint) "
            "VALUES (%s, %s::jsonb, %s, %s) ON CONFLICT (name) DO NOTHING",
            (job_set, json.dumps(job, sort_keys=True), model, endpoint),
        )
        row = self._db.execute(
            "SELECT task, model, endpoint FROM newsqa_job_sets WHERE name = %s", (job_set,)
        ).fetchone()
        assert row is not None
        if (row[0], row[1], row[2]) != (json.loads(json.dumps(job)), model, endpoint):
            raise QueueError(
                f"the job set {job_set!r} runs another task, model or endpoint "
                f"({row[0].get('task')} with {row[1] or 'no model'}); name another set"
            )

    def enqueue(
        self,
        docs: Iterable[Document],
        task: Task[Any],
        *,
        client: LLMClient | None,
        job_set: str = "default",
    ) -> EnqueueReport:
        """One job per document in ``job_set``; documents whose content key has a
        result already, or a job waiting already, are not enqueued.

        Raises:
            QueueError: a set of that name for another task, model or endpoint.
            ValueError: a task that cannot run, or that needs a client and has none.
        """
        task.check()
        if task.uses_model and client is None:
            raise ValueError(f"the {task.name} task needs a model client")
        self._register_set(job_set, task, client)
        job = self._describe(task)
        report = EnqueueReport(job_set)
        model = client.model if client else None
        endpoint = client.scope if client else None
        app = self._app()
        with app.open():
            chunk: list[tuple[str, Document]] = []
            for doc in docs:
                chunk.append((result_key(doc, task, client), doc))
                if len(chunk) >= DEFER_CHUNK:
                    self._defer(app, chunk, job_set, job, model, endpoint, report)
                    chunk = []
            self._defer(app, chunk, job_set, job, model, endpoint, report)
        return report

    def _defer(
        self,
        app: procrastinate.App,
        chunk: list[tuple[str, Document]],
        job_set: str,
        job: dict[str, Any],
        model: str | None,
        endpoint: str | None,
        report: EnqueueReport,
    ) -> None:
        if not chunk:
            return
        keys = [key for key, _ in chunk]
        with self._db.cursor() as cur:
            cur.executemany(
                "INSERT INTO newsqa_set_items (job_set, key, doc_id) VALUES (%s, %s, %s) "
                "ON CONFLICT DO NOTHING",
                [(job_set, key, doc.id) for key, doc in chunk],
            )
        done = {
            r[0]
            for r in self._db.execute(
                "SELECT key FROM newsqa_results WHERE ok AND key = ANY(%s)", (keys,)
            )
        }
        waiting = {
            r[0]
            for r in self._db.execute(
                "SELECT queueing_lock FROM procrastinate_jobs "
                "WHERE status = 'todo' AND queueing_lock = ANY(%s)",
                (keys,),
            )
        }
        report.done += len(done)
        report.waiting += len(waiting - done)
        jobs = [
            self._procrastinate.jobs.Job(
                queue=_queue_name(job_set),
                lock=key,
                queueing_lock=key,
                task_name=TASK_NAME,
                task_kwargs={
                    "set": job_set,
                    "key": key,
                    "model": model,
                    "endpoint": endpoint,
                    "task": job,
                    "doc": doc.model_dump(mode="json"),
                },
            )
            for key, doc in chunk
            if key not in done and key not in waiting
        ]
        try:
            app.job_manager.batch_defer_jobs(jobs)
            report.enqueued += len(jobs)
        except self._procrastinate.exceptions.AlreadyEnqueued:
            for one in jobs:  # another enqueuer raced us: one at a time
                try:
                    app.job_manager.defer_job(one)
                    report.enqueued += 1
                except self._procrastinate.exceptions.AlreadyEnqueued:
                    report.waiting += 1

    def sets(self) -> list[str]:
        """The job sets, oldest first."""
        rows = self._db.execute("SELECT name FROM newsqa_job_sets ORDER BY created_at, name")
        return [r[0] for r in rows]

    def _known(self, job_set: str) -> None:
        if job_set not in self.sets():
            known = ", ".join(self.sets()) or "none"
            raise QueueError(f"no job set {job_set!r} in the queue (sets: {known})")

    def status(self, job_set: str = "default") -> QueueStatus:
        """The set's documents, results, failures and jobs by status."""
        self._known(job_set)
        row = self._db.execute(
            "SELECT count(*), count(*) FILTER (WHERE r.ok), count(*) FILTER (WHERE NOT r.ok) "
            "FROM newsqa_set_items i LEFT JOIN newsqa_results r ON r.key = i.key "
            "WHERE i.job_set = %s",
            (job_set,),
        ).fetchone()
        assert row is not None
        jobs = {
            str(status): int(n)
            for status, n in self._db.execute(
                "SELECT status, count(*) FROM procrastinate_jobs WHERE queue_name = %s "
                "GROUP BY status ORDER BY status",
                (_queue_name(job_set),),
            )
        }
        return QueueStatus(job_set, documents=row[0], done=row[1], failed=row[2], jobs=jobs)

    def cancel(self, job_set: str = "default") -> int:
        """Cancel the set's waiting jobs (those running finish); how many were."""
        self._known(job_set)
        app = self._app()
        cancelled = 0
        with app.open():
            for job in app.job_manager.list_jobs(queue=_queue_name(job_set), status="todo"):
                assert job.id is not None
                cancelled += bool(app.job_manager.cancel_job_by_id(job.id))
        return cancelled

    def write_results(self, out: Path, job_set: str = "default") -> int:
        """Append the set's lines to ``out`` (the JSONL of a local batch: one line per
        document with a result or a failure, in the order they were enqueued); how
        many were written. Documents still waiting have no line."""
        self._known(job_set)
        check_output(out)
        rows = self._db.execute(
            "SELECT r.line FROM newsqa_set_items i JOIN newsqa_results r ON r.key = i.key "
            "WHERE i.job_set = %s ORDER BY i.seq",
            (job_set,),
        )
        written = 0
        output = OutputFile(out)
        try:
            for (line,) in rows:
                output.append(line)  # as the worker wrote it
                written += 1
        finally:
            output.close()
        return written

    def work(
        self,
        client: LLMClient | None,
        *,
        concurrency: int = 1,
        lease: float = 30.0,
        job_sets: Iterable[str] | None = None,
        wait: bool = True,
        on_done: Callable[[str, bool], None] | None = None,
    ) -> WorkReport:
        """Run jobs until stopped (Ctrl-C, SIGTERM), or until the queue is empty when
        ``wait`` is false.

        Args:
            client: this worker's model client (``None``: only sets of tasks that use
                no model).
            concurrency: jobs in flight at once (each worker's own cap).
            lease: seconds without a heartbeat after which a worker's running jobs
                are taken again by another.
            job_sets: the sets to serve (default: every set of this worker's model
                and endpoint).
            on_done: called with ``(doc_id, ok)`` after each job.

        Raises:
            QueueError: no set for this worker's model and endpoint, or a named set
                of another model or endpoint.
            LLMError: the endpoint failed its first request (before any job is taken).
        """
        if concurrency < 1:
            raise ValueError("concurrency must be at least 1")
        if lease <= 0:
            raise ValueError("the lease must be positive")
        queues = self._serving(client, job_sets)
        if client is not None:
            probe(client)
        return asyncio.run(
            serve(
                self._app(),
                queues,
                client=client,
                rebuild=self._rebuild,
                concurrency=concurrency,
                lease=lease,
                wait=wait,
                on_done=on_done,
            )
        )

    def _serving(self, client: LLMClient | None, job_sets: Iterable[str] | None) -> list[str]:
        """The queues of the sets this worker can run (its model and endpoint)."""
        rows = list(self._db.execute("SELECT name, model, endpoint FROM newsqa_job_sets"))
        model = client.model if client else None
        endpoint = client.scope if client else None
        mine = {name for name, m, e in rows if m is None or (m, e) == (model, endpoint)}
        wanted = list(job_sets) if job_sets is not None else sorted(mine)
        for name in wanted:
            self._known(name)
            if name not in mine:
                m, e = next((m, e) for n, m, e in rows if n == name)
                raise QueueError(
                    f"the job set {name!r} runs {m} at {e}; this worker has "
                    f"{model or 'no model'} at {endpoint or '-'} (give the same --base-url "
                    "and --model as the enqueuer)"
                )
        if not wanted:
            raise QueueError(
                f"no job set in the queue for {model or 'no model'} at {endpoint or '-'}; "
                f"sets: {', '.join(n for n, _, _ in rows) or 'none'}"
            )
        return [_queue_name(name) for name in wanted]
