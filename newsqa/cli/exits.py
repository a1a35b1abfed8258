"""Exit statuses of the ``newsqa`` command, the failure of some documents only, and how
a refused model output is told in one line."""

from __future__ import annotations

__all__ = ["EXIT_FAILURE", "EXIT_INTERRUPTED", "EXIT_USAGE", "PartialFailure", "validation_line"]

EXIT_USAGE = 2
"""A user or configuration error, reported before any model call."""
EXIT_FAILURE = 1
"""The model endpoint failed, or some documents did."""
EXIT_INTERRUPTED = 130
"""Ctrl-C."""


class PartialFailure(Exception):
    """A command that printed its output but must exit 1 (some documents failed)."""

    def __init__(self, output: str, message: str) -> None:
        super().__init__(message)
        self.output = output


def validation_line(error: Exception) -> str:
    """One line saying why the model's output was refused: the error's first line, with
    its first reason when that line only introduces them ("... after 3 tries:")."""
    lines = [line.strip().removeprefix("- ") for line in str(error).splitlines() if line.strip()]
    if not lines:
        return type(error).__name__
    if lines[0].endswith(":") and len(lines) > 1:
        return f"{lines[0]} {lines[1]}"
    return lines[0]
