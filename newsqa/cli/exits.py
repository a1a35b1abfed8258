"""Exit statuses of the ``newsqa`` command, and the failure of some documents only."""

from __future__ import annotations

__all__ = ["EXIT_FAILURE", "EXIT_INTERRUPTED", "EXIT_USAGE", "PartialFailure"]

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
