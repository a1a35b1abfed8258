"""What every corpus engine indexes the same way: passages (windows of whole
sentences), the hash that tells an unchanged document, and a query's words."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from typing import NamedTuple

from newsqa.documents import lexical
from newsqa.types import Document

__all__ = ["STRIDE", "WINDOW", "Window", "content_hash", "query_words", "windows"]

WINDOW = 3
"""Sentences per passage."""
STRIDE = 2
"""Sentences between the starts of two passages (they overlap by one)."""
_STOP = lexical.STOPWORDS | lexical.QUESTION_WORDS


class Window(NamedTuple):
    """One passage of a document: its text (the title before the first one), the ids
    of its first and last sentences and its offsets in the document's text."""

    text: str
    first: int
    last: int
    start: int
    end: int


def windows(doc: Document) -> Iterator[Window]:
    """The passages of ``doc``: up to :data:`WINDOW` sentences each, every
    :data:`STRIDE` sentences."""
    sentences = doc.sentences
    for i in range(0, max(len(sentences) - WINDOW + STRIDE, 1), STRIDE):
        window = sentences[i : i + WINDOW]
        if not window:
            break
        start, end = window[0].start, window[-1].end
        text = doc.text[start:end]
        if doc.title and i == 0:
            text = f"{doc.title}\n{text}"
        yield Window(text, window[0].id, window[-1].id, start, end)


def content_hash(doc: Document) -> str:
    """The hash of what is indexed: text, title and date. Not ``source``: it says where
    the document was read (``file:line`` by default), which moves when a line is added
    above it, and is updated in place."""
    payload = json.dumps([doc.text, doc.title, doc.date and doc.date.isoformat()])
    return hashlib.sha256(payload.encode()).hexdigest()


def query_words(text: str) -> list[str]:
    """The searchable words of free text: lower-cased content words, first 32 distinct."""
    words = [w for w in lexical.words(text) if w not in _STOP]
    if not words:
        words = lexical.words(text)
    return list(dict.fromkeys(words))[:32]
