"""Passages: the model sees numbered sentences and answers with numbers; a passage
maps numbers back to verbatim spans of the source.

A :class:`Passage` is the numbered view of one or more documents (or of chosen
sentences of them) that a prompt shows. Ids outside the passage fail validation
(the model is re-asked), so no cited text can be invented or silently dropped.
"""

from __future__ import annotations

import html
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Annotated, Any

from pydantic import AfterValidator, Field, ValidationInfo

from newsqa.documents.chunking import count_tokens, pack
from newsqa.prompts import one_line, render
from newsqa.types import Document, Evidence, Sentence

__all__ = ["DOC_TOKENS", "Passage", "SentenceIds", "Unit", "restrict_ids"]

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
        """Verbatim sentences, with their documents, for sentence numbers (passage order)."""
        return [
            Evidence(
                doc=u.doc.id,
                title=u.doc.title,
                date=u.doc.date,
                text=u.sentence.text,
                start=u.sentence.start,
                end=u.sentence.end,
                sentence_id=u.sentence.id,
            )
            for u in self.units_of(numbers)
        ]
