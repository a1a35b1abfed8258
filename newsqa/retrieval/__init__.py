"""Retrieval: find the passages of a corpus that matter to a question (no LLM here)."""

from newsqa.retrieval.base import Hit, IndexStats, Retriever
from newsqa.retrieval.engine import CorpusIndex, open_index
from newsqa.retrieval.postgres_index import PostgresIndex
from newsqa.retrieval.sqlite_index import SQLiteIndex

__all__ = [
    "CorpusIndex",
    "Hit",
    "IndexStats",
    "PostgresIndex",
    "Retriever",
    "SQLiteIndex",
    "open_index",
]
