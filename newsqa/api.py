"""The public task functions: pass a client, or let newsqa build one from the environment."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from newsqa.config import Settings
from newsqa.llm.client import LLMClient
from newsqa.tasks import ask as _ask
from newsqa.tasks import claims as _claims
from newsqa.tasks import stances as _stances
from newsqa.tasks import summarize as _summarize
from newsqa.tasks import target_stance as _target_stance
from newsqa.tasks import timeline as _timeline
from newsqa.types import (
    Answer,
    ClaimCheck,
    Document,
    StanceReport,
    StanceTimeline,
    Summary,
    TargetStance,
)

__all__ = [
    "DEFAULT_TOPIC",
    "analyze_stances",
    "ask",
    "check_claim",
    "connect",
    "stance_timeline",
    "stance_toward",
    "summarize",
]

DEFAULT_TOPIC = _stances.DEFAULT_TOPIC


def connect(settings: Settings | None = None, **overrides: object) -> LLMClient:
    """Build an :class:`LLMClient`: explicit ``overrides`` > environment > embedded model.

    Example:
        >>> client = connect(base_url="http://localhost:8000/v1", model="qwen2.5")  # doctest: +SKIP
    """
    return LLMClient(settings or Settings.from_env(**overrides))


def summarize(doc: Document, *, client: LLMClient | None = None) -> Summary:
    """Summarize ``doc``: headline, summary and key points with verbatim evidence."""
    return _summarize.summarize(doc, client=client or connect())


def analyze_stances(
    doc: Document,
    topic: str = DEFAULT_TOPIC,
    *,
    client: LLMClient | None = None,
    max_actors: int = 5,
    actors: Mapping[str, Sequence[str]] | None = None,
) -> StanceReport:
    """Each actor's stance on ``topic`` in ``doc``: label, position and evidence."""
    return _stances.analyze_stances(
        doc, topic, client=client or connect(), max_actors=max_actors, actors=actors
    )


def stance_timeline(
    docs: Sequence[Document],
    topic: str = DEFAULT_TOPIC,
    *,
    client: LLMClient | None = None,
    max_actors: int = 5,
) -> StanceTimeline:
    """Each actor's stance across dated documents, label changes flagged."""
    return _timeline.stance_timeline(docs, topic, client=client or connect(), max_actors=max_actors)


def ask(
    docs: Document | Sequence[Document],
    question: str,
    *,
    client: LLMClient | None = None,
    choices: Sequence[str] | None = None,
    read: _ask.Reading = "focused",
) -> Answer:
    """Answer ``question`` from ``docs`` with citations, or abstain.

    ``choices`` makes it multiple choice (``Answer.choice`` is the chosen index);
    ``read="all"`` reads every part of documents too long for one prompt instead of
    only the parts that best match the question.
    """
    documents = [docs] if isinstance(docs, Document) else list(docs)
    return _ask.ask(documents, question, client=client or connect(), choices=choices, read=read)


def stance_toward(
    doc: Document,
    target: str,
    *,
    client: LLMClient | None = None,
    aliases: Sequence[str] = (),
) -> TargetStance:
    """Where the author of ``doc`` stands toward ``target`` (supports/opposes/neutral)."""
    return _target_stance.stance_toward(doc, target, client=client or connect(), aliases=aliases)


def check_claim(doc: Document, claim: str, *, client: LLMClient | None = None) -> ClaimCheck:
    """Whether ``doc`` agrees with, disagrees with, discusses or ignores ``claim``."""
    return _claims.check_claim(doc, claim, client=client or connect())
