"""Provider batch runs: a task over many documents in rounds of a provider's Batch API.

Each round runs the task's pipeline on every document not finished yet, with the
client answering from the replies earlier batches returned (then the response cache)
and queueing every other request (:meth:`~newsqa.llm.client.LLMClient.answering_from`).
A document whose calls are all answered finishes and is written at once; the others
wait. The queued requests are submitted as batches (files of at most 50,000 requests
and 200 MB), polled until they finish, and their outputs loaded for the next round.
A task of dependent calls simply takes more rounds: stance reports 2 (actor names,
then every actor at once), a long document's summary 2 (every window, then the
reduce step), plus one per re-ask of a reply that failed validation.

The state (rounds, batches in flight, failures, the structured-output mode) is saved
in ``<out>.rounds/`` after every step, so running again resumes polling and never
resubmits what is in flight; the folder is removed once no request is pending.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from newsqa.batch.provider import BatchesAPI, BatchStatus
from newsqa.batch.replies import (
    MAX_FILE_BYTES,
    MAX_FILE_REQUESTS,
    RoundReplies,
    request_files,
    request_line,
)
from newsqa.batch.run import BatchReport, BatchRun, input_id
from newsqa.batch.state import RunState, Submitted, rounds_folder
from newsqa.documents.load import check_inputs
from newsqa.errors import ConfigError, DocumentError, LLMError
from newsqa.llm.client import LLMClient
from newsqa.llm.pending import Pending
from newsqa.tasks.base import Task
from newsqa.types import Document

__all__ = ["BatchObserver", "ProviderRun", "RoundsReport", "cancel_batches"]

MAX_ROUNDS = 50
"""Rounds after which a run stops with an error (a task needs a handful at most)."""


@dataclass
class RoundsReport(BatchReport):
    """What a provider batch run did: the batch counts, plus its rounds."""

    rounds: int = 0
    """Rounds submitted (or exported) in all, earlier runs of the command included."""
    submitted: int = 0
    """Requests this command submitted (or exported)."""

    def to_dict(self) -> dict[str, Any]:
        return {**super().to_dict(), "rounds": self.rounds, "submitted": self.submitted}


class BatchObserver:
    """What a provider batch run tells as it goes (the CLI prints it); the default
    tells nothing."""

    def submitting(self, round_: int, requests: int, files: int, at_least: int) -> None:
        """Round ``round_`` is about to submit ``requests`` requests in ``files`` files;
        the task takes ``at_least`` rounds in all."""

    def submitted(self, batch_id: str, requests: int) -> None:
        """One batch was started."""

    def polled(self, statuses: list[BatchStatus], elapsed: float) -> None:
        """The batches in flight, ``elapsed`` seconds after polling started."""

    def round_done(self, round_: int, report: BatchReport) -> None:
        """A pipeline pass finished: its documents done, failed and still pending."""


class ProviderRun:
    """A provider batch run of ``task`` over ``docs`` into ``out``.

    Args:
        docs: documents (or :class:`DocumentError` entries); walked once per round,
            so not an iterator.
        task: the task object.
        out: the JSONL output (as for :class:`~newsqa.batch.run.BatchRun`).
        client: the model client; it must have a response cache.
        concurrency: documents run at once in each pipeline pass.
        api: the Batches API (default: the client's endpoint's).
        observer: told about submissions, polls and rounds.
        poll_seconds: seconds between polls of the batches in flight.
        sleep: how to wait between polls (default ``time.sleep``).
        max_requests, max_bytes: limits of one request file.

    Raises:
        ValueError: ``docs`` is an iterator, or the task cannot run (as for
            :class:`~newsqa.batch.run.BatchRun`).
        ConfigError: the client has no response cache.
    """

    def __init__(
        self,
        docs: Iterable[Document | DocumentError],
        task: Task[Any],
        out: Path,
        *,
        client: LLMClient,
        concurrency: int = 1,
        api: BatchesAPI | None = None,
        observer: BatchObserver | None = None,
        poll_seconds: float = 30.0,
        sleep: Callable[[float], None] | None = None,
        max_requests: int = MAX_FILE_REQUESTS,
        max_bytes: int = MAX_FILE_BYTES,
    ) -> None:
        if isinstance(docs, Iterator):
            raise ValueError(
                "a provider batch walks its inputs once per round: give paths or a list"
            )
        task.check()
        if client.cache is None:
            raise ConfigError("a provider batch needs the response cache (drop --no-cache)")
        check_inputs(docs)
        self.docs, self.task, self.out, self.client = docs, task, Path(out), client
        self.concurrency = concurrency
        self.api = api or BatchesAPI(client.sdk, key=client.settings.api_key)
        self.observer = observer or BatchObserver()
        self.poll_seconds, self._sleep = poll_seconds, sleep or time.sleep
        self.max_requests, self.max_bytes = max_requests, max_bytes
        self.folder = rounds_folder(self.out)
        self.state = RunState.load(self.folder)
        self.report = RoundsReport(rounds=self.state.rounds)
        self._finished: set[str] = set()
        self._passes = 0
        self._replies: RoundReplies | None = None

    @property
    def replies(self) -> RoundReplies:
        if self._replies is None:
            self._replies = RoundReplies(
                self.folder / "replies.sqlite",
                self.state.failures,
                retries=self.client.settings.max_retries,
            )
        return self._replies

    def _save(self) -> None:
        self.state.structured_mode = self.client.structured_mode
        self.state.save(self.folder)

    def run(
        self, *, export_requests: Path | None = None, import_responses: Path | None = None
    ) -> RoundsReport:
        """Run rounds until no request is pending (polling the batches in flight of an
        earlier run first), or, with ``export_requests``, until one round's requests
        are written to that file for another server (``vllm run-batch``); with
        ``import_responses``, that server's output file is loaded first. With either
        file nothing is submitted to the Batches API: a pass that leaves requests
        pending and has no file to write them to stops (``report.pending``).

        Raises:
            ValueError: an output file that is not batch output lines.
            LLMError: the Batches API failed (the state is saved: run again).
        """
        if self.state.structured_mode:
            self.client.structured_mode = self.state.structured_mode
        try:
            if import_responses is not None:
                with import_responses.open(encoding="utf-8") as fh:
                    self.replies.load(fh, expected=self.state.exported)
                self.state.exported = []
                self._save()
            while True:
                self._collect()
                passed = self._pass()
                self.observer.round_done(self.state.rounds, passed)
                pending = dict(self.replies.pending)
                if not pending:
                    self._finish()
                    return self.report
                self.report.pending = passed.pending
                if import_responses is not None and export_requests is None:
                    return self.report  # the next round's requests wait for an export
                if self.state.rounds >= MAX_ROUNDS:
                    raise LLMError(f"requests still pending after {MAX_ROUNDS} rounds")
                self.state.rounds += 1
                self.report.rounds = self.state.rounds
                self.report.submitted += len(pending)
                if export_requests is not None:
                    self._export(pending, export_requests)
                    return self.report
                self._submit(pending)
        finally:
            if self._replies is not None:
                self._replies.close()
                self._replies = None

    def _remaining(self) -> Iterator[Document | DocumentError]:
        """The inputs not finished by an earlier pass of this run."""
        for entry in self.docs:
            name = input_id(entry) if isinstance(entry, DocumentError) else entry.id
            if name not in self._finished:
                yield entry

    def _pass(self) -> BatchReport:
        """One pipeline pass over the unfinished documents."""
        self.replies.pending.clear()
        run = BatchRun(
            self._remaining(), self.task, self.out, client=self.client, concurrency=self.concurrency
        )
        with self.client.answering_from(self.replies):
            for item in run:
                if not isinstance(item.outcome, Pending):
                    self._finished.add(item.id)
        self._save()  # the structured-output mode the endpoint took
        report = run.report
        self.report.done += report.done
        self.report.failed += report.failed
        self.report.errors.update(report.errors)
        self.report.usage += report.usage
        if not self._passes:  # documents done before this run (later passes leave them out)
            self.report.skipped = report.skipped
        self._passes += 1
        return report

    def _export(self, pending: dict[str, dict[str, Any]], path: Path) -> None:
        with path.open("w", encoding="utf-8") as fh:  # one file: a local server has no limit
            fh.writelines(request_line(key, body) + "\n" for key, body in pending.items())
        self.state.exported = list(pending)
        self._save()

    def _submit(self, pending: dict[str, dict[str, Any]]) -> None:
        files = list(
            request_files(pending, max_requests=self.max_requests, max_bytes=self.max_bytes)
        )
        round_ = self.state.rounds
        self.observer.submitting(round_, len(pending), len(files), max(round_, self.task.rounds))
        for number, (keys, content) in enumerate(files, start=1):
            name = f"{self.out.stem}-round{round_}-{number}.jsonl"
            batch_id = self.api.submit(
                name, content, {"newsqa_output": self.out.name, "newsqa_round": str(round_)}
            )
            self.state.batches.append(Submitted(id=batch_id, keys=keys))
            self._save()  # in flight from now on: a restart polls it, never resubmits
            self.observer.submitted(batch_id, len(keys))

    def _collect(self) -> None:
        """Poll the batches in flight until every one is final, then load their outputs."""
        if not self.state.batches:
            return
        start = time.monotonic()
        while True:
            statuses = [self.api.status(b.id) for b in self.state.batches]
            self.observer.polled(statuses, time.monotonic() - start)
            if all(s.final for s in statuses):
                break
            self._sleep(self.poll_seconds)
        for batch, status in zip(list(self.state.batches), statuses, strict=True):
            self.replies.load(self.api.output(status), expected=batch.keys)
            self.state.batches.remove(batch)
            self._save()

    def _finish(self) -> None:
        if self._replies is not None:
            self._replies.close()
            self._replies = None
        RunState.clear(self.folder)

    def cancel(self) -> int:
        """Cancel the batches in flight (see :func:`cancel_batches`)."""
        return cancel_batches(self.out, self.api)


def cancel_batches(out: Path, api: BatchesAPI) -> int:
    """Cancel the batches in flight of the provider batch run on ``out`` (what they
    finished stays billed) and forget them; returns how many were cancelled. Its
    replies so far are kept: running it again submits what is still needed."""
    folder = rounds_folder(out)
    state = RunState.load(folder)
    count = len(state.batches)
    while state.batches:
        api.cancel(state.batches[0].id)
        state.batches.pop(0)
        state.save(folder)
    return count
