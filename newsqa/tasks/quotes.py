"""Who said what: every quotation of an article, verbatim at its offsets, with its speaker.

No model call. A quotation is the text between double quotation marks (curly or
straight) of at least :data:`MIN_WORDS` words. Its speaker is, in this order:

1. the one named right after the closing mark: "“…,” said Zelensky", or the name just
   before the verb ("“…,” Kremlin spokesman Dmitry Peskov said");
2. for "“…,” he said", the speaker of the quotation just before, else the one the
   sentence before names at its start or end ("Kavanagh said …", "…, Biden said.");
3. for a quotation that makes a whole sentence, the speaker of the quotation just before
   (it goes on);
4. for one that opens its sentence or follows a colon or a speech verb, the actor the
   sentence belongs to (:func:`~newsqa.documents.attribution.attributed_ids`), named as
   the text names it there or just before.

Otherwise (a fragment inside someone else's sentence, a speaker named after the mark but
not read) the quotation is listed with no speaker: none is better than a wrong one. The
country or organisation a speaker speaks for comes from a gazetteer name in their title or
name (:func:`~newsqa.documents.actors.gazetteer`: "Kremlin" → Russia, "Zelensky" →
Ukraine); a speaker the gazetteer does not know keeps their name and no actor.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from html import escape
from typing import ClassVar

from pydantic import BaseModel, Field

from newsqa.documents.actors import ActorMention, find_actors, gazetteer
from newsqa.documents.attribution import SPEECH_WORDS, alias_pattern, attributed_ids
from newsqa.documents.lexical import STOPWORDS
from newsqa.llm.client import LLMClient
from newsqa.tasks.base import Task, register
from newsqa.types import Document, Result

__all__ = ["MIN_WORDS", "Quote", "QuoteReport", "Quotes", "quotes"]

MIN_WORDS = 3
"""Fewest words a quotation holds (shorter ones are scare quotes: “peace plan”)."""
NAME_WORDS = 8
"""Words after a closing mark in which the speaker and their verb are looked for ("“…,”
White House national security advisor Jake Sullivan said")."""
AFTER_CHARS = 200
"""Characters after a closing mark read for its speaker (within the line)."""
LOOK_BACK = 2
"""Sentences before a quotation in which its actor's name is looked for ("Putin
indicated … . “It is you who must …,” he said")."""

_QUOTATION = re.compile(r"“([^“”]+)”|(?:(?<=\s)|^)\"([^\"]+)\"")
_CLOSED = (",", ".", "?", "!")
"""How a quotation attributed after its closing mark ends (“…,” he said), unlike a
fragment running on in the sentence (“within 24 hours” but …)."""
_CLAUSE = re.compile(
    r"[,;:!?“”\"]|(?<!\b[A-Z])(?<!\b[A-Z][a-z])(?<!\b[A-Z][a-z]{2})\.(?=\s+[A-Z]|\s*$)"
)
"""Where the clause after a closing mark ends (not at "Maj." or "U.S.")."""
_OWNED = re.compile(r"[’']s\s+[a-z]+")
"""What a possessive name names: "Zelensky’s office"."""
_TOKEN = re.compile(r"[\w'’.-]+")
_NAME_RUN = re.compile(r"[A-Z][\w'’.-]*(?:\s+(?:of\s+)?[A-Z][\w'’.-]*)*")
"""A name as the text writes it: capitalised words ("Secretary of State Antony Blinken")."""
_NAME = re.compile(r"(?:[A-Z][\w'’.-]*\s+){0,2}$")
"""Capitalised words just before an alias: the rest of the name ("Dmitry " Peskov)."""
_LEADS = re.compile(rf"^\s*({_NAME_RUN.pattern})\s+(\w+)")
_ENDS = re.compile(rf",\s*({_NAME_RUN.pattern})\s+(\w+)\W*$")
_PRONOUN = re.compile(r"^\s*(?:he|she|they)\s+\w+", re.IGNORECASE)


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
    name = _bare(((before.group(0) if before else "") + alias).strip())
    return _Speaker(name, actors.get(alias))


def _speaks(word: str) -> bool:
    """Is ``word`` the verb of a speaker ("said", "told", "remarked")?"""
    word = word.rstrip(".")
    return word[:1].islower() and (word in SPEECH_WORDS or word.endswith("ed"))


def _after(tail: str, actors: dict[str, str], pattern: re.Pattern[str]) -> _Speaker | None:
    """The speaker named in the clause right after a closing mark (``tail``): "said NAME",
    or the name just before its verb ("Kremlin spokesman Dmitry Peskov said"), with the
    actor of a gazetteer name up to there ("Kremlin" → Russia)."""
    clause = _CLAUSE.split(tail.lstrip(" ,"), maxsplit=1)[0]
    tokens = list(_TOKEN.finditer(clause))[:NAME_WORDS]
    if not tokens:
        return None
    first = tokens[0].group(0)
    if _speaks(first) and len(tokens) > 1:  # "“…,” said Zelensky"
        name = _NAME_RUN.match(clause, tokens[1].start())
    elif first[:1].isupper():  # "“…,” Putin remarked"
        verb = next((t for t in tokens if _speaks(t.group(0))), None)
        runs = list(_NAME_RUN.finditer(clause, 0, verb.start())) if verb else []
        name = runs[-1] if runs else None
    else:
        return None
    if name is None:
        return None
    actor = next((actors[m.group(1)] for m in pattern.finditer(clause, 0, name.end())), None)
    owned = _OWNED.match(clause, name.end() - 2)  # "Zelensky’s office"
    return _Speaker(_bare(clause[name.start() : owned.end() if owned else name.end()]), actor)


def _bare(name: str) -> str:
    """A name without the capitalised word that opens its sentence ("But Zelensky")."""
    first, _, rest = name.partition(" ")
    return rest if rest and first.lower() in STOPWORDS else name


def _speaking(text: str, actors: dict[str, str], pattern: re.Pattern[str]) -> _Speaker | None:
    """Who speaks in a sentence that names them at its start or end: "Kavanagh said …",
    "…, Biden said." (the "he" of a quotation right after it)."""
    for found in (_LEADS.match(text), _ENDS.search(text)):
        if found and _speaks(found.group(2)):
            name = _bare(found.group(1))
            actor = next((actors[m.group(1)] for m in pattern.finditer(name)), None)
            return _Speaker(name, actor)
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


def _unquoted(text: str, pattern: re.Pattern[str]) -> list[re.Match[str]]:
    """Matches of ``pattern`` in ``text`` outside its quotations."""
    quoted = [m.span() for m in _QUOTATION.finditer(text)]
    return [m for m in pattern.finditer(text) if not any(a <= m.start() < b for a, b in quoted)]


def _owners(doc: Document) -> dict[int, tuple[ActorMention, re.Pattern[str]]]:
    """Sentence id → the actor it belongs to (the most mentioned one, if several)."""
    owners: dict[int, tuple[ActorMention, re.Pattern[str]]] = {}
    numbered = [(s.id, s.text) for s in doc.sentences]
    for mention in find_actors(doc):
        pattern = alias_pattern(mention.aliases)
        for sid in attributed_ids(numbered, pattern):
            owners.setdefault(sid, (mention, pattern))
    return owners


def _owner(doc: Document, sid: int, owner: tuple[ActorMention, re.Pattern[str]]) -> _Speaker:
    """The actor a sentence belongs to, named as the text last names it outside quotations
    there or in the :data:`LOOK_BACK` sentences before ("Putin", "the Kremlin")."""
    mention, pattern = owner
    for back in range(sid, max(0, sid - LOOK_BACK - 1), -1):
        text = doc.sentence(back).text
        hits = _unquoted(text, pattern)
        if hits:
            return _Speaker(_named(text, hits[-1], {}).name, mention.name)
    return _Speaker(mention.name, mention.name)


def _speaker(
    doc: Document,
    quote: tuple[int, int, int],
    last: Quote | None,
    owners: dict[int, tuple[ActorMention, re.Pattern[str]]],
    actors: dict[str, str],
    pattern: re.Pattern[str],
) -> _Speaker | None:
    """Who said the quotation ``(start, end, sentence id)`` (the rules of the module's
    docstring, in order)."""
    start, end, sid = quote
    closing = doc.sentence(_sentence_of(doc, end))
    tail = doc.text[end + 1 : closing.end]
    if doc.text[start:end].rstrip().endswith(_CLOSED) or tail.lstrip().startswith(","):
        line = doc.text[end + 1 : end + 1 + AFTER_CHARS].split("\n", 1)[0]
        named = _after(line, actors, pattern)  # past a sentence split at "Maj."
        if named is not None:
            return named
    before = doc.text[doc.sentence(sid).start : start - 1]
    follows = last is not None and sid - _sentence_of(doc, last.end) <= 1
    if _PRONOUN.match(tail):  # "“…,” he said": the speaker just before
        if follows and last is not None and last.speaker is not None:
            return _Speaker(last.speaker, last.actor)
        return _speaking(doc.sentence(sid - 1).text, actors, pattern) if sid > 1 else None
    if not _opens_speech(before):
        return None
    if not before.strip() and not tail.strip() and follows and last is not None:  # going on
        return _Speaker(last.speaker, last.actor) if last.speaker is not None else None
    if any(_speaks(t.group(0)) for t in list(_TOKEN.finditer(tail))[:NAME_WORDS]):
        return None  # someone named after it speaks, whom the gazetteer does not resolve
    return _owner(doc, sid, owners[sid]) if sid in owners else None


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
        if len(doc.text[start:end].split()) < MIN_WORDS:
            continue
        sid = _sentence_of(doc, start)
        speaker = _speaker(doc, (start, end, sid), last, owners, actors, pattern)
        last = Quote(
            text=doc.text[start:end],
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
