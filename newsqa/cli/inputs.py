"""The documents a command reads, under one policy for every command: all inputs are
read before the first model call or write; an input that cannot be read is named on
stderr then and left out, the others are processed, and the command exits 1 at the
end. A command left with no input it can read exits 2."""

from __future__ import annotations

import sys
from collections.abc import Sequence

import newsqa
from newsqa import Document, DocumentError

__all__ = ["documents", "left_out", "name_unreadable"]


def name_unreadable(errors: Sequence[DocumentError], readable: int) -> None:
    """Name each input that cannot be read on stderr (``newsqa: skipped: ...``).

    Raises:
        DocumentError: no input can be read (``readable`` is 0): the first one's
            error, with how many more there are and their next few names.
    """
    if errors and not readable:
        first = errors[0]
        if len(errors) == 1:
            raise first
        names = ", ".join(e.source or "?" for e in errors[1:4]) + (", …" if len(errors) > 4 else "")
        raise DocumentError(
            f"{first} (and {len(errors) - 1} more input(s) that cannot be read: {names})",
            reason=first.reason,
            source=first.source,
        )
    for error in errors:
        print(newsqa.printable(f"newsqa: skipped: {error}"), file=sys.stderr)


def left_out(count: int) -> str:
    """The closing line of a run that left ``count`` unreadable inputs out."""
    return f"{count} input(s) could not be read and were left out (named above)"


def documents(paths: Sequence[str]) -> tuple[list[Document], int]:
    """Every document of ``paths`` and how many inputs were left out (named on
    stderr, see :func:`name_unreadable`)."""
    found: list[Document] = []
    errors: list[DocumentError] = []
    for item in newsqa.iter_inputs(paths):
        if isinstance(item, DocumentError):
            errors.append(item)
        else:
            found.append(item)
    name_unreadable(errors, len(found))
    return found, len(errors)
