"""What one run of a command shares: its options, the client once connected, the
tokens it spent, and the status lines and live call counter it shows on stderr."""

from __future__ import annotations

import argparse
import contextlib
import json
import sys
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

from tqdm import tqdm

import newsqa
from newsqa import Document, LLMClient, Usage

__all__ = [
    "Session",
    "WaitWatch",
    "awaiting",
    "one_document",
    "since",
    "usage_line",
]

_T = TypeVar("_T")


class _CallCounter:
    """A stderr counter of model calls and tokens while a command runs, which also
    shows how long the replies in flight have been awaited (a slow server is not a
    frozen one)."""

    def __init__(self, desc: str, quiet: bool) -> None:
        self._bar = tqdm(
            unit=" calls", desc=desc, disable=quiet, file=sys.stderr, leave=False, total=None
        )
        self._tokens = ""

    def __call__(self, usage: Usage) -> None:
        self._tokens = f"{usage.prompt_tokens} tokens in"
        self._bar.set_postfix_str(self._tokens, refresh=False)
        self._bar.update(usage.calls - self._bar.n)

    def waiting(self, replies: int, seconds: float) -> None:
        self._bar.set_postfix_str(
            ", ".join(filter(None, [self._tokens, awaiting(replies, seconds)])), refresh=True
        )

    def close(self) -> None:
        self._bar.close()


def awaiting(replies: int, seconds: float) -> str:
    """``awaiting 1 reply for 12 s`` (empty when no reply is awaited)."""
    if not replies:
        return ""
    what = "1 reply" if replies == 1 else f"{replies} replies"
    return f"awaiting {what} for {seconds:.0f} s"


class WaitWatch:
    """While open, every ``interval`` seconds tells ``show(replies, seconds)`` how many
    of the client's requests await a reply and for how long the oldest has."""

    def __init__(
        self, client: LLMClient, show: Callable[[int, float], None], interval: float = 1.0
    ) -> None:
        self._client, self._show, self._interval = client, show, interval
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._watch, daemon=True)

    def _watch(self) -> None:
        while not self._stop.wait(self._interval):
            self._show(*self._client.waiting())

    def __enter__(self) -> WaitWatch:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()


def since(before: Usage, now: Usage) -> Usage:
    """What was spent between two readings of a client's usage."""
    return Usage(
        calls=now.calls - before.calls,
        prompt_tokens=now.prompt_tokens - before.prompt_tokens,
        completion_tokens=now.completion_tokens - before.completion_tokens,
    )


def usage_line(usage: Usage, client: LLMClient, cached: int = 0, price_share: float = 1.0) -> str:
    """``N model calls, T tokens in, C out`` (or that the cache answered), and the
    estimated cost when prices are set (``price_share`` of them: a Batch API's price)."""
    if cached and not usage.calls:
        return f"no model calls: {cached} answered from the cache"
    line = (
        f"{usage.calls} model calls, {usage.prompt_tokens} tokens in, {usage.completion_tokens} out"
    )
    if cached:
        line += f" ({cached} more answered from the cache)"
    prices = client.settings.prices
    if prices:
        line += f"; estimated cost ${usage.cost(*prices) * price_share:.4f}"
        if price_share != 1.0:
            line += f" at the batch price ({price_share:g} of NEWSQA_PRICE_IN/OUT)"
    return line


def one_document(path: str) -> Document:
    """The single document at ``path``: a text file, a one-record ``.jsonl`` or ``-``
    (a folder or several records are refused as such)."""
    return newsqa.as_document(Path(path))


class Session:
    """One command run: connects on first need, shows progress unless quiet, remembers
    what the run spent (for ``--usage``), and closes its client at the end."""

    wait_interval = 1.0
    """Seconds between updates of how long replies have been awaited."""

    def __init__(self, args: argparse.Namespace) -> None:
        self._args = args
        self.quiet: bool = args.quiet
        self.json: bool = getattr(args, "json", False)
        self.usage: bool = getattr(args, "usage", False)
        self.spent: Usage | None = None
        self.cached = 0
        """Requests of the run answered from the response cache."""
        self.usage_text = ""
        """The run's usage line (:func:`usage_line`), once it is known."""
        self._client: LLMClient | None = None

    def client(self) -> LLMClient:
        """The client the options describe, connected once per run."""
        if self._client is None:
            args = self._args
            self._client = newsqa.connect(
                base_url=args.base_url,
                model=args.model,
                model_path=args.model_path,
                context_tokens=args.context_tokens,
                cache=not args.no_cache,
                progress=not args.quiet,
            )
        return self._client

    def close(self) -> None:
        if self._client is not None:
            self._client.close()

    def status(self, message: str) -> None:
        if not self.quiet:
            print(message, file=sys.stderr, flush=True)

    def run_task(self, doing: str, task: Callable[..., _T], *a: Any, **kw: Any) -> _T:
        """Connect, say what runs where, run ``task(*a, client=..., **kw)`` with a live
        call counter, then report the calls and tokens it took."""
        client = self.client()
        self.status(f"{doing} with {client.endpoint}…")
        counter = _CallCounter(doing.split(" ", 1)[0], self.quiet)
        before, cached = client.usage, client.cached
        client.on_call = lambda usage: counter(since(before, usage))
        try:
            with self.watch(client, counter.waiting):
                result = task(*a, client=client, **kw)
        finally:
            counter.close()
        self.record(since(before, client.usage), client.cached - cached)
        self.status(self.usage_text)
        return result

    def record(self, spent: Usage, cached: int, price_share: float = 1.0) -> None:
        """What the run spent, and how many requests the cache answered (``price_share``:
        of the prices set, for a Batch API's)."""
        self.spent, self.cached = spent, cached
        self.usage_text = usage_line(spent, self.client(), cached, price_share)

    def text(self, output: str) -> str:
        """The text output, with the usage line under it when ``--usage`` asks for it
        (and the output does not hold it already, as ``batch``'s does)."""
        if self.usage and self.usage_text and self.usage_text not in output:
            return f"{output}\n\nusage: {self.usage_text}" if output else self.usage_text
        return output

    def watch(
        self, client: LLMClient, show: Callable[[int, float], None]
    ) -> contextlib.AbstractContextManager[object]:
        """A :class:`WaitWatch` of ``client`` (nothing when quiet)."""
        if self.quiet:
            return contextlib.nullcontext()
        return WaitWatch(client, show, self.wait_interval)

    def dump(self, data: Any) -> str:
        """The JSON output, with ``usage`` added when asked for."""
        if self.usage:
            if not isinstance(data, dict):
                data = {"results": data}
            data = {**data, "usage": (self.spent or Usage()).model_dump()}
        return json.dumps(data, indent=2, ensure_ascii=False)
