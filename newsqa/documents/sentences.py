"""Rule-based sentence segmentation that keeps exact character offsets."""

from __future__ import annotations

import re
from bisect import bisect_right

from newsqa.documents.chunking import encoding
from newsqa.types import Sentence

__all__ = ["MAX_SENTENCE_TOKENS", "split_sentences"]

MAX_SENTENCE_TOKENS = 200
"""Longest sentence, in tokens: a longer run of text (no punctuation, a table, a
pasted log) is cut at word boundaries into pieces of at most this, so every
sentence fits any prompt budget (:class:`~newsqa.config.Settings` accepts no
``context_tokens`` below :data:`~newsqa.config.MIN_CONTEXT_TOKENS`)."""
_SPACE = re.compile(r"\s+")

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


def _cut_long(text: str, start: int, end: int, out: list[tuple[int, int]]) -> None:
    """Append ``text[start:end]`` as pieces of at most :data:`MAX_SENTENCE_TOKENS`
    tokens, cut after the last whitespace that fits (mid-word only when a single
    word is longer). One tokenizer pass over the span, then each piece is checked."""
    if len(text[start:end].encode()) <= MAX_SENTENCE_TOKENS:  # a token holds >= 1 byte
        out.append((start, end))
        return
    enc = encoding()
    tokens = enc.encode(text[start:end], disallowed_special=())
    if len(tokens) <= MAX_SENTENCE_TOKENS:
        out.append((start, end))
        return
    _, offsets = enc.decode_with_offsets(tokens)  # char offset where each token starts
    cursor = start
    while cursor < end:
        first = bisect_right(offsets, cursor - start) - 1
        limit = first + MAX_SENTENCE_TOKENS - 8  # margin: a piece re-tokenizes alone
        cut = end if limit >= len(offsets) else start + offsets[limit]
        while True:
            if cut < end:
                space = text.rfind(" ", cursor + 1, cut + 1)
                gap = max(space, text.rfind("\n", cursor + 1, cut + 1))
                if gap > cursor:
                    cut = gap
            if cut <= cursor + 1 or len(enc.encode(text[cursor:cut], disallowed_special=())) <= (
                MAX_SENTENCE_TOKENS
            ):
                break
            cut = cursor + (cut - cursor) * 3 // 4
        cut = max(cut, cursor + 1)
        out.append((cursor, cut))
        gap_end = _SPACE.match(text, cut, end)
        cursor = gap_end.end() if gap_end else cut


def split_sentences(text: str) -> list[Sentence]:
    """Split ``text`` into sentences; each one's ``text == text[start:end]``.

    Paragraph breaks always end a sentence; inside a paragraph a sentence ends at
    ``.``, ``!`` or ``?`` (with closing quotes) followed by a capital, digit or
    opening quote, unless the period belongs to an abbreviation or initialism.
    Surrounding whitespace is never part of a sentence. A sentence longer than
    :data:`MAX_SENTENCE_TOKENS` is cut at word boundaries into several.
    """
    spans: list[tuple[int, int]] = []
    cursor = 0
    for para in _PARAGRAPH.finditer(text):
        _split_span(text, cursor, para.start(), spans)
        cursor = para.end()
    _split_span(text, cursor, len(text), spans)

    pieces: list[tuple[int, int]] = []
    for raw_start, raw_end in spans:
        _cut_long(text, raw_start, raw_end, pieces)
    sentences: list[Sentence] = []
    for raw_start, raw_end in pieces:
        chunk = text[raw_start:raw_end]
        stripped = chunk.strip()
        if not stripped:
            continue
        start = raw_start + (len(chunk) - len(chunk.lstrip()))
        end = start + len(stripped)
        sentences.append(Sentence(id=len(sentences) + 1, start=start, end=end, text=stripped))
    return sentences
