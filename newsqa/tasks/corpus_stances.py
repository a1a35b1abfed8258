"""Stances across articles: the stance pipeline over retrieved passages.

The passage holds sentences of several dated articles (what a corpus search
retrieved); :func:`newsqa.tasks.stances.stances_in` does the work, and the
evidence here keeps each sentence's document id, title and date, oldest first.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence

from newsqa.grounding import Passage
from newsqa.llm.client import LLMClient
from newsqa.tasks.stances import DEFAULT_TOPIC, stances_in
from newsqa.types import CorpusStanceReport, Evidence

__all__ = ["stances_from"]


def _oldest_first(evidence: list[Evidence]) -> list[Evidence]:
    """Dated evidence oldest first, undated last (a stable sort keeps passage order)."""
    return sorted(evidence, key=lambda e: (e.date is None, e.date or dt.date.max))


def stances_from(
    passage: Passage,
    topic: str = DEFAULT_TOPIC,
    *,
    client: LLMClient,
    max_actors: int = 5,
    actors: Mapping[str, Sequence[str]] | None = None,
    since: dt.date | None = None,
    until: dt.date | None = None,
) -> CorpusStanceReport:
    """Each actor's stance on ``topic`` from the sentences of ``passage`` (several articles).

    Args:
        passage: the retrieved sentences, numbered across their documents.
        topic: what the stances are about.
        client: the LLM client.
        max_actors: most-mentioned actors to analyse (one call each).
        actors: extra gazetteer entries (name → aliases).
        since: recorded in the report: the date filter the passage was retrieved with.
        until: likewise.

    Returns:
        One :class:`Stance` per actor whose position the model grounded in at
        least one sentence, evidence oldest first.

    Raises:
        ValueError: an empty topic or ``max_actors`` below 1.
        OutputValidationError: the model never produced a valid stance.
        LLMError: the endpoint failed.
    """
    stances, usage = stances_in(
        passage, topic, client=client, max_actors=max_actors, actors=actors, arrange=_oldest_first
    )
    return CorpusStanceReport(topic=topic, since=since, until=until, stances=stances, usage=usage)
