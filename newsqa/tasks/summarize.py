"""Summaries with key points grounded in sentence numbers."""

from __future__ import annotations

import re
from typing import ClassVar

from pydantic import BaseModel, Field

from newsqa.grounding import Passage, SentenceIds
from newsqa.grounding.limits import check_windows
from newsqa.grounding.model_text import cleaned
from newsqa.llm.client import LLMClient
from newsqa.llm.pending import each
from newsqa.tasks.base import Task, needs_client, register
from newsqa.tasks.calls import grounded_call, model_call
from newsqa.types import Document, KeyPoint, Summary, Usage

__all__ = ["Summarize", "complete_sentences", "summarize"]

MAX_TOKENS = 450
POINT_CHARS, HEADLINE_CHARS, SUMMARY_CHARS = 220, 120, 600


class KeyPointDraft(BaseModel):
    """A key point as the model writes it."""

    point: str = Field(
        max_length=POINT_CHARS, description="One important fact, one short sentence."
    )
    sentences: SentenceIds(1, 3)  # type: ignore[valid-type]


class SummaryDraft(BaseModel):
    """A summary as the model writes it."""

    headline: str = Field(max_length=HEADLINE_CHARS, description="Short headline.")
    summary: str = Field(max_length=SUMMARY_CHARS, description="Two or three sentences.")
    key_points: list[KeyPointDraft] = Field(min_length=1, max_length=5)


class ReduceDraft(BaseModel):
    """The reduce step over key points of a long document's parts."""

    headline: str = Field(max_length=HEADLINE_CHARS)
    summary: str = Field(max_length=SUMMARY_CHARS)
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


def _point(text: str, source: str) -> str:
    return cleaned(text, source, limit=POINT_CHARS)


def _summary_text(text: str, source: str) -> str:
    return complete_sentences(cleaned(text, source, limit=SUMMARY_CHARS))


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
            headline=cleaned(draft.headline, doc.text, limit=HEADLINE_CHARS),
            summary=_summary_text(draft.summary, doc.text),
            key_points=[
                KeyPoint(text=_point(kp.point, doc.text), evidence=passage.evidence(kp.sentences))
                for kp in draft.key_points
            ],
            usage=usage,
        )

    windows = passage.windows(budget)
    check_windows(len(windows) + 1, doc.id)
    points: list[KeyPoint] = []
    usage = Usage()
    drafts = each(lambda window: _summarize_passage(client, window), windows)
    for window, (draft, spent) in zip(windows, drafts, strict=True):
        usage += spent
        points.extend(
            KeyPoint(text=_point(kp.point, doc.text), evidence=window.evidence(kp.sentences))
            for kp in draft.key_points
        )
    listing = "\n".join(f"[{i}] {kp.text}" for i, kp in enumerate(points, start=1))
    reduce = model_call(
        client,
        "summarize_reduce",
        ReduceDraft,
        max_tokens=MAX_TOKENS,
        ids=range(1, len(points) + 1),
        points=listing,
    )
    return Summary(
        headline=cleaned(reduce.value.headline, doc.text, limit=HEADLINE_CHARS),
        summary=_summary_text(reduce.value.summary, doc.text),
        key_points=[points[i - 1] for i in reduce.value.key_points],
        usage=usage + reduce.usage,
    )


@register
class Summarize(Task[Summary]):
    """Headline, summary and key points, each point with its evidence."""

    name: ClassVar[str] = "summarize"
    prompts: ClassVar[tuple[str, ...]] = (
        "system",
        "document",
        "summarize.user",
        "summarize_reduce.user",
    )

    def run(self, doc: Document, *, client: LLMClient | None = None) -> Summary:
        return summarize(doc, client=needs_client(self, client))
