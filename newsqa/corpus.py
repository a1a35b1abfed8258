"""Corpus mode: index many articles once, then ask with one small grounded prompt.

:class:`Corpus` is a stored index (a SQLite file by default, PostgreSQL for a
``postgresql://`` URL) plus the tasks that run over retrieved passages.
Any :class:`~newsqa.retrieval.Retriever` (another search engine) works with
:func:`ask_retriever` and :func:`stances_retriever` in its place.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import Path

from newsqa.grounding import Passage
from newsqa.llm.client import LLMClient
from newsqa.retrieval.base import Hit, IndexStats, Retriever
from newsqa.retrieval.engine import CorpusIndex, open_index
from newsqa.retrieval.postgres_index import is_database_url, redact
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


class Corpus:
    """A persistent, searchable corpus of articles: a SQLite file (FTS5, BM25), or a
    PostgreSQL database shared by many machines for a ``postgresql://`` URL
    (``tsvector`` + GIN; the postgres extra). Both give the same hits, documents and
    results (rankings may differ).

    A context manager: ``with Corpus(path) as corpus:`` closes the database at the end.

    Args:
        target: the SQLite file, or a libpq URL (``postgresql:///news?host=/run/pg``).
        create: create it when missing; otherwise a missing corpus is an error.

    Raises:
        DocumentError: a missing corpus (``create=False``), a file or database that is
            not a newsqa corpus, an unreachable server, or a URL of another scheme.

    Example:
        >>> with Corpus("news.sqlite") as corpus:                   # doctest: +SKIP
        ...     corpus.add(newsqa.load_documents(["articles/"]))
        ...     corpus.ask("Who won?", client=client, until=dt.date(2024, 1, 5))
    """

    def __init__(self, target: str | Path, *, create: bool = True) -> None:
        self.index: CorpusIndex = open_index(target, create=create)
        self.where = redact(str(target)) if is_database_url(target) else str(target)
        """Where the corpus is, for messages (a URL without its password)."""

    @property
    def read_only(self) -> bool:
        """The corpus can be searched here, not added to (a read-only SQLite file)."""
        return self.index.read_only

    def __enter__(self) -> Corpus:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def close(self) -> None:
        """Close the database."""
        self.index.close()

    def __len__(self) -> int:
        return len(self.index)

    def add(
        self,
        docs: Iterable[Document],
        *,
        prune: bool = False,
        on_done: Callable[[Document, str], None] | None = None,
    ) -> IndexStats:
        """Store documents: unchanged ones (same text, title and date) are skipped,
        changed ones replaced; ``prune`` removes stored documents not in ``docs``;
        ``on_done`` gets each document and ``added``/``replaced``/``unchanged``.

        Raises:
            DocumentError: two documents with one id, or a read-only corpus.
        """
        return self.index.add(docs, prune=prune, on_done=on_done)

    def search(
        self,
        query: str,
        k: int = 8,
        *,
        since: dt.date | None = None,
        until: dt.date | None = None,
    ) -> list[Hit]:
        """The ``k`` best passages for ``query`` dated within the bounds (undated
        documents are left out by a bound: count them with :meth:`undated`)."""
        return self.index.search(query, k, since=since, until=until)

    def document(self, doc_id: str) -> Document:
        """The stored document (``KeyError`` when there is none)."""
        return self.index.document(doc_id)

    def ids(self) -> set[str]:
        """Ids of every stored document."""
        return self.index.ids()

    def undated(self) -> int:
        """How many stored documents have no date."""
        return self.index.undated()

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
