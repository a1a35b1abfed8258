"""Who speaks or acts in a sentence: attribution of quotes and reported speech.

A sentence *belongs* to an actor when one of the actor's aliases (its name,
leader, government, spokesperson, capital) is the speaker or agent of a
speech or action verb: "Peskov acknowledged …", "Moscow wants …", "…, said
Zelensky", "according to the Kremlin", "Kyiv, meanwhile, refuses …",
"Moscow's readiness …", "a peace initiative led by China". A sentence that opens
a quotation or continues with "He said"/"she added" right after such a sentence
belongs to the same actor, and so does a quotation that runs over several
sentences when one of them attributes it (“Nobody wants peace more. … our
future,” Zelensky said), or when it follows such a sentence and closes with
"he said" or stands alone as a whole quoted sentence.
Sentences that merely name the actor ("talks about Ukraine") do not.

The words it reads (speech verbs, position nouns, clause breaks) are the vocabulary's
(:mod:`newsqa.documents.vocabulary`). Rule-based and cheap on purpose: it chooses which
sentences a stance call may cite, so a country that is only talked about gets no stance.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence

from newsqa.documents.lexical import WHOLE_WORD
from newsqa.documents.vocabulary import alternatives, vocabulary
from newsqa.thresholds import QUOTE_BLOCK, SPEAKER_WORDS

__all__ = ["SPEECH_WORDS", "alias_pattern", "attributed", "continues_quote"]

_VOCABULARY = vocabulary()
SPEECH_WORDS = _VOCABULARY.speech_words
"""Words that make the alias before them the speaker or agent (the vocabulary's
speech verbs in every form, and its stance adjectives)."""

_NOUNS = _VOCABULARY.position_nouns
_CONVEYING = _VOCABULARY.conveying_verbs
_CLAUSE_BREAK = _VOCABULARY.clause_breaks
_BEFORE = re.compile(
    rf"(?:\b{alternatives(_VOCABULARY.verbs_before_speaker)}"
    rf"(?:\s+(?!{alternatives(_VOCABULARY.prepositions)}\b)\w+){{0,3}}\s*$)",
    re.IGNORECASE,
)
"""A speech verb just before the alias ("…, said Ukrainian President Zelensky"), not
across a preposition ("he said in Russian", "told reporters in Moscow")."""
_AGENT = re.compile(r"\b([\w'’-]+)\s+by\s+(?:the\s+)?$", re.IGNORECASE)
"""A passive agent: "talks proposed by Turkey", "an initiative led by China"."""
_QUOTE_OPEN = ("“", '"', "‘")
_QUOTE_CLOSE = ("”", '"')
_CONTINUATION = re.compile(
    r"^(?:He|She|They|It|The \w+)\s+(?:\w+\s+)?"
    rf"{alternatives(_VOCABULARY.continuation_verbs)}\b"
)
_SAID_PRONOUN = re.compile(
    rf"\b(?:he|she|they)\s+{alternatives(_VOCABULARY.pronoun_speech_verbs)}\b", re.I
)


def alias_pattern(aliases: Sequence[str]) -> re.Pattern[str]:
    """A case-sensitive pattern matching any alias on word boundaries, longest first
    (not after "New ": "New Jersey" is not Jersey)."""
    ordered = sorted(aliases, key=len, reverse=True)
    return re.compile(
        r"(?<![\w.])(?<!New )(" + "|".join(re.escape(a) for a in ordered) + r")(?![\w])"
    )


def _opens(text: str, i: int) -> bool:
    """Is the quotation mark at ``text[i]`` an opening one: a curly “, or a straight one
    that starts the text or follows a space?"""
    return text[i] == "“" or (text[i] == '"' and (i == 0 or text[i - 1].isspace()))


def _quoted(text: str) -> list[tuple[int, int]]:
    """Character spans of ``text`` inside double quotation marks, also a quotation
    opened in an earlier sentence (a closing mark comes first) or left open."""
    spans: list[tuple[int, int]] = []
    start: int | None = None
    for i, char in enumerate(text):
        if char not in '“”"':
            continue
        if _opens(text, i):
            start = i if start is None else start
        else:  # a closing mark with no opening one closes what an earlier sentence opened
            spans.append((0 if start is None else start, i))
            start = None
    if start is not None:
        spans.append((start, len(text)))
    return spans


def _possessor_speaks(before: str) -> bool:
    """Is "X's remarks" after ``before`` X's own act: no speech verb comes before it
    ("Moscow's proposal calls for …"), or one that conveys a position for its holder
    ("expressed Moscow's readiness")? After another verb it is someone else's words
    about X ("Putin described Trump's response", "noted that Trump's remarks …")."""
    spoken = [w.lower() for w in WHOLE_WORD.findall(before)]
    if not any(w in SPEECH_WORDS for w in spoken):
        return True
    return spoken[-1] in _CONVEYING


def attributed(text: str, pattern: re.Pattern[str]) -> bool:
    """Does an alias matched by ``pattern`` speak or act in ``text``? An alias inside
    a quotation is the speaker's subject, not the speaker ("“It is what Putin
    wants,” Zelensky said")."""
    quoted = _quoted(text)
    for match in pattern.finditer(text):
        if any(a <= match.start() < b for a, b in quoted):
            continue
        after = re.split(r"[”;:]|\"", text[match.end() :], maxsplit=1)[0]
        if after.startswith(("'s", "’s")) and _possessor_speaks(text[: match.start()]):
            following = [w.lower() for w in WHOLE_WORD.findall(after[2:])[:3]]
            if any(w in _NOUNS or w in SPEECH_WORDS for w in following):
                return True
        for word in (w.lower() for w in WHOLE_WORD.findall(after)[:SPEAKER_WORDS]):
            if word in SPEECH_WORDS:
                return True
            if word in _CLAUSE_BREAK:
                break
        before = text[: match.start()]
        if _BEFORE.search(before):
            return True
        agent = _AGENT.search(before)
        if agent and agent.group(1).lower() in SPEECH_WORDS:
            return True
    return False


def continues_quote(text: str) -> bool:
    """Does ``text`` read as the continuation of the previous sentence's speaker
    (an opening quotation mark, or "He said", "She added", …)?"""
    stripped = text.lstrip()
    return bool(_CONTINUATION.match(stripped)) or (
        stripped.startswith(_QUOTE_OPEN) and bool(_SAID_PRONOUN.search(stripped))
    )


def _quote_marks(text: str) -> int:
    """Quotation marks ``text`` leaves open (positive) or closes (negative): curly
    ones by count, straight ones as opening when the first follows a space or starts
    the text."""
    curly = text.count("“") - text.count("”")
    straight = text.count('"')
    if curly or not straight % 2:
        return curly
    return 1 if _opens(text, text.index('"')) else -1


def _quote_blocks(sentences: Iterable[tuple[int, str]]) -> list[list[tuple[int, str]]]:
    """Consecutive sentences grouped so that a quotation opened in one sentence and
    closed in a later one (at most :data:`QUOTE_BLOCK` sentences on) is one block."""
    blocks: list[list[tuple[int, str]]] = []
    pending: list[tuple[int, str]] = []
    for sid, text in sentences:
        if pending and sid == pending[-1][0] + 1 and len(pending) < QUOTE_BLOCK:
            pending.append((sid, text))
            if _quote_marks(text) < 0:
                blocks.append(pending)
                pending = []
            continue
        blocks.extend([one] for one in pending)
        pending = []
        if _quote_marks(text) > 0:
            pending = [(sid, text)]
        else:
            blocks.append([(sid, text)])
    blocks.extend([one] for one in pending)
    return blocks


def _continues(block: Sequence[tuple[int, str]]) -> bool:
    """Does ``block`` go on with the previous sentence's speaker: "He said …", a
    quotation closed by "he said", or a whole quoted sentence standing alone?"""
    first, last = block[0][1].strip(), block[-1][1].strip()
    if continues_quote(first):
        return True
    if len(block) > 1 and _SAID_PRONOUN.search(last):
        return True
    return first.startswith(_QUOTE_OPEN) and last.endswith(_QUOTE_CLOSE)


def attributed_ids(sentences: Iterable[tuple[int, str]], pattern: re.Pattern[str]) -> list[int]:
    """Ids of the ``(id, text)`` sentences that belong to the actor of ``pattern``:
    attributed ones with the rest of their quotation, and what continues them right
    after (:func:`_continues`), in order."""
    out: list[int] = []
    previous: int | None = None
    for block in _quote_blocks(sentences):
        follows = previous is not None and block[0][0] == previous + 1
        if any(attributed(text, pattern) for _, text in block) or (follows and _continues(block)):
            out.extend(sid for sid, _ in block)
            previous = block[-1][0]
        else:
            previous = None
    return out
