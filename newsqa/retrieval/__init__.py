"""Retrieval: find the passages of a corpus that matter to a question (no LLM here)."""

from newsqa.retrieval.base import Hit, Retriever
from newsqa.retrieval.sqlite_index import IndexStats, SQLiteIndex

__all__ = ["Hit", "IndexStats", "Retriever", "SQLiteIndex"]
