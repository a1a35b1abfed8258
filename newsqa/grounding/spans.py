"""Where a value is written: the characters of a sentence in which a value check finds
it (a number by value, a date by its day and month, text by its words).

The checks of extraction ask these functions *whether* a value is written; the same
match gives *where*, so a value's span is the one its check found.
"""

from __future__ import annotations

import datetime as dt
import math
import re
from collections.abc import Sequence
from typing import Any

from newsqa.documents.lexical import (
    amounts,
    content_token_spans,
    content_tokens,
    currency_spans,
    name_stems,
    number_spans,
    stem,
)
from newsqa.types import Alignment, Evidence, ValueSpan

__all__ = ["date_at", "number_at", "value_span", "words_at"]

Span = tuple[int, int]

_MONTHS = [m.lower() for m in "Jan Feb Mar Apr May Jun Jul Aug Sep Oct Nov Dec".split()]
_YEAR = re.compile(r"\b(1[89]\d\d|2\d\d\d)\b")
_SAME = {"'": "['’‘]", "’": "['’‘]", '"': '["“”]', "“": '["“”]', "”": '["“”]'}
_SAME |= {"-": "[-‐‑–—]", "–": "[-‐‑–—]", "—": "[-‐‑–—]"}


def close(a: float, b: float) -> bool:
    """Are two numbers the same value (a relative tolerance of one millionth)?"""
    return abs(a - b) <= 1e-6 * max(1.0, abs(a))


def number_at(value: float, text: str) -> Span | None:
    """The first number of ``text`` that may stand for ``value``, as written ("64.1
    billion" for 64.1 or 64.1e9, "three" for 3), or ``None``."""
    for start, end, values in number_spans(text):
        if any(close(value, n) for n in values):
            return start, end
    return None


def date_at(value: dt.date, text: str) -> Span | None:
    """Where ``text`` writes the day and month of ``value`` (a month name and the day
    number, or the date in digits; with its year when it follows), provided it names
    no other year; else ``None``. A year alone, or "on Monday", does not state a date."""
    years = {int(y) for y in _YEAR.findall(text)}
    if years and value.year not in years:
        return None
    day, month, year = value.day, value.month, value.year
    digits = re.search(
        rf"\b{year}-0?{month}-0?{day}\b|\b0?{month}/0?{day}/(?:{year}|{year % 100:02d})?"
        rf"|\b0?{day}[./]0?{month}[./](?:{year}|{year % 100:02d})?",
        text,
    )
    if digits:
        return digits.span()
    mon = _MONTHS[month - 1]
    day_pattern = rf"0?{day}(?:st|nd|rd|th)?"
    named = re.search(
        rf"\b{day_pattern}\s+(?:of\s+)?{mon}[a-z]*\.?(?:,?\s+{year}\b)?"
        rf"|\b{mon}[a-z]*\.?\s+{day_pattern}\b(?:,?\s+{year}\b)?",
        text,
        re.IGNORECASE,
    )
    return named.span() if named else None


def _written(value: str) -> re.Pattern[str] | None:
    """A pattern for ``value`` as written: any case, any run of spaces, either kind of
    quote or dash, whole words at its ends."""
    parts = value.split()
    if not parts:
        return None
    body = r"\s+".join("".join(_SAME.get(c, re.escape(c)) for c in part) for part in parts)
    head = r"(?<!\w)" if re.match(r"\w", parts[0]) else ""
    tail = r"(?!\w)" if re.search(r"\w$", parts[-1]) else ""
    return re.compile(head + body + tail, re.IGNORECASE)


def _exact(value: str, text: str) -> Span | None:
    pattern = _written(value)
    found = pattern.search(text) if pattern else None
    return found.span() if found else None


def words_at(value: str, text: str, share: float) -> tuple[Span, Alignment] | None:
    """Where ``text`` writes the text ``value``: ``exact`` where it is written as it is
    (any case or run of spaces), else ``fuzzy``, the shortest stretch that holds each
    of its numbers (by value), currencies and names and ``share`` of its other
    content words (by stem), as the text check asks; ``None`` when no stretch does."""
    exact = _exact(value, text)
    if exact:
        return exact, "exact"
    values, money, rest = amounts(value)
    words = {stem(t) for t in content_tokens(rest)}
    names = name_stems(rest)
    hits: list[tuple[int, int, tuple[str, Any]]] = []
    for start, end, written in number_spans(text):
        hits += [
            (start, end, ("number", i))
            for i, options in enumerate(values)
            if any(close(v, n) for v in options for n in written)
        ]
    hits += [(s, e, ("money", code)) for s, e, code in currency_spans(text) if code in money]
    hits += [(s, e, ("word", stem(t))) for s, e, t in content_token_spans(text) if stem(t) in words]
    need_words = math.ceil(share * len(words) - 1e-9)
    if not (values or money or words):
        return None
    hits.sort()
    best: Span | None = None
    for i, (first, _, _) in enumerate(hits):
        keys: set[tuple[str, Any]] = set()
        for _, last, key in hits[i:]:
            keys.add(key)
            found = {k[1] for k in keys if k[0] == "word"}
            if (
                len({k for k in keys if k[0] == "number"}) == len(values)
                and {k[1] for k in keys if k[0] == "money"} == money
                and names <= found
                and len(found) >= need_words
            ):
                if best is None or last - first < best[1] - best[0]:
                    best = first, last
                break
    return (best, "fuzzy") if best else None


def value_span(kind: str, value: Any, evidence: Sequence[Evidence], share: float) -> ValueSpan:
    """Where the sentences ``evidence`` (those that state it; at least one) write
    ``value``, a leaf of kind ``kind`` (as :mod:`newsqa.tasks.extract` names them):
    the first exact span, else the first fuzzy one (text at ``share``), else the
    first sentence as a whole."""
    for wanted in ("exact", "fuzzy"):
        for ev in evidence:
            found = _locate(kind, value, ev.text, share)
            if found is not None and found[1] == wanted:
                (start, end), alignment = found
                return ValueSpan(
                    text=ev.text[start:end],
                    start=ev.start + start,
                    end=ev.start + end,
                    sentence_id=ev.sentence_id,
                    alignment=alignment,
                )
    first = evidence[0]
    return ValueSpan(
        text=first.text,
        start=first.start,
        end=first.end,
        sentence_id=first.sentence_id,
        alignment="sentence",
    )


def _locate(kind: str, value: Any, text: str, share: float) -> tuple[Span, Alignment] | None:
    span: Span | None = None
    if kind in ("integer", "number") and not isinstance(value, bool):
        span = number_at(float(value), text)
    elif kind in ("date", "datetime") and isinstance(value, dt.date):
        span = date_at(value, text)
    elif kind == "text":
        return words_at(str(value), text, share)
    elif kind == "choice":
        span = _exact(str(value), text)
    return (span, "exact") if span else None
