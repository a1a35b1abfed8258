"""The retriever protocol: search with filters, get passages that map back to sources.

Any search engine (OpenSearch/Elasticsearch, a vector store) can serve newsqa's tasks
by implementing these two methods; :class:`~newsqa.retrieval.SQLiteIndex` is the
default implementation.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Protocol, runtime_checkable

from newsqa.types import Document

__all__ = ["Hit", "IndexStats", "Retriever"]


@dataclass(frozen=True)
class Hit:
    """A retrieved passage: consecutive whole sentences of one document.

    ``text == document(doc_id).text[start:end]`` and ``sentence_ids`` are the ids of
    the sentences it spans, so every hit maps back to verbatim source text.
    """

    doc_id: str
    title: str | None
    date: dt.date | None
    sentence_ids: tuple[int, ...]
    start: int
    end: int
    text: str
    score: float


@dataclass(frozen=True)
class IndexStats:
    """What one ``add`` call of a corpus did."""

    added: int = 0
    replaced: int = 0
    unchanged: int = 0
    pruned: int = 0


@runtime_checkable
class Retriever(Protocol):
    """What the corpus tasks need from a search backend."""

    def search(
        self,
        query: str,
        k: int = 8,
        *,
        since: dt.date | None = None,
        until: dt.date | None = None,
    ) -> list[Hit]:
        """The ``k`` best passages for ``query`` from documents dated within
        ``[since, until]`` (undated documents are excluded when a bound is given)."""
        ...

    def document(self, doc_id: str) -> Document:
        """The full document (text and sentences) a hit came from."""
        ...
