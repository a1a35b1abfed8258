"""Questions about a time relative to when they are asked ("this week", "today").

A sentence of an article dated two years before the question cannot say what happened
"this week", however well its words match: :func:`timely` tells whether any cited
sentence comes from a document dated inside the window the question names.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable

from newsqa.grounding import Unit

__all__ = ["timely", "untimed", "window_days"]

_SPANS = (
    (re.compile(r"\b(?:today|tonight|yesterday)\b", re.IGNORECASE), 3),
    (re.compile(r"\b(?:this|last|past)\s+(?:week|weekend)\b", re.IGNORECASE), 14),
    (re.compile(r"\b(?:this|last|past)\s+month\b", re.IGNORECASE), 45),
    (re.compile(r"\b(?:this|last|past)\s+year\b", re.IGNORECASE), 400),
)
"""Spans that name a time relative to the question's date, and how many days before
that date an article about them may be published, with room for reports written ahead
of the event ("this week" asked on Friday: articles of the two weeks before)."""

_RECENT = (
    re.compile(r"\b(?:[Rr]ecent(?:ly)?|[Ll]atest|[Cc]urrent(?:ly)?|new|next|now|upcoming)\b"),
    400,
)
"""Words of the present and the latest ("recently", "new", "next", "current"): they ask
for the news of the day, a year at most (the "next prime minister" a 2017 article names
is not the one asked about in 2024). Lowercase "new": "New York" is a name. Unlike the
spans they stay in the question's words: "new elections" is what is asked about."""


def window_days(question: str) -> int | None:
    """The days before the question's date that its time words allow (the narrowest
    they name), or ``None`` when it names no time relative to its date."""
    return min(
        (days for pattern, days in (*_SPANS, _RECENT) if pattern.search(question)), default=None
    )


def untimed(question: str) -> str:
    """``question`` without the spans that name its time ("this week", "today"): they
    say when it is asked about, which :func:`timely` checks, not what it is about, and
    the sentences that answer it seldom write them ("on Monday")."""
    for pattern, _ in _SPANS:
        question = pattern.sub(" ", question)
    return " ".join(question.split())


def timely(units: Iterable[Unit], question: str, as_of: dt.date | None) -> bool:
    """Can these cited sentences speak to the time ``question`` names, asked on ``as_of``?

    True without ``as_of``, for a question without relative time words, and when a
    sentence's document is undated or dated inside the window (see :func:`window_days`);
    False when every cited document is dated outside it.
    """
    days = window_days(question)
    if as_of is None or days is None:
        return True
    day = as_of.date() if isinstance(as_of, dt.datetime) else as_of  # datetime.now() too
    return any(u.doc.date is None or 0 <= (day - u.doc.date).days <= days for u in units)
