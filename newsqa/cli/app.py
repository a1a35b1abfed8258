"""The entry point: parse, dispatch to the command, map errors to one line and an
exit status, and stop at the second Ctrl-C."""

from __future__ import annotations

import os
import signal
import sqlite3
import sys
import threading
from collections.abc import Sequence
from types import FrameType
from typing import Any

import newsqa
from newsqa import ConfigError, DocumentError, LLMError, NewsQAError, OutputValidationError
from newsqa.cli.exits import (
    EXIT_FAILURE,
    EXIT_INTERRUPTED,
    EXIT_USAGE,
    PartialFailure,
    validation_line,
)
from newsqa.cli.parser import build_parser

__all__ = ["EXIT_FAILURE", "EXIT_USAGE", "main"]


class _Interrupts:
    """Ctrl-C handling while a command runs: the first one stops the command (a batch
    starts no new document and writes the ones in flight), the second ends the
    process at once with status 130: lines already written stay, the documents in
    flight are dropped (they run again on the next run), and no traceback is shown."""

    def __init__(self) -> None:
        self._previous: Any = None
        self._seen = False

    def _handle(self, signum: int, frame: FrameType | None) -> None:
        if self._seen:
            print("newsqa: stopped (documents in flight dropped)", file=sys.stderr, flush=True)
            sys.stdout.flush()
            os._exit(EXIT_INTERRUPTED)
        self._seen = True
        print(
            "newsqa: interrupted; finishing what is in flight (Ctrl-C again to stop at once)",
            file=sys.stderr,
            flush=True,
        )
        raise KeyboardInterrupt

    def __enter__(self) -> _Interrupts:
        if threading.current_thread() is threading.main_thread():
            self._previous = signal.signal(signal.SIGINT, self._handle)
        return self

    def __exit__(self, *exc: object) -> None:
        # Kept after an interrupt: the interpreter still waits for worker threads at
        # exit, and a Ctrl-C then must end it too.
        if self._previous is not None and not self._seen:
            signal.signal(signal.SIGINT, self._previous)


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``newsqa`` command; returns the exit status."""
    args = build_parser().parse_args(argv)  # --help and --version end here, quickly
    # The API, pydantic and the openai SDK load once a command runs.
    from newsqa.cli.commands import COMMANDS
    from newsqa.cli.session import Session

    session = Session(args)
    try:
        with _Interrupts():
            try:
                output = COMMANDS[args.command](args, session)
            finally:
                session.close()
    except (DocumentError, ConfigError, ValueError, OSError, sqlite3.Error) as e:
        first = str(e).splitlines()[0] if str(e) else type(e).__name__
        print(newsqa.printable(f"newsqa: error: {first}"), file=sys.stderr)
        return EXIT_USAGE
    except OutputValidationError as e:
        print(
            newsqa.printable(f"newsqa: {validation_line(e)} (last output: {e.raw_output[:200]!r})"),
            file=sys.stderr,
        )
        return EXIT_FAILURE
    except (LLMError, NewsQAError) as e:
        print(newsqa.printable(f"newsqa: {str(e).splitlines()[0]}"), file=sys.stderr)
        return EXIT_FAILURE
    except PartialFailure as e:
        if e.output:
            print(e.output if session.json else newsqa.printable(session.text(e.output)))
        print(f"newsqa: {e}", file=sys.stderr)
        return EXIT_FAILURE
    except KeyboardInterrupt:
        print("newsqa: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
    print(output if session.json else newsqa.printable(session.text(output)))
    return 0
