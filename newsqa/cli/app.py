"""The entry point: parse, dispatch to the command, map errors to one line and an
exit status."""

from __future__ import annotations

import sqlite3
import sys
from collections.abc import Sequence

import newsqa
from newsqa import ConfigError, DocumentError, LLMError, NewsQAError, OutputValidationError
from newsqa.cli.commands import COMMANDS
from newsqa.cli.parser import build_parser
from newsqa.cli.session import PartialFailure, Session

__all__ = ["EXIT_FAILURE", "EXIT_USAGE", "main"]

EXIT_USAGE = 2
EXIT_FAILURE = 1
EXIT_INTERRUPTED = 130


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``newsqa`` command; returns the exit status."""
    args = build_parser().parse_args(argv)
    session = Session(args)
    try:
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
            f"newsqa: the model's output never validated ({len(e.attempts)} tries); "
            f"last output: {e.raw_output[:200]!r}",
            file=sys.stderr,
        )
        return EXIT_FAILURE
    except (LLMError, NewsQAError) as e:
        print(newsqa.printable(f"newsqa: {str(e).splitlines()[0]}"), file=sys.stderr)
        return EXIT_FAILURE
    except PartialFailure as e:
        if e.output:
            print(e.output if session.json else newsqa.printable(e.output))
        print(f"newsqa: {e}", file=sys.stderr)
        return EXIT_FAILURE
    except KeyboardInterrupt:
        print("newsqa: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
    print(output if session.json else newsqa.printable(output))
    return 0
