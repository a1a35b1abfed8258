"""Corpus mode: index many articles once, then ask with one small grounded prompt.

:class:`Corpus` is the SQLite index plus the tasks that run over retrieved passages.
Any :class:`~newsqa.retrieval.Retriever` (another search engine) works with
:func:`ask_retriever` and :func:`stances_retriever` in its place.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence

from newsqa.grounding import Passage
from newsqa.llm.client import LLMClient
from newsqa.retrieval.base import Hit, Retriever
from newsqa.retrieval.sqlite_index import SQLiteIndex
from newsqa.tasks.ask import answer_from
from newsqa.tasks.corpus_stances import stances_from
from newsqa.tasks.stances import DEFAULT_TOPIC
from newsqa.types import Answer, CorpusStanceReport, Document

__all__ = [
    "HITS_PER_DOCUMENT",
    "Corpus",
    "ask_retriever",
    "diversify",
    "passage_for_hits",
    "stances_retriever",
]

HITS_PER_DOCUMENT = 2
"""Stances prefer at most this many passages of one article, so several articles speak."""


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
    later articles, and its "this week" or "today" is read from that date (see
    :func:`~newsqa.tasks.ask.ask`'s ``as_of``).
    """
    if not question.strip():
        raise ValueError("the question is empty")
    query = " ".join([question, *(choices or [])])
    hits = retriever.search(query, k, since=since, until=until)
    return answer_from(
        passage_for_hits(retriever, hits), question, client=client, choices=choices, as_of=until
    )


def diversify(hits: list[Hit], k: int, per_document: int = HITS_PER_DOCUMENT) -> list[Hit]:
    """The ``k`` best hits taking at most ``per_document`` from one article, topped up
    with the next best hits when too few articles match (score order kept)."""
    taken: dict[str, int] = {}
    first: list[int] = []
    rest: list[int] = []
    for i, hit in enumerate(hits):
        if taken.get(hit.doc_id, 0) < per_document:
            taken[hit.doc_id] = taken.get(hit.doc_id, 0) + 1
            first.append(i)
        else:
            rest.append(i)
    return [hits[i] for i in sorted((first + rest)[:k])]


def stances_retriever(
    retriever: Retriever,
    topic: str = DEFAULT_TOPIC,
    *,
    client: LLMClient,
    k: int = 12,
    since: dt.date | None = None,
    until: dt.date | None = None,
    max_actors: int = 5,
    actors: Mapping[str, Sequence[str]] | None = None,
) -> CorpusStanceReport:
    """Each actor's stance on ``topic`` across the articles dated within the bounds.

    Retrieves the ``k`` best passages for ``topic`` (preferring several articles, see
    :func:`diversify`), finds the actors they name with the gazetteer and makes one small
    grounded call per actor (at most ``max_actors``, most mentioned first) over its
    sentences from several articles, oldest first, each shown with its date. Evidence
    carries the document id, title and date; ``report.timeline()`` turns it into a
    :class:`~newsqa.types.StanceTimeline`.

    Raises:
        ValueError: an empty topic, ``k`` or ``max_actors`` below 1.
    """
    if not topic.strip():
        raise ValueError("the topic is empty")
    if k < 1:
        raise ValueError("k must be at least 1")
    found = retriever.search(topic, k * 4, since=since, until=until)
    hits = sorted(diversify(found, k), key=lambda h: (h.date is None, h.date or dt.date.max))
    passage = passage_for_hits(retriever, hits)  # articles oldest first, undated last
    return stances_from(
        passage,
        topic,
        client=client,
        max_actors=max_actors,
        actors=actors,
        since=since,
        until=until,
    )


class Corpus(SQLiteIndex):
    """A persistent, searchable corpus of articles (SQLite + FTS5, BM25).

    A context manager: ``with Corpus(path) as corpus:`` closes the database at the end.

    Example:
        >>> with Corpus("news.sqlite") as corpus:                   # doctest: +SKIP
        ...     corpus.add(newsqa.load_documents(["articles/"]))
        ...     corpus.ask("Who won?", client=client, until=dt.date(2024, 1, 5))
    """

    def __enter__(self) -> Corpus:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

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

    def stances(
        self,
        topic: str = DEFAULT_TOPIC,
        *,
        client: LLMClient,
        k: int = 12,
        since: dt.date | None = None,
        until: dt.date | None = None,
        max_actors: int = 5,
        actors: Mapping[str, Sequence[str]] | None = None,
    ) -> CorpusStanceReport:
        """Each actor's stance on ``topic`` across articles (see :func:`stances_retriever`)."""
        return stances_retriever(
            self,
            topic,
            client=client,
            k=k,
            since=since,
            until=until,
            max_actors=max_actors,
            actors=actors,
        )
