"""What one run of a command shares: its options, the client once connected, the
tokens it spent, and the status lines and live call counter it shows on stderr."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable
from typing import Any, TypeVar

from tqdm import tqdm

import newsqa
from newsqa import Document, LLMClient, Usage

__all__ = ["PartialFailure", "Session", "one_document", "since", "usage_line"]

_T = TypeVar("_T")


class PartialFailure(Exception):
    """A command that printed its output but must exit 1 (some documents failed)."""

    def __init__(self, output: str, message: str) -> None:
        super().__init__(message)
        self.output = output


class _CallCounter:
    """A stderr counter of model calls and tokens, shown while a command runs."""

    def __init__(self, desc: str, quiet: bool) -> None:
        self._bar = tqdm(
            unit=" calls", desc=desc, disable=quiet, file=sys.stderr, leave=False, total=None
        )

    def __call__(self, usage: Usage) -> None:
        self._bar.set_postfix_str(f"{usage.prompt_tokens} tokens in", refresh=False)
        self._bar.update(usage.calls - self._bar.n)

    def close(self) -> None:
        self._bar.close()


def since(before: Usage, now: Usage) -> Usage:
    """What was spent between two readings of a client's usage."""
    return Usage(
        calls=now.calls - before.calls,
        prompt_tokens=now.prompt_tokens - before.prompt_tokens,
        completion_tokens=now.completion_tokens - before.completion_tokens,
    )


def usage_line(usage: Usage, client: LLMClient) -> str:
    """``N model calls, T tokens in, C out`` and the estimated cost when prices are set."""
    line = (
        f"{usage.calls} model calls, {usage.prompt_tokens} tokens in, {usage.completion_tokens} out"
    )
    prices = client.settings.prices
    if prices:
        line += f"; estimated cost {usage.cost(*prices):.4f}"
    return line


def one_document(path: str) -> Document:
    """The single document at ``path`` (a text file, a one-record .jsonl, or ``-``)."""
    docs = newsqa.load_documents([path])
    if len(docs) != 1:
        raise ValueError(
            f"{path} holds {len(docs)} documents and this command takes one; "
            "use `newsqa batch` for many"
        )
    return docs[0]


class Session:
    """One command run: connects on first need, shows progress unless quiet, remembers
    what the run spent (for ``--usage``), and closes its client at the end."""

    def __init__(self, args: argparse.Namespace) -> None:
        self._args = args
        self.quiet: bool = args.quiet
        self.json: bool = getattr(args, "json", False)
        self.usage: bool = getattr(args, "usage", False)
        self.spent: Usage | None = None
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
        before = client.usage
        client.on_call = lambda usage: counter(since(before, usage))
        try:
            result = task(*a, client=client, **kw)
        finally:
            counter.close()
        self.spent = since(before, client.usage)
        self.status(usage_line(self.spent, client))
        return result

    def dump(self, data: Any) -> str:
        """The JSON output, with ``usage`` added when asked for."""
        if self.usage:
            if not isinstance(data, dict):
                data = {"results": data}
            data = {**data, "usage": (self.spent or Usage()).model_dump()}
        return json.dumps(data, indent=2, ensure_ascii=False)
