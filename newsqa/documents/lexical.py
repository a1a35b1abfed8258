"""Words, stopwords and stems: the one lexical toolkit of the grounding checks,
the stance candidate ranking and quote attribution (no model involved).

A *stem* is a word's first five letters, lowercased: crude, but it matches
"rejects" with "rejected" and "negotiations" with "negotiate" without a stemmer.
"""

from __future__ import annotations

import re

__all__ = ["STOPWORDS", "TOKEN", "WORD", "content_tokens", "stem", "stems", "words"]

WORD = re.compile(r"\w+")
"""A word: a run of letters, digits or underscores."""

TOKEN = re.compile(r"\d+(?:[.,]\d+)*|\w+")
"""A word, with a number's decimal or thousands separators kept inside it."""

STOPWORDS = frozenset(
    """a an the of in on at to for from by with and or but is are was were be been it its this
    that these those as about over under than then there their they he she his her him we our
    you your i not no yes has have had do does did will would can could may might also just
    only some any all more most very approximately around roughly nearly almost""".split()
)
"""Function words that carry no content for matching."""


def words(text: str) -> list[str]:
    """The lowercased words of ``text``."""
    return WORD.findall(text.lower())


def content_tokens(text: str) -> list[str]:
    """Lowercased tokens of ``text`` (numbers kept whole) without stopwords."""
    return [t for t in TOKEN.findall(text.lower()) if t not in STOPWORDS]


def stem(word: str) -> str:
    """The five-letter stem of a lowercased word."""
    return word[:5]


def stems(text: str) -> set[str]:
    """Stems of the content words of ``text``."""
    return {stem(w) for w in words(text) if w not in STOPWORDS}
