"""Words, stopwords and stems: the one lexical toolkit of the grounding checks, the
corpus index, the stance rules and quote attribution (no model involved).

A *stem* is a word's first five letters, lowercased: crude, but it matches
"rejects" with "rejected" and "negotiations" with "negotiate" without a stemmer.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from newsqa.documents.vocabulary import vocabulary

__all__ = [
    "QUESTION_WORDS",
    "STOPWORDS",
    "TOKEN",
    "WHOLE_WORD",
    "WORD",
    "amounts",
    "content_token_spans",
    "content_tokens",
    "currencies",
    "currency_spans",
    "name_stems",
    "names_in",
    "number_spans",
    "numbers",
    "stem",
    "stems",
    "words",
]

WORD = re.compile(r"\w+")
"""A word: a run of letters, digits or underscores."""

TOKEN = re.compile(r"\d+(?:[.,]\d+)*|(?:[^\W\d_]\.){2,}|\w+")
"""A word, with a number's decimal or thousands separators kept inside it, or a dotted
abbreviation ("U.S.", which :func:`content_tokens` writes as "us", as in "US")."""

WHOLE_WORD = re.compile(r"[\w'’-]+")
"""A word with its apostrophes and hyphens ("Moscow’s", "U.S.-led"): how attribution
counts the words after a name."""

STOPWORDS = vocabulary().stopwords
"""Function words that carry no content for matching or searching (the vocabulary's)."""

QUESTION_WORDS = vocabulary().question_words
"""Words of a question's form, not of its subject (the vocabulary's)."""


def words(text: str) -> list[str]:
    """The lowercased words of ``text``."""
    return WORD.findall(text.lower())


def content_tokens(text: str) -> list[str]:
    """Lowercased tokens of ``text`` (numbers kept whole, "U.S." as "us") without
    stopwords."""
    return [_undotted(t) for t in TOKEN.findall(text.lower()) if t not in STOPWORDS]


def content_token_spans(text: str) -> Iterator[tuple[int, int, str]]:
    """Each content token of ``text`` (:func:`content_tokens`) with its start and end."""
    for match in TOKEN.finditer(text):
        token = match.group(0).lower()
        if token not in STOPWORDS:
            yield match.start(), match.end(), _undotted(token)


def _undotted(token: str) -> str:
    """A dotted abbreviation without its dots ("u.s." → "us"); other tokens as they are."""
    return token.replace(".", "") if token.endswith(".") else token


def stem(word: str) -> str:
    """The five-letter stem of a lowercased word."""
    return word[:5]


def stems(text: str) -> set[str]:
    """Stems of the content words of ``text`` (:func:`content_tokens`: "$8.5 billion"
    holds "8.5", as a question asking about it does)."""
    return {stem(t) for t in content_tokens(text)}


def name_stems(text: str, *, first: bool = True) -> set[str]:
    """Stems of the names in ``text``: its capitalised words other than capitalised
    function words ("Over 64.1 billion"), "U.S." as "us". Without its first word when
    ``first`` is false (a question's first word is capitalised as the first)."""
    tokens = TOKEN.findall(text)[0 if first else 1 :]
    return {
        stem(_undotted(w.lower())) for w in tokens if w[:1].isupper() and w.lower() not in STOPWORDS
    }


def names_in(value: str, said: set[str]) -> bool:
    """Is every capitalised word of ``value`` (a name: "Dmitry Ivanov") among the stems
    ``said`` (see :func:`stems`)? A value that invents a name fails, however many of
    its other words the sentences hold. A capitalised function word ("Over 64.1
    billion") is not a name."""
    return name_stems(value) <= said


_UNITS = (
    "zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen "
    "fifteen sixteen seventeen eighteen nineteen twenty"
).split()
_NUMBER_WORDS = (
    {w: float(i) for i, w in enumerate(_UNITS)}
    | {
        w: float(10 * i)
        for i, w in enumerate("thirty forty fifty sixty seventy eighty ninety".split(), start=3)
    }
    | {"dozen": 12.0, "hundred": 100.0}
)
_SCALES = {
    "hundred": 1e2,
    "thousand": 1e3,
    "k": 1e3,
    "million": 1e6,
    "mn": 1e6,
    "m": 1e6,
    "billion": 1e9,
    "bn": 1e9,
    "b": 1e9,
    "trillion": 1e12,
    "tn": 1e12,
}
_NUMBER = re.compile(
    r"(?<![\w.])(\d{1,3}(?:,\d{3})+(?:\.\d+)?(?!\d)|\d+(?:\.\d+)?(?!\d)|(?:"
    + "|".join(sorted(_NUMBER_WORDS, key=len, reverse=True))
    + r")\b)(?:\s*(%|percent\b|per cent\b))?(?:[\s-]*("
    + "|".join(sorted(_SCALES, key=len, reverse=True))
    + r")(?!\w))?",
    re.IGNORECASE,
)


def numbers(text: str) -> set[float]:
    """Every value a number in ``text`` may stand for: "64.1 billion" gives 64.1 and
    64.1e9, "12%" gives 12 and 0.12, "1,200" gives 1200, "three" gives 3.

    Generous on purpose (a check that a value is *stated* must not miss a way of
    writing it): "100m" gives both 100 and 1e8.
    """
    found: set[float] = set()
    for _, _, values in number_spans(text):
        found |= values
    return found


def number_spans(text: str) -> Iterator[tuple[int, int, set[float]]]:
    """Each number of ``text`` as written ("64.1 billion", "12%", "three"): its start,
    its end and the values it may stand for (:func:`numbers`)."""
    for match in _NUMBER.finditer(text):
        yield match.start(), match.end(), _values(match)


def _values(match: re.Match[str]) -> set[float]:
    """What one matched number may stand for (see :func:`numbers`)."""
    digits, percent, scale = match.groups()
    key = digits.lower()
    value = _NUMBER_WORDS[key] if key in _NUMBER_WORDS else float(digits.replace(",", ""))
    found = {value}
    if percent:
        found.add(value / 100)
    if scale:
        found.add(value * _SCALES[scale.lower()])
    return found


_CURRENCY = re.compile(r"US\$|[$€£]|\b(?:usd|eur|gbp|dollars?|euros?)\b", re.IGNORECASE)
_CURRENCIES = {"$": "USD", "us$": "USD", "usd": "USD", "dollar": "USD", "dollars": "USD"}
_CURRENCIES |= {"€": "EUR", "eur": "EUR", "euro": "EUR", "euros": "EUR", "£": "GBP", "gbp": "GBP"}


def currencies(text: str) -> set[str]:
    """The currencies ``text`` names, however written: "$", "US$", "USD" and "dollars"
    are all ``USD`` (likewise ``EUR`` and ``GBP``)."""
    return {code for _, _, code in currency_spans(text)}


def currency_spans(text: str) -> Iterator[tuple[int, int, str]]:
    """Each currency ``text`` names: its start, its end and its code (:func:`currencies`)."""
    for match in _CURRENCY.finditer(text):
        yield match.start(), match.end(), _CURRENCIES[match.group(0).lower()]


def amounts(text: str) -> tuple[list[set[float]], set[str], str]:
    """The numbers of ``text`` (each as the values it may stand for, :func:`numbers`),
    the currencies it names (:func:`currencies`), and the text without either:
    "over $64.1bn" gives ``[{64.1, 64.1e9}]``, ``{"USD"}`` and "over"."""
    values: list[set[float]] = []

    def number(match: re.Match[str]) -> str:
        values.append(_values(match))
        return " "

    rest = _NUMBER.sub(number, text)
    return values, currencies(rest), _CURRENCY.sub(" ", rest)
