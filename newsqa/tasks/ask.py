"""Answers with citations over one or several documents, abstaining when they don't say."""

from __future__ import annotations

from collections.abc import Sequence

from pydantic import BaseModel, Field

from newsqa.llm.client import LLMClient
from newsqa.llm.structured import generate
from newsqa.prompts import messages
from newsqa.tasks._limits import check_windows
from newsqa.tasks.grounding import Passage, SentenceIds, about, restrict_ids, supported_by
from newsqa.types import Answer, Document, Usage

__all__ = ["answer_from", "ask"]

MAX_TOKENS = 200


class AnswerDraft(BaseModel):
    """An answer as the model writes it: evidence first, then the answer (null to abstain).

    There is no separate "answerable" flag: it cost tokens on every question and did
    not stop the model from answering from its own knowledge; abstention rests on the
    grounding checks of :func:`_grounded` instead."""

    sentences: SentenceIds(0, 4)  # type: ignore[valid-type]
    answer: str | None = Field(max_length=200, description="Answer in a few words, or null.")


def _ask_passage(client: LLMClient, passage: Passage, question: str) -> tuple[AnswerDraft, Usage]:
    result = generate(
        client,
        messages("ask", documents=passage.render(), question=question),
        AnswerDraft,
        max_tokens=MAX_TOKENS,
        context=passage.context(),
        schema_hook=restrict_ids(passage.numbers),
    )
    return result.value, result.usage


def _grounded(draft: AnswerDraft, passage: Passage, question: str) -> list[int] | None:
    """The sentence numbers that ground the draft's answer, or ``None`` to abstain.

    An answer counts only if it is not null, its words (all numbers, most
    content words) occur in the cited sentences, and those sentences hold most of the
    question's content words. When the model's citation misses (a small model often
    cites a neighbouring sentence), the single sentence of the passage that meets both
    tests best is cited instead; if none does, the answer is dropped.
    """
    answer = (draft.answer or "").strip()
    if not answer:
        return None
    if draft.sentences:
        cited = [c.text for c in passage.citations(draft.sentences)]
        if supported_by(answer, cited) and about(question, cited):
            return list(draft.sentences)
    for unit in passage.units:
        text = [unit.sentence.text]
        if supported_by(answer, text, min_share=0.75) and about(question, text):
            return [unit.number]
    return None


def ask(docs: Sequence[Document], question: str, *, client: LLMClient) -> Answer:
    """Answer ``question`` from ``docs`` only, citing verbatim sentences.

    The answer is kept only when the model gives one (not null), cites at least one
    sentence, the answer's numbers and most of its words occur in the cited
    sentences (:func:`~newsqa.tasks.grounding.supported_by`) and those sentences hold
    most of the question's content words (:func:`~newsqa.tasks.grounding.about`);
    otherwise the result
    abstains (``answerable=False``): a small model readily answers from its own
    knowledge and cites a loosely related sentence.
    Documents that do not fit ``context_tokens`` together are read in windows;
    the sentences cited by answerable windows are then asked once more together.

    Raises:
        ValueError: no documents or an empty question.
        OutputValidationError: the model never produced a valid answer.
        LLMError: the endpoint failed.
    """
    if not docs:
        raise ValueError("ask needs at least one document")
    return answer_from(Passage.of(docs), question, client=client)


def answer_from(passage: Passage, question: str, *, client: LLMClient) -> Answer:
    """Answer ``question`` from the sentences of ``passage`` (see :func:`ask`).

    Raises:
        ValueError: an empty question.
    """
    if not question.strip():
        raise ValueError("the question is empty")
    if not passage.units:
        return Answer(question=question, answer=None, answerable=False, citations=[])
    budget = client.settings.context_tokens
    usage = Usage()
    if not passage.fits(budget):
        windows = passage.windows(budget)
        check_windows(len(windows) + 1, "the documents")
        cited: set[int] = set()
        for window in windows:
            draft, spent = _ask_passage(client, window, question)
            usage += spent
            cited.update(_grounded(draft, window, question) or ())
        if not cited:
            return Answer(
                question=question, answer=None, answerable=False, citations=[], usage=usage
            )
        passage = passage.subset(cited)
    draft, spent = _ask_passage(client, passage, question)
    usage += spent
    grounds = _grounded(draft, passage, question)
    if grounds is None:
        return Answer(question=question, answer=None, answerable=False, citations=[], usage=usage)
    return Answer(
        question=question,
        answer=(draft.answer or "").strip(),
        answerable=True,
        citations=passage.citations(grounds),
        usage=usage,
    )
