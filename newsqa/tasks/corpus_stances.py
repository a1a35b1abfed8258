"""Stances across articles: actors found in retrieved passages, one call per actor.

The passage holds sentences of several dated articles (what a corpus search
retrieved). Actors are found in those sentences by the gazetteer; each actor then
gets one short grounded call showing its sentences from several articles, each
article with its date, and the evidence keeps document id, title and date.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence

from pydantic import BaseModel, Field

from newsqa.documents.actors import ActorMention, find_actors_in
from newsqa.llm.client import LLMClient
from newsqa.tasks.grounding import Passage, SentenceIds, Unit
from newsqa.tasks.stances import (
    DEFAULT_TOPIC,
    PRONOUNS,
    ask_actor,
    name_actors,
    stems,
)
from newsqa.types import (
    CorpusEvidence,
    CorpusStance,
    CorpusStanceReport,
    Sentence,
    StanceLabel,
    Usage,
)

__all__ = ["MAX_CANDIDATES", "actor_sentences", "stances_from"]

MAX_CANDIDATES = 8


class CorpusStanceDraft(BaseModel):
    """One actor's stance as the model writes it: evidence, then label, then position."""

    sentences: SentenceIds(0, 4)  # type: ignore[valid-type]
    label: StanceLabel
    position: str = Field(max_length=240, description="One sentence.")


def _numbered(passage: Passage) -> list[Sentence]:
    """The passage's sentences with their passage numbers as ids (distinct across docs)."""
    return [u.sentence.model_copy(update={"id": u.number}) for u in passage.units]


def actor_sentences(passage: Passage, actor: ActorMention, topic: str) -> list[int]:
    """Passage numbers to show for ``actor``: its mentions (and a following sentence of
    the same article that opens with a pronoun), the ones sharing most words with
    ``topic`` first, articles taking turns so several are represented; at most
    :data:`MAX_CANDIDATES`, returned in passage order."""
    units = {u.number: u for u in passage.units}
    ids = set(actor.sentence_ids)
    for n in actor.sentence_ids:
        following = units.get(n + 1)
        if following is not None and following.doc is units[n].doc:
            words = following.sentence.text.split(maxsplit=1)
            if words and words[0] in PRONOUNS:
                ids.add(n + 1)
    topic_stems = stems(topic)
    score = {n: len(stems(units[n].sentence.text) & topic_stems) for n in ids}
    per_doc: dict[str, list[int]] = {}
    for n in sorted(ids, key=lambda i: (-score[i], i)):
        per_doc.setdefault(units[n].doc.id, []).append(n)
    chosen: list[int] = []
    for turn in range(max((len(q) for q in per_doc.values()), default=0)):
        chosen.extend(q[turn] for q in per_doc.values() if turn < len(q))
    return sorted(chosen[:MAX_CANDIDATES])


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


def _discover(
    client: LLMClient, passage: Passage, topic: str, limit: int
) -> tuple[list[ActorMention], Usage]:
    """Actors named by the model (when the gazetteer finds none), located in the passage."""
    window = passage.windows(client.settings.context_tokens)[0]
    names, usage = name_actors(client, window, topic)
    found = find_actors_in(_numbered(passage), extra={n: (n,) for n in names}) if names else []
    return [m for m in found if m.name in names][:limit], usage


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
    if not topic.strip():
        raise ValueError("the topic is empty")
    if max_actors < 1:
        raise ValueError("max_actors must be at least 1")
    usage = Usage()
    stances: list[CorpusStance] = []
    mentions = find_actors_in(_numbered(passage), extra=actors, limit=max_actors)
    if passage.units and not mentions:
        mentions, usage = _discover(client, passage, topic, max_actors)
    for actor in mentions:
        shown = passage.subset(actor_sentences(passage, actor, topic))
        result = ask_actor(client, "corpus_stance", shown, topic, actor, CorpusStanceDraft)
        usage += result.usage
        draft = result.value
        if draft.sentences:
            stances.append(
                CorpusStance(
                    actor=actor.name,
                    label=draft.label,
                    position=draft.position.strip(),
                    evidence=_evidence(shown.units_of(draft.sentences)),
                )
            )
    return CorpusStanceReport(topic=topic, since=since, until=until, stances=stances, usage=usage)
