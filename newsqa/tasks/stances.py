"""Each actor's stance on a topic, one small grounded call per actor.

Actors are found by the gazetteer (:func:`newsqa.documents.actors.find_actors`),
not by the model: a small model misses actors named only through their leaders.
Only when the gazetteer finds nobody is the model asked to name the actors.

Each actor then gets one short call showing only the sentences that name it (plus
a following sentence that opens with a pronoun), ranked by overlap with the topic's
words, at most :data:`MAX_CANDIDATES`. On the seed this picked better evidence and
wrote better positions than showing the whole article (measured with
Qwen2.5-Coder-1.5B; see benchmarks/), and it keeps long documents cheap.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import TypeVar

from pydantic import BaseModel, Field

from newsqa.documents.actors import ActorMention, find_actors
from newsqa.llm.client import LLMClient
from newsqa.llm.structured import Structured, generate
from newsqa.prompts import messages
from newsqa.tasks.grounding import Passage, SentenceIds, restrict_ids
from newsqa.types import Document, Stance, StanceLabel, StanceReport, Usage

__all__ = [
    "DEFAULT_TOPIC",
    "PRONOUNS",
    "analyze_stances",
    "ask_actor",
    "candidate_sentences",
    "name_actors",
    "stems",
]

DEFAULT_TOPIC = "peace talks to end the war in Ukraine"
MAX_TOKENS = 200
MAX_CANDIDATES = 6
PRONOUNS = frozenset({"He", "She", "They", "His", "Her", "Their", "It"})
_WORD = re.compile(r"\w+")
_TOPIC_STOPWORDS = frozenset(
    {"to", "the", "of", "in", "a", "an", "and", "on", "for", "end", "with"}
)


class StanceDraft(BaseModel):
    """One actor's stance as the model writes it: evidence, then label, then position."""

    sentences: SentenceIds(0, 3)  # type: ignore[valid-type]
    label: StanceLabel
    position: str = Field(max_length=240, description="One sentence.")


D = TypeVar("D", bound=BaseModel)


def ask_actor(
    client: LLMClient,
    template: str,
    shown: Passage,
    topic: str,
    actor: ActorMention,
    draft: type[D],
) -> Structured[D]:
    """One small grounded call: ``actor``'s stance on ``topic`` from ``shown`` only
    (prompt ``template``; cited numbers restricted to the sentences shown)."""
    return generate(
        client,
        messages(
            template,
            documents=shown.render(),
            topic=topic,
            actor=actor.name,
            aliases=", ".join(actor.aliases[:6]),
        ),
        draft,
        max_tokens=MAX_TOKENS,
        context=shown.context(),
        schema_hook=restrict_ids(shown.numbers),
    )


class ActorsDraft(BaseModel):
    """Actors named by the model when the gazetteer finds none."""

    actors: list[str] = Field(max_length=6)


def name_actors(client: LLMClient, passage: Passage, topic: str) -> tuple[list[str], Usage]:
    """Actor names the model reads in ``passage`` (used when the gazetteer finds none)."""
    result = generate(
        client,
        messages("actors", documents=passage.render(), topic=topic),
        ActorsDraft,
        max_tokens=120,
    )
    return [n.strip() for n in result.value.actors if n.strip()], result.usage


def _discover(
    client: LLMClient, doc: Document, passage: Passage, topic: str, limit: int
) -> tuple[list[ActorMention], Usage]:
    names, usage = name_actors(client, passage, topic)
    found = find_actors(doc, extra={n: (n,) for n in names}) if names else []
    return [m for m in found if m.name in names][:limit], usage


def stems(text: str) -> set[str]:
    """Five-letter stems of a text's words, without the topic stopwords."""
    return {w[:5] for w in _WORD.findall(text.lower()) if w not in _TOPIC_STOPWORDS}


def candidate_sentences(doc: Document, actor: ActorMention, topic: str) -> list[int]:
    """Sentence ids to show for ``actor``: its mentions (and a following sentence that
    opens with a pronoun), the ones sharing most words with ``topic`` first, at most
    :data:`MAX_CANDIDATES`, returned in document order."""
    ids = set(actor.sentence_ids)
    for sid in actor.sentence_ids:
        if sid < len(doc.sentences):
            following = doc.sentence(sid + 1)
            first = following.text.split(maxsplit=1)[0] if following.text.split() else ""
            if first in PRONOUNS:
                ids.add(following.id)
    topic_stems = stems(topic)
    score = {i: len(stems(doc.sentence(i).text) & topic_stems) for i in ids}
    ranked = sorted(ids, key=lambda i: (-score[i], i))
    return sorted(ranked[:MAX_CANDIDATES])


def analyze_stances(
    doc: Document,
    topic: str = DEFAULT_TOPIC,
    *,
    client: LLMClient,
    max_actors: int = 5,
    actors: Mapping[str, Sequence[str]] | None = None,
) -> StanceReport:
    """Find who takes a position on ``topic`` in ``doc`` and what it is.

    Args:
        doc: the article.
        topic: what the stances are about.
        client: the LLM client.
        max_actors: most-mentioned actors to analyse.
        actors: extra gazetteer entries (name → aliases), e.g. organisations.

    Returns:
        One :class:`Stance` per actor whose position the model grounded in at least
        one sentence; actors without evidence are left out.

    Raises:
        OutputValidationError: the model never produced a valid stance.
        LLMError: the endpoint failed.
    """
    if not topic.strip():
        raise ValueError("the topic is empty")
    if max_actors < 1:
        raise ValueError("max_actors must be at least 1")
    passage = Passage.of([doc])
    if not passage.units:
        return StanceReport(topic=topic, stances=[])
    usage = Usage()
    mentions = find_actors(doc, extra=actors, limit=max_actors)
    if not mentions:
        first_window = passage.windows(client.settings.context_tokens)[0]
        mentions, usage = _discover(client, doc, first_window, topic, max_actors)
    stances: list[Stance] = []
    for actor in mentions:
        shown = passage.subset(candidate_sentences(doc, actor, topic))
        result = ask_actor(client, "stance", shown, topic, actor, StanceDraft)
        usage += result.usage
        draft = result.value
        if not draft.sentences:
            continue
        stances.append(
            Stance(
                actor=actor.name,
                label=draft.label,
                position=draft.position.strip(),
                evidence=shown.evidence(draft.sentences),
            )
        )
    return StanceReport(topic=topic, stances=stances, usage=usage)
