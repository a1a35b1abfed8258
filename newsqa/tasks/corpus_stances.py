"""Stances across articles: the stance pipeline over retrieved passages.

The passage holds sentences of several dated articles (what a corpus search
retrieved); :func:`newsqa.tasks.stances.stance_drafts` does the work, and the
evidence here keeps each sentence's document id, title and date, oldest first.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence

from newsqa.grounding import Passage, Unit
from newsqa.llm.client import LLMClient
from newsqa.tasks.stances import DEFAULT_TOPIC, stance_drafts
from newsqa.types import CorpusEvidence, CorpusStance, CorpusStanceReport

__all__ = ["stances_from"]


def _evidence(units: list[Unit]) -> list[CorpusEvidence]:
    def when(u: Unit) -> tuple[bool, dt.date, int]:
        return (u.doc.date is None, u.doc.date or dt.date.max, u.number)

    return [
        CorpusEvidence(
            doc=u.doc.id,
            title=u.doc.title,
            date=u.doc.date,
            text=u.sentence.text,
            start=u.sentence.start,
            end=u.sentence.end,
            sentence_id=u.sentence.id,
        )
        for u in sorted(units, key=when)
    ]


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
        One :class:`CorpusStance` per actor whose position the model grounded in at
        least one sentence, evidence oldest first.

    Raises:
        ValueError: an empty topic or ``max_actors`` below 1.
        OutputValidationError: the model never produced a valid stance.
        LLMError: the endpoint failed.
    """
    drafts, usage = stance_drafts(
        passage, topic, client=client, max_actors=max_actors, actors=actors
    )
    stances = [
        CorpusStance(
            actor=d.actor,
            label=d.label,
            label_source=d.label_source,
            position=d.position,
            evidence=_evidence(d.units),
        )
        for d in drafts
    ]
    return CorpusStanceReport(topic=topic, since=since, until=until, stances=stances, usage=usage)
