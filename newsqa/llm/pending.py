"""Deferred requests: a client that answers from stored replies and queues the rest.

A provider batch (:mod:`newsqa.batch.provider`) runs a task's pipeline with its client
answering from the replies a batch returned (:class:`ReplySource`); a request it cannot
answer is queued for the next batch and raises :class:`Pending`, which ends that
document's pipeline for the round. :func:`each` runs the independent calls of one stage
(every actor of a stance report, every window of a long document) so that all of them
are queued in the same round.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any, Protocol, TypeVar

from newsqa.types import Usage

__all__ = ["Pending", "ReplySource", "StoredReply", "each"]

T = TypeVar("T")
U = TypeVar("U")

StoredReply = tuple[str, str | None, Usage]
"""A reply as a batch returned it: text, finish reason and its usage."""


class Pending(Exception):
    """Requests were queued for the next batch round instead of sent.

    Not a :class:`~newsqa.errors.NewsQAError`: no task handles it, so it ends the
    document's pipeline for this round (the document runs again next round).
    """

    def __init__(self, count: int = 1) -> None:
        super().__init__(f"{count} request(s) wait for the next batch round")
        self.count = count


class ReplySource(Protocol):
    """Where a deferring client looks first, and where it queues what it cannot answer."""

    def reply(self, key: str) -> StoredReply | None:
        """The stored reply of request ``key`` (``None``: none yet). May raise the
        :class:`~newsqa.errors.LLMError` the batch returned for it."""

    def defer(self, key: str, body: dict[str, Any]) -> None:
        """Queue request ``body`` (its cache key ``key``) for the next round."""


def each(call: Callable[[T], U], items: Iterable[T]) -> list[U]:
    """``[call(item) for item in items]``, except that a :class:`Pending` call does not
    stop the others: every independent request of a stage is queued in one round, and one
    :class:`Pending` for all of them is raised at the end. Any other error stops at once,
    as in the plain loop."""
    results: list[U] = []
    pending = 0
    for item in items:
        try:
            results.append(call(item))
        except Pending as e:
            pending += e.count
    if pending:
        raise Pending(pending)
    return results
