"""Which engine holds a corpus: a SQLite file by default, PostgreSQL for a
``postgresql://`` URL, and what both offer."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Protocol

from newsqa.errors import DocumentError
from newsqa.retrieval.base import Hit, IndexStats
from newsqa.retrieval.postgres_index import PostgresIndex, is_database_url
from newsqa.retrieval.sqlite_index import SQLiteIndex
from newsqa.types import Document

__all__ = ["CorpusIndex", "open_index"]

_SCHEME = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*://")


class CorpusIndex(Protocol):
    """A stored, searchable corpus (:class:`~newsqa.retrieval.SQLiteIndex` or
    :class:`~newsqa.retrieval.PostgresIndex`)."""

    read_only: bool

    def add(
        self,
        docs: Iterable[Document],
        *,
        prune: bool = False,
        on_done: Callable[[Document, str], None] | None = None,
    ) -> IndexStats: ...

    def search(
        self,
        query: str,
        k: int = 8,
        *,
        since: dt.date | None = None,
        until: dt.date | None = None,
    ) -> list[Hit]: ...

    def document(self, doc_id: str) -> Document: ...

    def ids(self) -> set[str]: ...

    def undated(self) -> int: ...

    def __len__(self) -> int: ...

    def close(self) -> None: ...


def open_index(target: str | Path, *, create: bool = True) -> CorpusIndex:
    """The corpus at ``target``: a ``postgresql://`` URL (the postgres extra) or a
    SQLite file path.

    Raises:
        DocumentError: a URL of another scheme, or what the engine refuses.
    """
    if is_database_url(target):
        return PostgresIndex(str(target), create=create)
    if isinstance(target, str) and _SCHEME.match(target):
        scheme = target.split("://", 1)[0]
        raise DocumentError(
            f"{scheme}:// is not a corpus engine: give a SQLite file path or a postgresql:// URL",
            reason="format",
            source=scheme,
        )
    return SQLiteIndex(target, create=create)
