"""Value spans (:mod:`newsqa.grounding.spans`), as properties over random documents:
a value written in a sentence is found there exactly, and every span slices back."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

from hypothesis import assume, given, settings
from hypothesis import strategies as st

from newsqa.documents import document_from_text
from newsqa.documents.lexical import numbers
from newsqa.grounding.spans import close, date_at, value_span
from newsqa.thresholds import TEXT_SHARE
from newsqa.types import Document, Evidence

_FILLER = [
    "Putin",
    "said",
    "U.S.",
    "aid",
    "Mr.",
    "3.5",
    "“yes.”",
    "Kyiv!",
    "talks",
    "peace",
    "\n",
    "...",
    "(a.)",
    "Geneva",
    "dollars",
    "12",
    "the",
]
_filler = st.lists(st.sampled_from(_FILLER), max_size=25).map(" ".join)
_MONTHS = "January February March April May June July August September October November December"
_NAMES = ["Geneva", "talks", "Joe", "Biden", "peace", "deal", "Kyiv’s", "the", "envoys", "U.N."]
_WORDS = {"three": 3, "twelve": 12, "forty": 40}


@st.composite
def _number(draw: st.DrawFn) -> tuple[str, Any, str]:
    n = draw(st.integers(0, 10**7))
    x = draw(st.decimals(0, 1000, places=1, allow_nan=False)).normalize()
    form = draw(st.sampled_from(["plain", "commas", "scaled", "percent", "money", "word"]))
    if form == "plain":
        return "integer", n, str(n)
    if form == "commas":
        return "integer", n, f"{n:,}"
    if form == "percent":
        return "number", draw(st.sampled_from([n, n / 100])), f"{n}%"
    if form == "word":
        word = draw(st.sampled_from(sorted(_WORDS)))
        return "integer", _WORDS[word], word
    scaled = draw(st.sampled_from([float(x), float(x) * 1e9]))
    return "number", scaled, (f"{x:f} billion" if form == "scaled" else f"${x:f}bn")


@st.composite
def _date(draw: st.DrawFn) -> tuple[str, Any, str]:
    day = draw(st.dates(dt.date(1900, 1, 1), dt.date(2099, 12, 31)))
    month = _MONTHS.split()[day.month - 1]
    written = draw(
        st.sampled_from(
            [f"{day.day} {month} {day.year}", f"{month} {day.day}, {day.year}", day.isoformat()]
        )
    )
    return "date", day, written


_text = st.lists(st.sampled_from(_NAMES), min_size=1, max_size=5).map(
    lambda words: ("text", " ".join(words), " ".join(words))
)


def _sentences(doc: Document) -> list[Evidence]:
    return [
        Evidence(doc=doc.id, text=s.text, start=s.start, end=s.end, sentence_id=s.id)
        for s in doc.sentences
    ]


def _plain(text: str) -> str:
    return re.sub(r"\s+", " ", text.replace("’", "'")).casefold()


@settings(max_examples=300, deadline=None)
@given(_filler, st.one_of(_number(), _date(), _text), _filler)
def test_a_value_written_in_its_sentence_is_found_there_exactly(
    before: str, stated: tuple[str, Any, str], after: str
) -> None:
    kind, value, written = stated
    text = f"{before} {written} {after}"
    at = len(before) + 1
    doc = document_from_text(text)
    holding = [ev for ev in _sentences(doc) if ev.start <= at and at + len(written) <= ev.end]
    assume(holding)  # the sentence splitter did not cut the value in two
    span = value_span(kind, value, holding, TEXT_SHARE)
    assert span.alignment == "exact"
    assert doc.text[span.start : span.end] == span.text
    assert span.sentence_id == holding[0].sentence_id
    if kind == "text":
        assert _plain(span.text) == _plain(written)
    elif kind == "date":
        assert date_at(value, span.text) is not None
    else:
        assert any(close(float(value), n) for n in numbers(span.text))


_any_value = st.one_of(
    st.tuples(
        st.sampled_from(["text", "choice"]),
        st.lists(st.sampled_from(_NAMES + _FILLER), min_size=1, max_size=4).map(" ".join),
    ),
    st.tuples(st.sampled_from(["integer", "number"]), st.integers(0, 20)),
    st.tuples(st.just("date"), st.dates(dt.date(2000, 1, 1), dt.date(2030, 1, 1))),
    st.tuples(st.just("boolean"), st.booleans()),
)


@settings(max_examples=200, deadline=None)
@given(
    st.lists(st.sampled_from(_FILLER + _NAMES), min_size=1, max_size=40).map(" ".join),
    _any_value,
)
def test_every_span_slices_back_from_its_document_inside_a_cited_sentence(
    text: str, stated: tuple[str, Any]
) -> None:
    kind, value = stated
    doc = document_from_text(f"Talks {text}")
    cited = _sentences(doc)
    span = value_span(kind, value, cited, TEXT_SHARE)
    assert doc.text[span.start : span.end] == span.text
    home = next(ev for ev in cited if ev.sentence_id == span.sentence_id)
    assert home.start <= span.start <= span.end <= home.end
    if span.alignment == "sentence":
        assert (span.start, span.end) == (cited[0].start, cited[0].end)
