"""Grounding by construction: the model sees numbered sentences and answers with
numbers; this module maps numbers back to verbatim spans of the source.

A :class:`Passage` is the numbered view of one or more documents (or of chosen
sentences of them) that a prompt shows. Ids outside the passage fail validation
(the model is re-asked), so no cited text can be invented or silently dropped.
"""

from __future__ import annotations

import html
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Annotated, Any, TypeVar

from pydantic import AfterValidator, BaseModel, Field, ValidationInfo

from newsqa.documents.chunking import count_tokens, pack
from newsqa.documents.lexical import content_tokens, name_stems, names_in, stem, stems
from newsqa.llm.client import LLMClient
from newsqa.llm.structured import Structured, generate
from newsqa.prompts import messages, one_line, render
from newsqa.types import Citation, Document, Evidence, Sentence

__all__ = [
    "Passage",
    "SentenceIds",
    "Unit",
    "asked",
    "grounded_call",
    "restrict_ids",
    "states",
    "supported_by",
    "topic_share",
]

M = TypeVar("M", bound=BaseModel)

_MARK = "x-sentence-ids"
DOC_TOKENS = 16
"""Approximate prompt tokens of one document's delimiters and attributes."""


def _check_ids(value: list[int], info: ValidationInfo) -> list[int]:
    allowed = (info.context or {}).get("sentence_ids")
    if allowed is None:
        return value
    bad = [i for i in value if i not in allowed]
    if bad:
        raise ValueError(
            f"sentence numbers {bad} do not exist; use only numbers shown in the documents"
        )
    if len(set(value)) != len(value):
        raise ValueError("a sentence number is repeated")
    return value


def SentenceIds(min_items: int = 0, max_items: int = 4) -> Any:
    """A ``list[int]`` of sentence numbers, checked against the passage shown."""
    return Annotated[
        list[int],
        Field(
            min_length=min_items,
            max_length=max_items,
            json_schema_extra={_MARK: True},
            description="Numbers of the supporting sentences.",
        ),
        AfterValidator(_check_ids),
    ]


def restrict_ids(ids: Iterable[int]) -> Any:
    """Schema hook: sentence-number arrays may only hold ``ids`` (constrained decoding)."""
    allowed = sorted(set(ids))

    def hook(schema: dict[str, Any]) -> dict[str, Any]:
        def walk(node: Any) -> Any:
            if isinstance(node, dict):
                out = {k: walk(v) for k, v in node.items() if k != _MARK}
                if node.get(_MARK):
                    out["items"] = {"type": "integer", "enum": allowed}
                return out
            if isinstance(node, list):
                return [walk(v) for v in node]
            return node

        result: dict[str, Any] = walk(schema)
        return result

    return hook


def supported_by(answer: str, sources: Iterable[str], *, min_share: float = 0.5) -> bool:
    """Is ``answer`` lexically grounded in ``sources``?

    Every number of the answer must occur in the sources, and at least ``min_share``
    of its other content words must occur there too (a word matches a source word
    sharing its first five letters, so "rejects" matches "rejected"). An answer
    without content words (e.g. "Yes") is accepted.
    """
    source_tokens = set(content_tokens(" ".join(sources)))
    stems = {t[:5] for t in source_tokens}
    tokens = content_tokens(answer)
    numbers = [t for t in tokens if t[0].isdigit()]
    words = [t for t in tokens if not t[0].isdigit()]
    if any(n not in source_tokens for n in numbers):
        return False
    if not words:
        return True
    hits = sum(1 for w in words if w in source_tokens or w[:5] in stems)
    return hits / len(words) >= min_share


_QUESTION_WORDS = frozenset(
    "how what when where who whom whose which why many much does did do is are was were".split()
)


def asked(question: str) -> tuple[set[str], set[str]]:
    """The question's content stems (question words left out), and those of them that
    are not names (a name: a capitalised word other than the first)."""
    every = {stem(t) for t in content_tokens(question) if t not in _QUESTION_WORDS}
    named = name_stems(question, first=False)
    return every, every - named


def topic_share(question: str, sources: Iterable[str], *, names_suffice: bool = False) -> float:
    """How much ``sources`` are about ``question``: the share of its content stems they
    hold (1.0 for a question without any), and 0.0 when those they hold are only
    names ("What is the population of Sochi?" vs a sentence naming Sochi), unless
    ``names_suffice``.

    A small model that cannot answer tends to cite a salient but unrelated sentence
    and copy it as the answer; this catches that.
    """
    every, plain = asked(question)
    if not every:
        return 1.0
    said = stems(" ".join(sources))
    if plain and not plain & said and not names_suffice:
        return 0.0
    return len(every & said) / len(every)


def states(value: str, sources: Sequence[str], *, min_share: float = 0.5) -> bool:
    """Do ``sources`` state ``value``: all its numbers and names (capitalised words),
    and ``min_share`` of its other content words (:func:`supported_by`)? "Dmitry Ivanov"
    is not stated by a sentence about Dmitry Peskov."""
    return supported_by(value, sources, min_share=min_share) and names_in(
        value, stems(" ".join(sources))
    )


@dataclass(frozen=True)
class Unit:
    """A sentence as the model sees it: passage number, document and sentence."""

    number: int
    doc: Document
    sentence: Sentence


@dataclass(frozen=True)
class Passage:
    """Numbered sentences of one or more documents, ready for a prompt."""

    units: tuple[Unit, ...]
    _by_number: dict[int, Unit] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_by_number", {u.number: u for u in self.units})

    @classmethod
    def of(cls, docs: Sequence[Document]) -> Passage:
        """All sentences; one document keeps its own ids, several are numbered on.

        Raises:
            ValueError: two documents share an id (citations could not tell them apart).
        """
        ids = [d.id for d in docs]
        if len(set(ids)) != len(ids):
            dup = sorted({i for i in ids if ids.count(i) > 1})
            raise ValueError(f"documents need distinct ids; repeated: {', '.join(dup)}")
        units: list[Unit] = []
        offset = 0
        for doc in docs:
            units.extend(Unit(offset + s.id, doc, s) for s in doc.sentences)
            offset += len(doc.sentences)
        return cls(tuple(units))

    def subset(self, numbers: Iterable[int]) -> Passage:
        """Only the given numbers (keeping their numbers and order)."""
        wanted = set(numbers)
        return Passage(tuple(u for u in self.units if u.number in wanted))

    @property
    def text(self) -> str:
        """The passage's sentences joined by spaces: what the model was shown, unnumbered."""
        return " ".join(u.sentence.text for u in self.units)

    @property
    def numbers(self) -> frozenset[int]:
        """The sentence numbers shown."""
        return frozenset(self._by_number)

    @property
    def docs(self) -> list[Document]:
        """The documents, in order of first appearance."""
        seen: dict[str, Document] = {}
        for u in self.units:
            seen.setdefault(u.doc.id, u.doc)
        return list(seen.values())

    def costs(self) -> list[int]:
        """Approximate prompt tokens of each numbered line."""
        return [count_tokens(u.sentence.text) + 4 for u in self.units]

    def tokens(self) -> int:
        """Approximate prompt tokens of the rendered passage."""
        return sum(self.costs()) + DOC_TOKENS * len(self.docs)

    def fits(self, max_tokens: int) -> bool:
        """Is :meth:`tokens` within ``max_tokens``? Exact, and free for short passages:
        a token holds at least one UTF-8 byte, so byte counts bound token counts and
        the tokenizer (0.3 s to load, then CPU per call) runs only when they exceed it."""
        overhead = DOC_TOKENS * len(self.docs)
        if sum(len(u.sentence.text.encode()) + 4 for u in self.units) + overhead <= max_tokens:
            return True
        return self.tokens() <= max_tokens

    def windows(self, max_tokens: int) -> list[Passage]:
        """Split into passages of whole sentences, each within ``max_tokens``."""
        budget = max(1, max_tokens - DOC_TOKENS * len(self.docs))
        return [Passage(self.units[r.start : r.stop]) for r in pack(self.costs(), budget)]

    def render(self) -> str:
        """The ``<document>`` blocks shown to the model."""
        blocks = []
        for doc in self.docs:
            attrs = ""
            if doc.date:
                attrs += f' date="{doc.date.isoformat()}"'
            if doc.title:
                attrs += f' title="{html.escape(one_line(doc.title))}"'
            lines = "\n".join(
                f"[{u.number}] {one_line(u.sentence.text)}" for u in self.units if u.doc is doc
            )
            blocks.append(
                render("document", id=html.escape(doc.id), attributes=attrs, sentences=lines)
            )
        return "\n".join(blocks)

    def lines(self, numbers: Iterable[int]) -> str:
        """Numbered lines for ``numbers``, in the order given (cleaned as in :meth:`render`)."""
        return "\n".join(f"[{n}] {one_line(self._by_number[n].sentence.text)}" for n in numbers)

    def context(self) -> dict[str, Any]:
        """Validation context: the numbers that exist."""
        return {"sentence_ids": self.numbers}

    def units_of(self, numbers: Iterable[int]) -> list[Unit]:
        """The units of sentence numbers, in passage order (repeats dropped)."""
        return sorted((self._by_number[n] for n in set(numbers)), key=lambda u: u.number)

    def evidence(self, numbers: Iterable[int]) -> list[Evidence]:
        """Verbatim spans for sentence numbers (in document order)."""
        units = self.units_of(numbers)
        return [
            Evidence(
                text=u.sentence.text,
                start=u.sentence.start,
                end=u.sentence.end,
                sentence_id=u.sentence.id,
            )
            for u in units
        ]

    def citations(self, numbers: Iterable[int]) -> list[Citation]:
        """Citations (document id + verbatim span) for sentence numbers."""
        units = self.units_of(numbers)
        return [
            Citation(doc=u.doc.id, text=u.sentence.text, start=u.sentence.start, end=u.sentence.end)
            for u in units
        ]


def grounded_call(
    client: LLMClient,
    task: str,
    passage: Passage,
    output_type: type[M],
    *,
    max_tokens: int,
    ids: Iterable[int] | None = None,
    context: Mapping[str, Any] | None = None,
    max_reasks: int | None = None,
    **values: str,
) -> Structured[M]:
    """The one grounded model call every task makes.

    The prompt is task ``task`` with ``passage`` rendered as its ``documents``
    (plus ``values``); sentence numbers in the reply may only be ``ids`` (default:
    every number shown), in the schema sent (constrained decoding) and in
    validation (re-asked otherwise). ``context`` adds entries for the output
    type's own validators.
    """
    allowed = passage.numbers if ids is None else frozenset(ids)
    return generate(
        client,
        messages(task, documents=passage.render(), **values),
        output_type,
        max_tokens=max_tokens,
        context={"sentence_ids": allowed, **(context or {})},
        schema_hook=restrict_ids(allowed),
        max_reasks=max_reasks,
    )
