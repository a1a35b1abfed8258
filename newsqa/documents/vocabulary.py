"""The rule books as data: the word lists of ``newsqa/data/vocabulary.json``.

Speech verbs and position nouns (who speaks in a sentence), stopwords and question
words (which words carry content), talk words and the condition words of the label
rules. Edit the JSON file to change what
the rules read; this module only loads and shapes it.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources

__all__ = ["Vocabulary", "alternatives", "verb_forms", "vocabulary"]


def verb_forms(base: str) -> set[str]:
    """Every regular form of a verb (generous on purpose: a form no text writes costs
    nothing): "deny" gives "denies", "denied", "denying", …"""
    forms = {base, base + "s", base + "es", base + "ed", base + "d", base + "ing"}
    if base.endswith("e"):
        forms.add(base[:-1] + "ing")
    if base.endswith("y"):
        forms |= {base[:-1] + "ies", base[:-1] + "ied"}
    return forms


def _forms(bases: list[str]) -> frozenset[str]:
    return frozenset(f for b in bases for f in verb_forms(b))


@dataclass(frozen=True)
class Vocabulary:
    """The word lists, shaped for matching (lowercase words, compiled stance words)."""

    speech_words: frozenset[str]
    """Words that make the alias before them the speaker or agent: every form of the
    speech verbs, the irregular ones and the stance adjectives ("ready", "willing")."""
    position_nouns: frozenset[str]
    """Nouns that make "X's …" X's position ("Moscow's readiness")."""
    conveying_verbs: frozenset[str]
    """Verbs by which a speaker states the possessor's position ("expressed Moscow's
    readiness"): every form."""
    verbs_before_speaker: tuple[str, ...]
    """Words right before a speaker's name ("…, said Zelensky", "according to Kyiv")."""
    continuation_verbs: tuple[str, ...]
    """Verbs of "He said …", "She added …": the previous sentence's speaker goes on."""
    pronoun_speech_verbs: tuple[str, ...]
    """Verbs of "he said" closing a quotation."""
    clause_breaks: frozenset[str]
    """Words after which an alias is no longer the subject ("the U.S. election and …")."""
    prepositions: tuple[str, ...]
    """A speech verb does not reach across them ("said in Russian")."""
    stopwords: frozenset[str]
    """Function words: no content for matching or searching."""
    question_words: frozenset[str]
    """Words of a question's form ("how", "many", "did"), not of its subject."""
    negations: tuple[str, ...]
    """Words before a stance word that make it no act ("would not oppose")."""
    talk_words: tuple[str, ...]
    """Words of talks and diplomacy."""
    taking_part: tuple[str, ...]
    """What a party refuses when it refuses the talks themselves (word beginnings)."""
    condition: re.Pattern[str]
    """A condition or demand: "only if", "unless", "must", "refused to give up …"."""


def _stance_words(
    entries: list[str], taking_part: list[str], negations: list[str]
) -> re.Pattern[str]:
    part = "(?:" + "|".join(taking_part) + ")"
    negated = "".join(rf"(?<!\b{n} )" for n in negations)
    body = "|".join(e.replace("{taking_part}", part).replace("{not}", negated) for e in entries)
    return re.compile(rf"\b(?:{body})\b", re.IGNORECASE)


@lru_cache(maxsize=1)
def vocabulary() -> Vocabulary:
    """The bundled vocabulary (read once)."""
    raw = json.loads((resources.files("newsqa") / "data" / "vocabulary.json").read_text("utf-8"))
    stance = raw["stance_words"]
    part, negations = raw["taking_part"], raw["negations"]
    return Vocabulary(
        speech_words=_forms(raw["speech_verbs"])
        | frozenset(raw["speech_verbs_irregular"])
        | frozenset(raw["stance_adjectives"]),
        position_nouns=frozenset(raw["position_nouns"]),
        conveying_verbs=_forms(raw["conveying_verbs"]),
        verbs_before_speaker=tuple(raw["verbs_before_speaker"]),
        continuation_verbs=tuple(raw["continuation_verbs"]),
        pronoun_speech_verbs=tuple(raw["pronoun_speech_verbs"]),
        clause_breaks=frozenset(raw["clause_breaks"]),
        prepositions=tuple(raw["prepositions"]),
        stopwords=frozenset(raw["stopwords"]),
        question_words=frozenset(raw["question_words"]),
        negations=tuple(negations),
        talk_words=tuple(raw["talk_words"]),
        taking_part=tuple(part),
        condition=_stance_words(stance["condition"], part, negations),
    )


def alternatives(words: Iterable[str]) -> str:
    """A regex group matching any of ``words`` (escaped, as written)."""
    return "(?:" + "|".join(re.escape(w) for w in words) + ")"
