"""Corpus mode: index many articles once, then ask with one small grounded prompt.

:class:`Corpus` is the SQLite index plus the tasks that run over retrieved passages.
Any :class:`~newsqa.retrieval.Retriever` (another search engine) works with
:func:`ask_retriever` in its place.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from newsqa.llm.client import LLMClient
from newsqa.retrieval.base import Hit, Retriever
from newsqa.retrieval.sqlite_index import SQLiteIndex
from newsqa.tasks.ask import answer_from
from newsqa.tasks.grounding import Passage
from newsqa.types import Answer, Document

__all__ = ["Corpus", "ask_retriever", "passage_for_hits"]


def passage_for_hits(retriever: Retriever, hits: list[Hit]) -> Passage:
    """The numbered sentences of ``hits`` (documents in order of their best hit)."""
    docs: dict[str, Document] = {}
    wanted: dict[str, set[int]] = {}
    for hit in hits:
        if hit.doc_id not in docs:
            docs[hit.doc_id] = retriever.document(hit.doc_id)
        wanted.setdefault(hit.doc_id, set()).update(hit.sentence_ids)
    full = Passage.of(list(docs.values()))
    keep = [u.number for u in full.units if u.sentence.id in wanted[u.doc.id]]
    return full.subset(keep)


def ask_retriever(
    retriever: Retriever,
    question: str,
    *,
    client: LLMClient,
    k: int = 6,
    since: dt.date | None = None,
    until: dt.date | None = None,
    choices: Sequence[str] | None = None,
) -> Answer:
    """Retrieve the ``k`` best passages for ``question`` (and its ``choices``) within
    the dates, answer from them only, and cite verbatim sentences (abstains when
    nothing relevant is found).

    ``until`` matters for news: a question asked on a date must not be answered from
    later articles.
    """
    if not question.strip():
        raise ValueError("the question is empty")
    query = " ".join([question, *(choices or [])])
    hits = retriever.search(query, k, since=since, until=until)
    return answer_from(passage_for_hits(retriever, hits), question, client=client, choices=choices)


class Corpus(SQLiteIndex):
    """A persistent, searchable corpus of articles (SQLite + FTS5, BM25).

    Example:
        >>> corpus = Corpus("news.sqlite")                      # doctest: +SKIP
        >>> corpus.add(newsqa.load_documents(["articles/"]))    # doctest: +SKIP
        >>> corpus.ask("Who won?", client=client, until=dt.date(2024, 1, 5))  # doctest: +SKIP
    """

    def ask(
        self,
        question: str,
        *,
        client: LLMClient,
        k: int = 6,
        since: dt.date | None = None,
        until: dt.date | None = None,
        choices: Sequence[str] | None = None,
    ) -> Answer:
        """Answer from retrieved passages only (see :func:`ask_retriever`)."""
        return ask_retriever(
            self, question, client=client, k=k, since=since, until=until, choices=choices
        )
