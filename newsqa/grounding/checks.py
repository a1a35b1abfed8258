"""Lexical checks of model text against the sentences it cites: is an answer supported,
is a value stated, is a passage about the question."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from newsqa.documents.lexical import (
    QUESTION_WORDS,
    content_tokens,
    name_stems,
    names_in,
    stem,
    stems,
)
from newsqa.thresholds import STATED_SHARE

__all__ = ["asked", "states", "supported_by", "topic_share"]


def supported_by(answer: str, sources: Iterable[str], *, min_share: float = STATED_SHARE) -> bool:
    """Is ``answer`` lexically grounded in ``sources``?

    Every number of the answer must occur in the sources, and at least ``min_share``
    of its other content words must occur there too (a word matches a source word
    sharing its first five letters, so "rejects" matches "rejected"). An answer
    without content words (e.g. "Yes") is accepted.
    """
    source_tokens = set(content_tokens(" ".join(sources)))
    source_stems = {stem(t) for t in source_tokens}
    tokens = content_tokens(answer)
    numbers = [t for t in tokens if t[0].isdigit()]
    words = [t for t in tokens if not t[0].isdigit()]
    if any(n not in source_tokens for n in numbers):
        return False
    if not words:
        return True
    hits = sum(1 for w in words if w in source_tokens or stem(w) in source_stems)
    return hits / len(words) >= min_share


def asked(question: str) -> tuple[set[str], set[str]]:
    """The question's content stems (question words left out), and those of them that
    are not names (a name: a capitalised word other than the first)."""
    every = {stem(t) for t in content_tokens(question) if t not in QUESTION_WORDS}
    named = name_stems(question, first=False)
    return every, every - named


def topic_share(question: str, sources: Iterable[str], *, names_suffice: bool = False) -> float:
    """How much ``sources`` are about ``question``: the share of its content stems they
    hold (1.0 for a question without any), and 0.0 when those they hold are only
    names ("What is the population of Sochi?" vs a sentence naming Sochi), unless
    ``names_suffice``.

    A small model that cannot answer tends to cite a salient but unrelated sentence
    and copy it as the answer; this catches that.
    """
    every, plain = asked(question)
    if not every:
        return 1.0
    said = stems(" ".join(sources))
    if plain and not plain & said and not names_suffice:
        return 0.0
    return len(every & said) / len(every)


def states(value: str, sources: Sequence[str], *, min_share: float = STATED_SHARE) -> bool:
    """Do ``sources`` state ``value``: all its numbers and names (capitalised words),
    and ``min_share`` of its other content words (:func:`supported_by`)? "Dmitry Ivanov"
    is not stated by a sentence about Dmitry Peskov."""
    return supported_by(value, sources, min_share=min_share) and names_in(
        value, stems(" ".join(sources))
    )
