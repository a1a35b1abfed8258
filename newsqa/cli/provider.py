"""``newsqa batch --provider-batch`` (and ``--export-requests``, ``--import-responses``,
``--cancel``): a task over many documents in rounds of the provider's Batch API, with
what each round submits said before it is, and a live display of the batches in flight."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from tqdm import tqdm

import newsqa
from newsqa import BatchObserver, BatchReport, BatchStatus, Task
from newsqa.cli.exits import PartialFailure
from newsqa.cli.session import Session

__all__ = ["provider_batch", "wants_provider_batch"]


def wants_provider_batch(args: argparse.Namespace) -> bool:
    """Does the ``batch`` command run through a provider's Batch API (or its files)?"""
    return bool(args.provider_batch or args.export_requests or args.import_responses or args.cancel)


def _duration(seconds: float) -> str:
    """``45 s``, ``12 min`` or ``3.5 h``."""
    if seconds < 120:
        return f"{seconds:.0f} s"
    if seconds < 7200:
        return f"{seconds / 60:.0f} min"
    return f"{seconds / 3600:.1f} h"


class _Display(BatchObserver):
    """Round announcements on stderr, and one bar per round of batches in flight."""

    def __init__(self, session: Session) -> None:
        self.session = session
        self.bar: Any = None

    def submitting(self, round_: int, requests: int, files: int, at_least: int) -> None:
        plural = "file" if files == 1 else "files"
        self.session.status(
            f"round {round_}: submitting {requests} requests in {files} {plural} (this task "
            f"takes at least {at_least} round{'s' if at_least > 1 else ''} in all, one more per "
            "re-ask); each round may take up to 24 hours"
        )

    def submitted(self, batch_id: str, requests: int) -> None:
        self.session.status(f"  batch {batch_id}: {requests} requests")

    def polled(self, statuses: list[BatchStatus], elapsed: float) -> None:
        total = sum(s.total for s in statuses)
        if self.bar is None:
            self.bar = tqdm(
                total=total or None,
                unit="req",
                desc="batches",
                disable=self.session.quiet,
                file=sys.stderr,
                leave=False,
            )
        done = sum(s.completed + s.failed for s in statuses)
        kinds = ", ".join(sorted({s.status for s in statuses}))
        self.bar.total = total or None
        self.bar.update(done - self.bar.n)
        self.bar.set_postfix_str(f"{kinds}, waited {_duration(elapsed)}", refresh=True)
        if all(s.final for s in statuses):
            self.close()

    def round_done(self, round_: int, report: BatchReport) -> None:
        waiting = f", {report.pending} waiting for round {round_ + 1}" if report.pending else ""
        self.session.status(f"{report.done} done, {report.failed} failed{waiting}")

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()
            self.bar = None


def _offer_cancel(args: argparse.Namespace, session: Session) -> None:
    """After Ctrl-C: on a terminal, ask whether to cancel what was submitted."""
    again = "run the same command again to collect them, or add --cancel to cancel them"
    if not sys.stdin.isatty():
        session.status(f"newsqa: the submitted batches keep running: {again}")
        return
    try:
        answer = input("newsqa: cancel the batches in flight? [y/N] ")
    except (EOFError, KeyboardInterrupt):
        answer = ""
    if answer.strip().lower() in ("y", "yes"):
        count = newsqa.cancel_provider_batch(args.output, client=session.client())
        session.status(f"newsqa: {count} batch(es) cancelled")
    else:
        session.status(f"newsqa: the submitted batches keep running: {again}")


def provider_batch(
    args: argparse.Namespace, session: Session, task: Task[Any], inputs: newsqa.Inputs
) -> str:
    """Run ``task`` over the checked ``inputs`` in provider batch rounds (see
    :func:`newsqa.provider_batch`), or cancel the batches in flight."""
    if args.no_cache:
        raise ValueError(
            "--provider-batch, --export-requests and --import-responses need the response "
            "cache (each request is named by its cache key): drop --no-cache"
        )
    if not task.uses_model:
        raise ValueError(f"the {task.name} task makes no model call: run it without a batch API")
    if args.provider_batch and (args.export_requests or args.import_responses):
        raise ValueError(
            "--provider-batch submits to the endpoint's Batch API; --export-requests and "
            "--import-responses exchange files with another server: choose one"
        )
    client = session.client()
    if args.cancel:
        count = newsqa.cancel_provider_batch(args.output, client=client)
        return f"{args.output}: {count} batch(es) cancelled"
    if args.provider_batch and client.settings.embedded:
        raise ValueError(
            "--provider-batch needs an endpoint that serves the Batch API (--base-url); "
            "for a local server use --export-requests and --import-responses"
        )
    display = _Display(session)
    session.status(f"{task.name} over {' '.join(args.inputs)} in batches of {client.endpoint}…")
    try:
        report = newsqa.provider_batch(
            inputs,
            task,
            args.output,
            client=client,
            concurrency=args.concurrency,
            export_requests=args.export_requests,
            import_responses=args.import_responses,
            observer=display,
            poll_seconds=args.poll,
        )
    except KeyboardInterrupt:
        display.close()
        _offer_cancel(args, session)
        raise
    finally:
        display.close()
    session.record(report.usage, 0, price_share=newsqa.BATCH_PRICE)
    if session.json:
        return session.dump({"output": args.output, **report.to_dict()})
    output = (
        f"{args.output}: {report.done} done, {report.failed} failed, {report.skipped} already "
        f"done, {report.rounds} round{'s' if report.rounds != 1 else ''}; {session.usage_text}"
    )
    if args.export_requests and report.submitted:
        output += (
            f"\n{report.submitted} requests written to {args.export_requests}: run them (e.g. "
            f"vllm run-batch -i {args.export_requests} -o RESULTS.jsonl --model MODEL), then "
            "the same command with --import-responses RESULTS.jsonl"
        )
    elif report.pending:
        output += f"\n{report.pending} documents wait for another round: add --export-requests FILE"
    if report.failed:
        ran = report.done + report.failed
        raise PartialFailure(
            output, f"{report.failed} of {ran} documents failed (see {args.output})"
        )
    return output
