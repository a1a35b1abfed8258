"""Summaries with key points grounded in sentence numbers."""

from __future__ import annotations

import re

from pydantic import BaseModel, Field

from newsqa.llm.client import LLMClient
from newsqa.llm.structured import generate
from newsqa.prompts import messages
from newsqa.tasks._limits import check_windows
from newsqa.tasks.grounding import Passage, SentenceIds, grounded_call, restrict_ids
from newsqa.types import Document, KeyPoint, Summary, Usage

__all__ = ["complete_sentences", "summarize"]

MAX_TOKENS = 450


class KeyPointDraft(BaseModel):
    """A key point as the model writes it."""

    point: str = Field(max_length=220, description="One important fact, one short sentence.")
    sentences: SentenceIds(1, 3)  # type: ignore[valid-type]


class SummaryDraft(BaseModel):
    """A summary as the model writes it."""

    headline: str = Field(max_length=120, description="Short headline.")
    summary: str = Field(max_length=600, description="Two or three sentences.")
    key_points: list[KeyPointDraft] = Field(min_length=1, max_length=5)


class ReduceDraft(BaseModel):
    """The reduce step over key points of a long document's parts."""

    headline: str = Field(max_length=120)
    summary: str = Field(max_length=600)
    key_points: SentenceIds(1, 5)  # type: ignore[valid-type]


_END = re.compile(r"""[.!?]["'”’)]*$""")
_LAST_END = re.compile(r"""[.!?]["'”’)]*(?=\s)""")


def complete_sentences(text: str) -> str:
    """Drop a trailing fragment (a small model sometimes closes the JSON string at a
    quotation mark it meant to copy, cutting its last sentence short)."""
    text = text.strip()
    if not text or _END.search(text):
        return text
    ends = list(_LAST_END.finditer(text))
    return text[: ends[-1].end()] if ends else text


def _summarize_passage(client: LLMClient, passage: Passage) -> tuple[SummaryDraft, Usage]:
    result = grounded_call(client, "summarize", passage, SummaryDraft, max_tokens=MAX_TOKENS)
    return result.value, result.usage


def summarize(doc: Document, *, client: LLMClient) -> Summary:
    """Summarize one document: headline, summary and key points with evidence.

    The whole document goes in one call when it fits ``context_tokens``; otherwise
    each window is summarized and one more call combines the key points.

    Raises:
        OutputValidationError: the model never produced a valid summary.
        LLMError: the endpoint failed.
        DocumentError: the document needs too many calls.
    """
    passage = Passage.of([doc])
    budget = client.settings.context_tokens
    if passage.fits(budget):
        draft, usage = _summarize_passage(client, passage)
        return Summary(
            headline=draft.headline,
            summary=complete_sentences(draft.summary),
            key_points=[
                KeyPoint(text=kp.point, evidence=passage.evidence(kp.sentences))
                for kp in draft.key_points
            ],
            usage=usage,
        )

    windows = passage.windows(budget)
    check_windows(len(windows) + 1, doc.id)
    points: list[KeyPoint] = []
    usage = Usage()
    for window in windows:
        draft, spent = _summarize_passage(client, window)
        usage += spent
        points.extend(
            KeyPoint(text=kp.point, evidence=window.evidence(kp.sentences))
            for kp in draft.key_points
        )
    listing = "\n".join(f"[{i}] {kp.text}" for i, kp in enumerate(points, start=1))
    reduce = generate(
        client,
        messages("summarize_reduce", points=listing),
        ReduceDraft,
        max_tokens=MAX_TOKENS,
        context={"sentence_ids": frozenset(range(1, len(points) + 1))},
        schema_hook=restrict_ids(range(1, len(points) + 1)),
    )
    return Summary(
        headline=reduce.value.headline,
        summary=complete_sentences(reduce.value.summary),
        key_points=[points[i - 1] for i in reduce.value.key_points],
        usage=usage + reduce.usage,
    )
