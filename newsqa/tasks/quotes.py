"""Who said what: every quotation of an article, verbatim at its offsets, with its speaker.

No model call. A quotation is the text between double quotation marks (curly or
straight) of at least :data:`MIN_WORDS` words. Its speaker is found, in this order:

1. the name right after the closing mark ("“…,” Peskov remarked", "“…,” said Zelensky");
2. the actor the sentence belongs to (:func:`~newsqa.documents.attribution.attributed_ids`:
   "Zelensky said: “…”", a quotation running on from an attributed sentence);
3. for "“…,” he said", the speaker of the quotation just before.

A name is resolved through the gazetteer (:func:`~newsqa.documents.actors.gazetteer`): the
person as the text names them ("Dmitry Peskov") and the country or organisation they speak
for ("Russia"). A speaker the gazetteer does not know keeps their name and no actor; a
quotation without a speaker is still listed.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from html import escape
from typing import ClassVar

from pydantic import BaseModel, Field

from newsqa.documents.actors import find_actors, gazetteer
from newsqa.documents.attribution import SPEECH_WORDS, alias_pattern, attributed_ids
from newsqa.llm.client import LLMClient
from newsqa.tasks.base import Task, register
from newsqa.types import Document, Result

__all__ = ["MIN_WORDS", "Quote", "QuoteReport", "Quotes", "quotes"]

MIN_WORDS = 3
"""Fewest words a quotation holds (shorter ones are scare quotes: “peace plan”)."""
NAME_WORDS = 5
"""Words after a closing mark in which the speaker's name is looked for ("“…,” Kremlin
spokesperson Dmitry Peskov said")."""

_QUOTATION = re.compile(r"“([^“”]+)”|(?:(?<=\s)|^)\"([^\"]+)\"")
_CLOSED = (",", ".", "?", "!")
"""How a quotation attributed after its closing mark ends (“…,” he said), unlike a
fragment running on in the sentence (“within 24 hours” but …)."""
_CLAUSE = re.compile(r"[,;:!?“”\"]|\.(?=\s+[A-Z]|\s*$)")
_NAME = re.compile(r"(?:[A-Z][\w'’.-]*\s+){0,2}$")
"""Capitalised words just before an alias: the rest of the name ("Dmitry " Peskov)."""
_PLAIN_NAME = re.compile(
    r"^\s*(?:(?:said|says)\s+((?:[A-Z][\w'’.-]+\s?){1,3})"
    r"|((?:[A-Z][\w'’.-]+\s){1,3})(?:said|says|added|told)\b)"
)
"""A speaker the gazetteer does not know: "“…,” said Anna Smith", "“…,” Anna Smith said"."""
_PRONOUN = re.compile(r"^\s*(?:he|she|they)\s+\w+", re.IGNORECASE)
_WORDS = re.compile(r"\S+")


class Quote(BaseModel):
    """A quotation: its verbatim text (``text == document.text[start:end]``, without the
    marks), its sentence, and who said it."""

    text: str = Field(description="The quoted words, verbatim.")
    start: int
    end: int
    sentence_id: int = Field(description="The sentence the quotation starts in.")
    speaker: str | None = Field(description="The speaker as the text names them.")
    actor: str | None = Field(
        description="The country or organisation the speaker speaks for (gazetteer)."
    )


class QuoteReport(Result):
    """Every quotation of one article, in order."""

    doc: str
    quotes: list[Quote]


@dataclass(frozen=True)
class _Speaker:
    name: str
    actor: str | None


def _aliases() -> dict[str, str]:
    """Every gazetteer alias → its actor."""
    return {alias: actor for actor, names in gazetteer().items() for alias in names}


def _named(text: str, match: re.Match[str], actors: dict[str, str]) -> _Speaker:
    """The speaker an alias match names, with the capitalised words before it."""
    alias = match.group(1)
    before = _NAME.search(text[: match.start()])
    name = ((before.group(0) if before else "") + alias).strip()
    return _Speaker(name, actors.get(alias))


def _after(tail: str, actors: dict[str, str], pattern: re.Pattern[str]) -> _Speaker | None:
    """The speaker named in the clause right after a closing mark (``tail``): the last
    gazetteer name in its first :data:`NAME_WORDS` words, else a capitalised name with
    "said"."""
    clause = _CLAUSE.split(tail, maxsplit=1)[0]
    words = list(_WORDS.finditer(clause))[:NAME_WORDS]
    limit = words[-1].end() if words else 0
    named = [m for m in pattern.finditer(clause) if m.end() <= limit]
    if named:
        return _named(clause, named[-1], actors)
    plain = _PLAIN_NAME.match(clause)
    if plain:
        return _Speaker((plain.group(1) or plain.group(2)).strip(), None)
    return None


def _opens_speech(before: str) -> bool:
    """Does a quotation opening after ``before`` (its sentence so far) start the speech
    of the sentence's speaker: at the sentence's start, after a colon or a speech verb?"""
    words = before.split()
    return not words or before.rstrip().endswith(":") or words[-1].lower() in SPEECH_WORDS


def _sentence_of(doc: Document, offset: int) -> int:
    for sentence in doc.sentences:
        if sentence.start <= offset < sentence.end:
            return sentence.id
    return doc.sentences[-1].id if doc.sentences else 0


def _owners(doc: Document) -> dict[int, _Speaker]:
    """Sentence id → the actor it belongs to (the most mentioned one, if several), named by
    the alias it uses there."""
    owners: dict[int, _Speaker] = {}
    numbered = [(s.id, s.text) for s in doc.sentences]
    for mention in find_actors(doc):
        pattern = alias_pattern(mention.aliases)
        for sid in attributed_ids(numbered, pattern):
            if sid in owners:
                continue
            hit = pattern.search(doc.sentence(sid).text)
            name = _named(doc.sentence(sid).text, hit, {}).name if hit else mention.name
            owners[sid] = _Speaker(name, mention.name)
    return owners


def _continued(last: Quote | None, sid: int) -> _Speaker | None:
    """The speaker of the quotation ``last`` if it is in this sentence or the one before."""
    if last is None or last.speaker is None or sid - last.sentence_id > 1:
        return None
    return _Speaker(last.speaker, last.actor)


def quotes(doc: Document) -> QuoteReport:
    """Every quotation of ``doc`` with its speaker (see the module's docstring)."""
    actors = _aliases()
    pattern = alias_pattern(list(actors))
    owners = _owners(doc)
    found: list[Quote] = []
    last: Quote | None = None
    for match in _QUOTATION.finditer(doc.text):
        group = 1 if match.group(1) is not None else 2
        start, end = match.span(group)
        quoted = doc.text[start:end]
        if len(quoted.split()) < MIN_WORDS:
            continue
        sid = _sentence_of(doc, start)
        sentence = doc.sentence(sid) if sid else None
        tail = doc.text[end + 1 : sentence.end if sentence else len(doc.text)]
        speaker: _Speaker | None = None
        if quoted.rstrip().endswith(_CLOSED):
            speaker = _after(tail, actors, pattern)
            if speaker is None and _PRONOUN.match(tail):
                speaker = _continued(last, sid)
        if speaker is None and sentence and _opens_speech(doc.text[sentence.start : start - 1]):
            speaker = owners.get(sid)
        last = Quote(
            text=quoted,
            start=start,
            end=end,
            sentence_id=sid,
            speaker=speaker.name if speaker else None,
            actor=speaker.actor if speaker else None,
        )
        found.append(last)
    return QuoteReport(doc=doc.id, quotes=found)


def _who(quote: Quote) -> str:
    if quote.speaker is None:
        return "unknown speaker"
    return quote.speaker + (f" ({quote.actor})" if quote.actor else "")


@register
class Quotes(Task[QuoteReport]):
    """Who said what: each quotation verbatim at its offsets, with its speaker (no model)."""

    name: ClassVar[str] = "quotes"
    uses_model: ClassVar[bool] = False

    def run(self, doc: Document, *, client: LLMClient | None = None) -> QuoteReport:
        return quotes(doc)

    @classmethod
    def text(cls, result: QuoteReport) -> str:
        lines = [f"{result.doc}: {len(result.quotes)} quotation(s)"]
        lines += [
            f"[{q.sentence_id}] {q.start}-{q.end} {_who(q)}: “{q.text}”" for q in result.quotes
        ]
        return "\n".join(lines)

    @classmethod
    def html(cls, result: QuoteReport) -> str:
        rows = "".join(
            f"<tr><td><b>{escape(_who(q))}</b></td><td>“{escape(q.text)}”</td>"
            f"<td><code>[{q.sentence_id}] {q.start}-{q.end}</code></td></tr>"
            for q in result.quotes
        )
        return (
            f"<div><b>Quotations</b> in <code>{escape(result.doc)}</code><table><thead><tr>"
            f"<th>Speaker</th><th>Quotation</th><th>Where</th></tr></thead>"
            f"<tbody>{rows}</tbody></table></div>"
        )
