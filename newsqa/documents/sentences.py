"""Rule-based sentence segmentation that keeps exact character offsets."""

from __future__ import annotations

import re

from newsqa.types import Sentence

__all__ = ["split_sentences"]

# Words that end with a period without ending a sentence.
_ABBREVIATIONS = frozenset(
    """mr mrs ms dr prof sr jr st gen col lt sgt capt gov sen rep pres rev hon
    jan feb mar apr jun jul aug sep sept oct nov dec vs etc inc ltd corp co
    dept est approx fig al""".split()
)
_BOUNDARY = re.compile(r"""(?<![.!?…])[.!?…]++["'”’)\]»]*+(?=\s)""")  # possessive: linear
_PARAGRAPH = re.compile(r"\n\s*\n")
_INITIALISM = re.compile(r"(?:\b[A-Za-z]\.){2,}$")
_NEXT_OPENING = re.compile(r"""\s+["'“‘(\[«]*""")
_NUMBER_ABBREVIATIONS = frozenset({"no"})  # "No. 5", but "said no. Moscow" ends a sentence


def _is_boundary(text: str, punct_start: int, punct_end: int, end: int) -> bool:
    """Decide whether the punctuation at ``text[punct_start:punct_end]`` ends a sentence."""
    opening = _NEXT_OPENING.match(text, punct_end, end)
    if opening is None or opening.end() >= end:
        return False
    following = text[opening.end()]
    if not (following.isupper() or following.isdigit()):
        return False
    if text[punct_start] != ".":
        return True
    head = text[max(0, punct_start - 40) : punct_start + 1]  # enough for any abbreviation
    if _INITIALISM.search(head):  # U.S. Department, U.N. Security Council
        return False
    word = re.search(r"([A-Za-z]+)\.$", head)
    if word is None:
        return True
    token = word.group(1)
    if token.lower() in _NUMBER_ABBREVIATIONS:
        return not following.isdigit()
    if token.lower() in _ABBREVIATIONS:
        return False
    return not (len(token) == 1 and token.isupper())  # middle initial: "John F. Kennedy"


def _split_span(text: str, start: int, end: int, out: list[tuple[int, int]]) -> None:
    cursor = start
    for match in _BOUNDARY.finditer(text, start, end):
        if _is_boundary(text, match.start(), match.end(), end):
            out.append((cursor, match.end()))
            cursor = match.end()
    out.append((cursor, end))


def split_sentences(text: str) -> list[Sentence]:
    """Split ``text`` into sentences; each one's ``text == text[start:end]``.

    Paragraph breaks always end a sentence; inside a paragraph a sentence ends at
    ``.``, ``!`` or ``?`` (with closing quotes) followed by a capital, digit or
    opening quote, unless the period belongs to an abbreviation or initialism.
    Surrounding whitespace is never part of a sentence.
    """
    spans: list[tuple[int, int]] = []
    cursor = 0
    for para in _PARAGRAPH.finditer(text):
        _split_span(text, cursor, para.start(), spans)
        cursor = para.end()
    _split_span(text, cursor, len(text), spans)

    sentences: list[Sentence] = []
    for raw_start, raw_end in spans:
        chunk = text[raw_start:raw_end]
        stripped = chunk.strip()
        if not stripped:
            continue
        start = raw_start + (len(chunk) - len(chunk.lstrip()))
        end = start + len(stripped)
        sentences.append(Sentence(id=len(sentences) + 1, start=start, end=end, text=stripped))
    return sentences
