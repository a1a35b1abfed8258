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

Rule-based and cheap on purpose: it chooses which sentences a stance call may
cite, so a country that is only talked about gets no stance.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence

__all__ = ["SPEECH_WORDS", "alias_pattern", "attributed", "continues_quote"]

_BASES = """say tell state add announce warn urge call demand insist reject refuse propose
offer agree accept welcome signal want seek oppose support back respond acknowledge note
argue deny dismiss vow pledge express emphasize emphasise stress suggest threaten condemn
declare claim believe hope ask push rule order negotiate meet send sign veto vote invite
host recognize recognise decline admit confirm promise plan prepare intend aim press
accuse blame praise commend congratulate reply write post tweet comment indicate reiterate
maintain repeat describe explain hail criticize criticise consider view insist expect
favor favour endorse resist block attend join recall move open lead broker mediate initiate
sponsor slam blast denounce decry rebuff spurn lament laud""".split()
_IRREGULAR = "said told sought wrote met sent spoke led".split()
_STANCE_ADJECTIVES = """ready open willing prepared unwilling committed determined keen eager
reluctant opposed skeptical sceptical interested""".split()
_POSITION_NOUNS = """readiness demand demands proposal proposals position stance plan plans
offer refusal call calls conditions condition insistence willingness goal goals aim aims
statement statements remarks comments message response reply view views terms
spokesperson spokesman spokeswoman""".split()


def _forms(base: str) -> set[str]:
    forms = {base, base + "s", base + "es", base + "ed", base + "d", base + "ing"}
    if base.endswith("e"):
        forms.add(base[:-1] + "ing")
    if base.endswith("y"):
        forms |= {base[:-1] + "ies", base[:-1] + "ied"}
    return forms


SPEECH_WORDS = frozenset(
    {f for b in _BASES for f in _forms(b)} | set(_IRREGULAR) | set(_STANCE_ADJECTIVES)
)
"""Words that make the alias before them the speaker or agent."""

_NOUNS = frozenset(_POSITION_NOUNS)
_WORD = re.compile(r"[\w'’-]+")
_AFTER_WORDS = 5
_CLAUSE_BREAK = frozenset(
    """and or but of for to with from by that which who whose while after before following
    during than""".split()
)
"""Words after which the alias is no longer the subject ("the U.S. election and …")."""
_BEFORE = re.compile(
    r"(?:\b(?:said|says|told|according to|added|wrote|tweeted|insisted|warned)"
    r"(?:\s+(?!(?:in|on|at|to|about|of|with|for)\b)\w+){0,3}\s*$)",
    re.IGNORECASE,
)
"""A speech verb just before the alias ("…, said Ukrainian President Zelensky"), not
across a preposition ("he said in Russian", "told reporters in Moscow")."""
_AGENT = re.compile(r"\b([\w'’-]+)\s+by\s+(?:the\s+)?$", re.IGNORECASE)
"""A passive agent: "talks proposed by Turkey", "an initiative led by China"."""
_QUOTE_OPEN = ("“", '"', "‘")
_QUOTE_CLOSE = ("”", '"')
_CONTINUATION = re.compile(
    r"^(?:He|She|They|It|The \w+)\s+(?:\w+\s+)?(?:said|says|added|adds|"
    r"noted|stressed|insisted|warned|told|argued|continued|also)\b"
)
_SAID_PRONOUN = re.compile(r"\b(?:he|she|they)\s+(?:said|added|noted|stressed|told)\b", re.I)


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


def attributed(text: str, pattern: re.Pattern[str]) -> bool:
    """Does an alias matched by ``pattern`` speak or act in ``text``? An alias inside
    a quotation is the speaker's subject, not the speaker ("“It is what Putin
    wants,” Zelensky said")."""
    quoted = _quoted(text)
    for match in pattern.finditer(text):
        if any(a <= match.start() < b for a, b in quoted):
            continue
        after = re.split(r"[”;:]|\"", text[match.end() :], maxsplit=1)[0]
        if after.startswith(("'s", "’s")):
            following = [w.lower() for w in _WORD.findall(after[2:])[:3]]
            if any(w in _NOUNS or w in SPEECH_WORDS for w in following):
                return True
        for word in (w.lower() for w in _WORD.findall(after)[:_AFTER_WORDS]):
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


QUOTE_BLOCK = 4
"""Most sentences one quotation block may span (an unbalanced quote mark stops there)."""


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
