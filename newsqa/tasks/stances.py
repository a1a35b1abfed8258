"""Each actor's stance on a topic: one pipeline for one document, several documents
or the passages a corpus search retrieved (:func:`stance_drafts`).

1. **Actors**: the gazetteer's (every country, major organisations; leaders,
   governments and capitals as aliases) merged with the ones the model names.
2. **Evidence that belongs to the actor**: only sentences where the actor (its
   leader, government, spokesperson) speaks or acts may be cited
   (:mod:`newsqa.documents.attribution`); an actor that is only talked about
   gets no call, so it gets no stance.
3. **One small grounded call per actor** over one shared reading of the text: the
   whole passage when it fits :data:`READ_TOKENS`, else the actors' sentences. Every
   call starts with the same system prompt and numbered text and ends with its
   short task, so a local model processes the text once (llama.cpp reuses the
   longest common prompt prefix) and a summary of the same document shares it too.
4. **Position first, then the label**, checked against the actor's own cited
   sentences (:func:`check_label`): a label resting on none on the topic is
   ``unclear``, and a stated condition or demand on talks makes it ``conditional``.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import ClassVar, Literal

from pydantic import BaseModel, Field

from newsqa.config import DEFAULT_TOPIC
from newsqa.documents.actors import ActorMention, find_actors_in, gazetteer
from newsqa.documents.attribution import alias_pattern, attributed_ids
from newsqa.documents.lexical import WORD, content_tokens, stem, stems
from newsqa.documents.vocabulary import vocabulary
from newsqa.grounding import Passage, SentenceIds, Unit
from newsqa.grounding.model_text import cleaned
from newsqa.llm.client import LLMClient
from newsqa.llm.pending import each
from newsqa.llm.structured import Structured
from newsqa.prompts import user_text
from newsqa.tasks.base import Task, needs_client, register
from newsqa.tasks.calls import grounded_call, model_call
from newsqa.thresholds import BORROWED_SHARE, CLAUSE_SHARE, MIN_MENTION_SHARE, NAMES_TOKENS
from newsqa.types import (
    Document,
    Evidence,
    Sentence,
    Stance,
    StanceLabel,
    StanceReport,
    Usage,
)

__all__ = [
    "DEFAULT_TOPIC",
    "LABEL_RULES",
    "MAX_CANDIDATES",
    "READ_TOKENS",
    "ActorStance",
    "CheckedLabel",
    "Stances",
    "actor_sentences",
    "analyze_stances",
    "check_label",
    "own_sentences",
    "stance_drafts",
    "stances_in",
    "whole_clauses",
]

MAX_TOKENS = 160
MAX_CANDIDATES = 4
SAYS_CHARS = 150
READ_TOKENS = 900
"""The whole text is shown to stance calls when it fits this many tokens."""
MAIN_ACTORS = 2
"""The most mentioned actors that speak or act always get one of the ``max_actors`` calls."""

# The model writes the position before it picks a label: a 1.5B model under a
# grammar that must pick the label first takes the easy token ("supports").
DraftLabel = Literal["conditional", "supports", "opposes", "neutral", "unclear"]


class StanceDraft(BaseModel):
    """One actor's stance as the model writes it: evidence, position, then label."""

    sentences: SentenceIds(0, 3)  # type: ignore[valid-type]
    says: str = Field(
        max_length=SAYS_CHARS, description="What the actor says or does, one sentence."
    )
    label: DraftLabel


class ActorsDraft(BaseModel):
    """Countries or organisations the model reads as taking a position."""

    actors: list[str] = Field(max_length=6)


@dataclass(frozen=True)
class ActorStance:
    """A grounded stance before it is shaped into a result type."""

    actor: str
    label: StanceLabel
    position: str
    units: list[Unit]
    """The cited sentences, in passage order."""
    label_source: str = "model"
    """``"model"``, or the label rule that changed the model's label (:data:`LABEL_RULES`)."""


_WORDS = vocabulary()
_CONDITION = _WORDS.condition
"""A condition or demand; refusing something other than the talks themselves ("refused
to give up territory") is one too."""
DEFINITE = frozenset({"supports", "opposes", "conditional"})
_NOT_CONDITIONAL = frozenset({"supports", "opposes", "neutral", "unclear"})
TALK_WORDS = stems(" ".join(_WORDS.talk_words))
"""Words of talks and diplomacy: evidence on such a topic uses them even where the
topic's own words differ ("a negotiated ceasefire" for "peace talks"). Both "talk" and
"talks" (five-letter stems keep them apart). Not "accord" or "mediation": their stems
are those of "according to" and "media", which half the sentences of any news article
hold."""


LABEL_RULES = ("off_topic", "own_condition")
"""The label rules of :func:`check_label`, in the order they are tried (each one's
measured effect, and the rules removed for want of one: ``docs/benchmarks.md``)."""


@dataclass(frozen=True)
class CheckedLabel:
    """A label after the label rules: ``source`` is ``"model"`` where no rule changed
    it, else the name of the rule that did (one of :data:`LABEL_RULES`)."""

    label: StanceLabel
    source: str = "model"


def check_label(
    label: StanceLabel,
    evidence: Sequence[str] = (),
    *,
    on_topic: bool = True,
    skip: Collection[str] = (),
) -> CheckedLabel:
    """The model's label, unless the actor's own cited sentences (``evidence``)
    contradict it.

    The first of these rules that fires decides (``skip``: names of rules left out, to
    measure what each one does):

    - ``off_topic``: a definite label whose actor's own cited sentences never touch the
      topic (``on_topic`` false) is ``unclear``.
    - ``own_condition``: where one of them on talks or a deal (:data:`TALK_WORDS`)
      states a condition or demand ("a deal must include a withdrawal"), whoever it
      binds ("Moscow said Kyiv must withdraw first" is Moscow's demand), any other
      label is ``conditional``. Refusing something other than the talks ("refused to
      give up territory") is a condition; refusing the talks themselves ("refused to send
      a delegation") is not, and a negated word ("neither support nor oppose") is none.
    """
    on_talks = [text for text in evidence if stems(text) & TALK_WORDS]
    rules: tuple[tuple[str, Collection[str], StanceLabel, Callable[[], bool]], ...] = (
        ("off_topic", DEFINITE, "unclear", lambda: not on_topic),
        (
            "own_condition",
            _NOT_CONDITIONAL,
            "conditional",
            lambda: on_topic and any(_CONDITION.search(text) for text in on_talks),
        ),
    )
    for name, labels, result, fires in rules:
        if name not in skip and label in labels and fires():
            return CheckedLabel(result, name)
    return CheckedLabel(label)


def whole_clauses(text: str) -> str:
    """``text`` without a clause cut off by the length cap: a position that stops
    mid-sentence ends at its last comma or semicolon instead, with a full stop."""
    text = " ".join(text.split())
    if not text or text[-1] in '.!?"”’)':
        return text
    cut = max(text.rfind(", "), text.rfind("; "))
    if cut >= len(text) * CLAUSE_SHARE:
        return text[:cut] + "."
    return text.rstrip(" ,;:(-–—") + "…"


def _on_topic(topic: str, sentences: Sequence[str]) -> bool:
    """Does one of ``sentences`` share a word with the topic or the talk words?"""
    wanted = _topic_stems(topic) | TALK_WORDS
    return any(stems(text) & wanted for text in sentences)


@lru_cache(maxsize=32)
def _topic_stems(topic: str) -> frozenset[str]:
    """Stems of the topic's words that are not actor names ("Ukraine" names an actor
    in nearly every sentence of such news; "talks" is the topic). Cached: one analysis
    asks for them once per actor."""
    names = {a for aliases in gazetteer().values() for a in aliases}
    return frozenset(stems(" ".join(w for w in WORD.findall(topic) if w not in names)))


def own_sentences(passage: Passage, actor: ActorMention) -> list[int]:
    """Passage numbers where ``actor`` speaks or acts, and quote continuations."""
    pattern = alias_pattern(actor.aliases)
    mentioned = set(actor.sentence_ids)
    own: list[int] = []
    for units in _by_document(passage):
        if any(u.number in mentioned for u in units):
            own += attributed_ids(((u.number, u.sentence.text) for u in units), pattern)
    return own


def actor_sentences(
    passage: Passage,
    actor: ActorMention,
    topic: str,
    *,
    own: Sequence[int] | None = None,
    others: frozenset[int] = frozenset(),
) -> list[int]:
    """Passage numbers to show for ``actor``, best first, at most :data:`MAX_CANDIDATES`.

    Its ``own`` sentences (default :func:`own_sentences`) come first, those sharing most
    words with ``topic`` first, documents taking turns; then its other mentions and
    the sentence after each of its own (a quote often goes on there), leaving out
    ``others``: sentences where another actor speaks ("Zelensky criticised Russia"
    is Ukraine's evidence, not Russia's)."""
    mine = set(own_sentences(passage, actor) if own is None else own)
    unit_of = {u.number: u for u in passage.units}
    after = {n + 1 for n in mine if n + 1 in unit_of and unit_of[n + 1].doc is unit_of[n].doc}
    extra = (set(actor.sentence_ids) | after) - mine - others
    wanted = _topic_stems(topic)
    score = {n: len(stems(unit_of[n].sentence.text) & wanted) for n in mine | extra}

    def turns(numbers: set[int]) -> list[int]:
        queue: dict[str, list[int]] = {}
        for n in sorted(numbers, key=lambda i: (-score[i], i)):
            queue.setdefault(unit_of[n].doc.id, []).append(n)
        out: list[int] = []
        for turn in range(max((len(q) for q in queue.values()), default=0)):
            out.extend(q[turn] for q in queue.values() if turn < len(q))
        return out

    return (turns(mine) + turns(extra))[:MAX_CANDIDATES]


def _by_document(passage: Passage) -> list[list[Unit]]:
    """The passage's units grouped by document, in order."""
    groups: dict[str, list[Unit]] = {}
    for unit in passage.units:
        groups.setdefault(unit.doc.id, []).append(unit)
    return list(groups.values())


def _numbered(passage: Passage) -> list[Sentence]:
    """The passage's sentences with their passage numbers as ids (distinct across docs)."""
    return [u.sentence.model_copy(update={"id": u.number}) for u in passage.units]


def _reading(passage: Passage, candidates: Mapping[str, list[int]]) -> Passage:
    """What every call of one analysis shows: the whole passage when it fits
    :data:`READ_TOKENS`, else the first sentence of each document and the
    candidates' sentences, best-scored actors first, within the budget."""
    if passage.fits(READ_TOKENS):
        return passage
    chosen = {units[0].number for units in _by_document(passage)}
    for numbers in candidates.values():
        if passage.subset(chosen | set(numbers)).tokens() <= READ_TOKENS:
            chosen |= set(numbers)
    return passage.subset(chosen)


def _ask_names(client: LLMClient, reading: Passage, topic: str) -> tuple[list[str], Usage]:
    result = model_call(
        client,
        "actors",
        ActorsDraft,
        max_tokens=NAMES_TOKENS,
        documents=reading.render(),
        topic=user_text("topic", topic),
    )
    return [n.strip() for n in result.value.actors if n.strip()], result.usage


def _canonical(name: str) -> str:
    """The gazetteer's name for a name the model wrote ("the Kremlin" → "Russia")."""
    bare = re.sub(r"^the\s+", "", name.strip(), flags=re.IGNORECASE).strip(" .")
    for key, aliases in gazetteer().items():
        if bare == key or bare in aliases:
            return key
    return bare


@dataclass
class _Cast:
    """The actors of one analysis: where each is named and where it speaks or acts."""

    passage: Passage
    topic: str
    found: dict[str, ActorMention]
    own: dict[str, list[int]]

    @classmethod
    def of(cls, passage: Passage, topic: str, extra: Mapping[str, Sequence[str]] | None) -> _Cast:
        found = {m.name: m for m in find_actors_in(_numbered(passage), extra=extra)}
        own = {name: own_sentences(passage, m) for name, m in found.items()}
        return cls(passage, topic, found, own)

    def speaking(self) -> list[str]:
        """Actors with sentences of their own, most mentioned first."""
        return [name for name, ids in self.own.items() if ids]

    def others(self, name: str) -> frozenset[int]:
        """Sentences where an actor other than ``name`` speaks or acts."""
        return frozenset(n for other, ids in self.own.items() if other != name for n in ids)

    def candidates(self, name: str) -> list[int]:
        """The sentences to show for actor ``name`` (see :func:`actor_sentences`)."""
        return actor_sentences(
            self.passage, self.found[name], self.topic, own=self.own[name], others=self.others(name)
        )

    def add(self, names: Sequence[str]) -> list[str]:
        """Locate actors the model named; returns those the text names, canonical."""
        named = [_canonical(n) for n in names]
        missing = {n: (n,) for n in named if n not in self.found}
        if missing:
            for m in find_actors_in(_numbered(self.passage), extra=missing):
                if m.name in missing:
                    self.found[m.name], self.own[m.name] = m, own_sentences(self.passage, m)
        return [n for n in dict.fromkeys(named) if n in self.found]

    def ranked(self, named: Sequence[str]) -> list[str]:
        """Actors to ask about, best first: the ones the model named, then those whose
        own sentences touch the topic most, then the most mentioned. Only actors that
        speak or act in the text are asked about, and one the model did not name only
        when it is named at least :data:`MIN_MENTION_SHARE` as often as the most named
        actor (a country quoted once in passing takes no position)."""
        wanted = _topic_stems(self.topic)
        text = {u.number: u.sentence.text for u in self.passage.units}
        most = max((len(m.sentence_ids) for m in self.found.values()), default=0)

        def rank(name: str) -> tuple[bool, int, int]:
            topical = sum(1 for n in self.own[name] if stems(text[n]) & wanted)
            return (name not in named, -topical, -len(self.found[name].sentence_ids))

        kept = [
            name
            for name in self.speaking()
            if name in named or len(self.found[name].sentence_ids) >= MIN_MENTION_SHARE * most
        ]
        return sorted(kept, key=rank)

    def chosen(self, named: Sequence[str], limit: int) -> list[str]:
        """The first ``limit`` actors of :meth:`ranked`, where the :data:`MAIN_ACTORS`
        most mentioned actors that speak or act always have a place: each missing one
        takes the place of the last actor that is not one of them (a small model that
        names five others would leave the article's main parties out)."""
        ranked = self.ranked(named)
        main = sorted(ranked, key=lambda n: -len(self.found[n].sentence_ids))[:MAIN_ACTORS]
        out = ranked[:limit]
        for name in main:
            if name not in out:
                spare = [i for i, n in enumerate(out) if n not in main]
                if not spare:
                    break
                out[spare[-1]] = name
        return out


def _ask_actor(
    client: LLMClient, reading: Passage, topic: str, actor: ActorMention, ids: list[int]
) -> Structured[StanceDraft]:
    """One small grounded call: the shared reading, then ``actor`` and its sentences;
    cited numbers restricted to ``ids``."""
    return grounded_call(
        client,
        "stance",
        reading,
        StanceDraft,
        max_tokens=MAX_TOKENS,
        ids=ids,
        topic=user_text("topic", topic),
        actor=user_text("actor", actor.name),
        aliases=user_text("aliases", ", ".join(actor.aliases[:6])),
        candidates=", ".join(f"[{n}]" for n in ids),
    )


def borrowed(
    says: str, reading: Passage, own: Collection[int], others: Collection[int]
) -> int | None:
    """The sentence of another actor that the position ``says`` copies, if it does:
    the sentence of ``reading`` holding most of its words (at least
    :data:`BORROWED_SHARE`), when another actor speaks there (``others``: their
    sentence numbers) and it is not one of the actor's ``own``."""
    words = {stem(t) for t in content_tokens(says)}
    if not words:
        return None
    share, number = max(
        ((len(words & stems(u.sentence.text)) / len(words), u.number) for u in reading.units),
        default=(0.0, 0),
    )
    if share >= BORROWED_SHARE and number in others and number not in own:
        return number
    return None


def stance_drafts(
    passage: Passage,
    topic: str = DEFAULT_TOPIC,
    *,
    client: LLMClient,
    max_actors: int = 5,
    actors: Mapping[str, Sequence[str]] | None = None,
) -> tuple[list[ActorStance], Usage]:
    """The stance pipeline over ``passage`` (one or several documents): the model
    names actors over the shared reading, then one call per actor, at most
    ``max_actors``; actors whose reply cites no sentence are left out. ``actors``
    (name → aliases) join the gazetteer and come first, like the ones the model names.

    Raises:
        ValueError: an empty topic or ``max_actors`` below 1.
        OutputValidationError: the model never produced a valid reply.
        LLMError: the endpoint failed.
    """
    if not topic.strip():
        raise ValueError("the topic is empty")
    if max_actors < 1:
        raise ValueError("max_actors must be at least 1")
    if not passage.units:
        return [], Usage()
    cast = _Cast.of(passage, topic, actors)
    reading = _reading(passage, {name: cast.candidates(name) for name in cast.speaking()})
    names, usage = _ask_names(client, reading, topic)
    out: list[ActorStance] = []
    shown = reading.text
    asked = [
        (name, ids)
        for name in cast.chosen(cast.add([*(actors or {}), *names]), max_actors)
        if (ids := [n for n in cast.candidates(name) if n in reading.numbers])
    ]
    results = each(  # independent calls: a provider batch sends them in one round
        lambda pick: _ask_actor(client, reading, topic, cast.found[pick[0]], pick[1]), asked
    )
    for (name, _ids), result in zip(asked, results, strict=True):
        usage += result.usage
        draft = result.value
        if not draft.sentences:
            continue
        units = reading.units_of(draft.sentences)
        position = whole_clauses(cleaned(draft.says, shown, limit=SAYS_CHARS))
        if borrowed(draft.says, reading, cast.own[name], cast.others(name)) is not None:
            # The position repeats another actor's words (Zelensky's for the United
            # States): the first sentence of its own that it cites (in the model's
            # order, most relevant first) stands instead; an actor citing none of its
            # own is left out. (Re-asking with a note naming the sentence's speaker
            # brought the same reply back on the seed.)
            mine = [n for n in draft.sentences if n in cast.own[name]]
            if not mine:
                continue
            position = reading.units_of(mine[:1])[0].sentence.text
        # the label rests on the actor's own cited sentences: an actor that only cites
        # others' sentences on the topic has no position of its own on it
        own_cited = [u.sentence.text for u in units if u.number in cast.own[name]]
        checked = check_label(draft.label, own_cited, on_topic=_on_topic(topic, own_cited))
        out.append(
            ActorStance(
                actor=name,
                label=checked.label,
                position=position,
                units=units,
                label_source=checked.source,
            )
        )
    return out, usage


def stances_in(
    passage: Passage,
    topic: str = DEFAULT_TOPIC,
    *,
    client: LLMClient,
    max_actors: int,
    actors: Mapping[str, Sequence[str]] | None = None,
    arrange: Callable[[list[Evidence]], list[Evidence]] = list,
) -> tuple[list[Stance], Usage]:
    """:func:`stance_drafts` as :class:`Stance` results, each draft's sentences as
    evidence in the order ``arrange`` gives them (default: the passage's)."""
    drafts, usage = stance_drafts(
        passage, topic, client=client, max_actors=max_actors, actors=actors
    )
    stances = [
        Stance(
            actor=d.actor,
            label=d.label,
            label_source=d.label_source,
            position=d.position,
            evidence=arrange(passage.evidence(u.number for u in d.units)),
        )
        for d in drafts
    ]
    return stances, usage


def analyze_stances(
    doc: Document,
    topic: str = DEFAULT_TOPIC,
    *,
    client: LLMClient,
    max_actors: int = 5,
    actors: Mapping[str, Sequence[str]] | None = None,
) -> StanceReport:
    """Find who takes a position on ``topic`` in ``doc`` and what it is.

    Args:
        doc: the article.
        topic: what the stances are about.
        client: the LLM client.
        max_actors: most actors to analyse (one call each).
        actors: extra gazetteer entries (name → aliases), e.g. organisations.

    Returns:
        One :class:`Stance` per actor whose position the model grounded in at least
        one sentence where the actor speaks or acts; others are left out.

    Raises:
        ValueError: an empty topic or ``max_actors`` below 1.
        OutputValidationError: the model never produced a valid stance.
        LLMError: the endpoint failed.
    """
    stances, usage = stances_in(
        Passage.of([doc]), topic, client=client, max_actors=max_actors, actors=actors
    )
    return StanceReport(topic=topic, stances=stances, usage=usage)


@register
class Stances(Task[StanceReport]):
    """Each actor's stance on the topic; actors (name → aliases) are added to the
    gazetteer and asked about first (see :func:`analyze_stances`)."""

    name: ClassVar[str] = "stances"
    prompts: ClassVar[tuple[str, ...]] = ("system", "document", "actors.user", "stance.user")
    rounds: ClassVar[int] = 2  # the actors' names, then every actor at once

    topic: str = DEFAULT_TOPIC
    actors: dict[str, tuple[str, ...]] | None = None

    def __init__(
        self, topic: str = DEFAULT_TOPIC, actors: Mapping[str, Sequence[str]] | None = None
    ) -> None:
        BaseModel.__init__(
            self,
            topic=topic,
            actors=None if actors is None else {k: tuple(v) for k, v in actors.items()},
        )

    def run(self, doc: Document, *, client: LLMClient | None = None) -> StanceReport:
        return analyze_stances(
            doc, self.topic, client=needs_client(self, client), actors=self.actors
        )
