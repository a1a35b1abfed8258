"""Answers with citations over one or several documents, abstaining when they don't say."""

from __future__ import annotations

import string
from collections.abc import Sequence
from functools import lru_cache
from typing import Literal

from pydantic import BaseModel, Field, create_model

from newsqa.documents.lexical import words
from newsqa.llm.client import LLMClient
from newsqa.prompts import user_text
from newsqa.tasks._limits import check_windows
from newsqa.tasks.focus import focus
from newsqa.tasks.grounding import Passage, SentenceIds, about, grounded_call, supported_by
from newsqa.types import Answer, Document, Usage

__all__ = ["FOCUS_TOKENS", "MAX_CHOICES", "Reading", "answer_from", "ask"]

MAX_TOKENS = 200
MAX_CHOICES = 10
FOCUS_TOKENS = 1000
"""Tokens read from documents that do not fit ``context_tokens``. Measured on 120
RealTime QA dev questions over their own articles (``benchmarks/focus_recall.py``):
a sentence holding the answer is kept for 0.917 at 1,000 tokens vs 0.950 at 3,000,
for a third of the prompt (and of the time before the first output token)."""
Reading = Literal["focused", "all"]


class AnswerDraft(BaseModel):
    """An answer as the model writes it: evidence first, then the answer (null to abstain).

    There is no separate "answerable" flag: it cost tokens on every question and did
    not stop the model from answering from its own knowledge; abstention rests on the
    grounding checks of :func:`_grounded` instead."""

    sentences: SentenceIds(0, 4)  # type: ignore[valid-type]
    answer: str | None = Field(max_length=200, description="Answer in a few words, or null.")


class ChoiceDraft(BaseModel):
    """A multiple-choice answer as the model writes it: evidence, then a letter or null."""

    sentences: SentenceIds(0, 4)  # type: ignore[valid-type]
    choice: str | None


@lru_cache(maxsize=MAX_CHOICES)
def _choice_model(n: int) -> type[ChoiceDraft]:
    """:class:`ChoiceDraft` whose ``choice`` may only be one of the first ``n`` letters."""
    letters = Literal[tuple(string.ascii_uppercase[:n])]  # type: ignore[valid-type]
    return create_model(
        f"ChoiceDraft{n}",
        __base__=ChoiceDraft,
        choice=(  # type: ignore[arg-type]
            letters | None,
            Field(description="Letter of the correct option, or null."),
        ),
    )


def _ask_passage(client: LLMClient, passage: Passage, question: str) -> tuple[AnswerDraft, Usage]:
    result = grounded_call(
        client,
        "ask",
        passage,
        AnswerDraft,
        max_tokens=MAX_TOKENS,
        question=user_text("question", question),
    )
    return result.value, result.usage


def _ask_choice(
    client: LLMClient, passage: Passage, question: str, choices: Sequence[str]
) -> tuple[int | None, list[int], Usage]:
    options = "\n".join(
        f"{string.ascii_uppercase[i]}. {user_text('option', c)}" for i, c in enumerate(choices)
    )
    result = grounded_call(
        client,
        "ask_choice",
        passage,
        _choice_model(len(choices)),
        max_tokens=MAX_TOKENS,
        question=user_text("question", question),
        options=options,
    )
    draft = result.value
    index = None if draft.choice is None else string.ascii_uppercase.index(draft.choice)
    return index, list(draft.sentences), result.usage


def _grounded_choice(
    cited: list[int], choice: str, passage: Passage, question: str
) -> list[int] | None:
    """The sentence numbers that ground a chosen option, or ``None`` to abstain.

    The model's citation counts when the cited sentences are about the question or
    state the option; otherwise the sentence that states the option and shares most
    words with the question is cited instead; when no sentence stating the option
    shares a word with the question, the choice is dropped.
    """
    if cited:
        texts = [c.text for c in passage.citations(cited)]
        if about(question, texts) or supported_by(choice, texts, min_share=0.75):
            return cited
    stating = [
        (_overlap(question, u.sentence.text), u.number)
        for u in passage.units
        if supported_by(choice, [u.sentence.text], min_share=0.75)
    ]
    best = max(stating, default=(0, 0))
    return [best[1]] if best[0] > 0 else None


def _overlap(question: str, text: str) -> int:
    """How many of the question's content words (by five-letter stem) ``text`` holds."""
    asked = {w[:5] for w in words(question) if len(w) > 3} - _QUESTION_STEMS
    return len(asked & {w[:5] for w in words(text)})


_QUESTION_STEMS = frozenset({"which", "follo", "these", "where", "what", "about"})


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


def ask(
    docs: Sequence[Document],
    question: str,
    *,
    client: LLMClient,
    choices: Sequence[str] | None = None,
    read: Reading = "focused",
) -> Answer:
    """Answer ``question`` from ``docs`` only, citing verbatim sentences.

    With ``choices`` the model picks one option (``Answer.choice`` is its index and
    ``Answer.answer`` its text), kept only when a cited sentence is about the question
    or states the option.

    The answer is kept only when the model gives one (not null), cites at least one
    sentence, the answer's numbers and most of its words occur in the cited
    sentences (:func:`~newsqa.tasks.grounding.supported_by`) and those sentences hold
    most of the question's content words (:func:`~newsqa.tasks.grounding.about`);
    otherwise the result
    abstains (``answerable=False``): a small model readily answers from its own
    knowledge and cites a loosely related sentence.
    Documents that do not fit ``context_tokens`` together are read ``"focused"``
    (default: only the sentence windows that best match the question and choices,
    ranked by BM25, in one call) or ``"all"`` (every window in turn; the sentences
    cited by answerable windows are then asked once more together); questions with
    ``choices`` are always read focused.

    Raises:
        ValueError: no documents, an empty question, or fewer than 2 or more than
            :data:`MAX_CHOICES` choices.
        OutputValidationError: the model never produced a valid answer.
        LLMError: the endpoint failed.
    """
    if not docs:
        raise ValueError("ask needs at least one document")
    return answer_from(Passage.of(docs), question, client=client, choices=choices, read=read)


def answer_from(
    passage: Passage,
    question: str,
    *,
    client: LLMClient,
    choices: Sequence[str] | None = None,
    read: Reading = "focused",
) -> Answer:
    """Answer ``question`` from the sentences of ``passage`` (see :func:`ask`).

    Raises:
        ValueError: an empty question or bad choices.
    """
    if not question.strip():
        raise ValueError("the question is empty")
    if choices is not None:
        choices = [c.strip() for c in choices]
        if not 2 <= len(choices) <= MAX_CHOICES or not all(choices):
            raise ValueError(f"give 2 to {MAX_CHOICES} non-empty choices")
    if not passage.units:
        return Answer(question=question, answer=None, answerable=False, citations=[])
    budget = client.settings.context_tokens
    usage = Usage()
    if not passage.fits(budget) and (read == "focused" or choices is not None):
        query = " ".join([question, *(choices or [])])
        passage = focus(passage, query, min(FOCUS_TOKENS, budget))
    if choices is not None:
        return _answer_choice(passage, question, choices, client)
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


def _answer_choice(
    passage: Passage, question: str, choices: Sequence[str], client: LLMClient
) -> Answer:
    index, cited, usage = _ask_choice(client, passage, question, choices)
    grounds = None if index is None else _grounded_choice(cited, choices[index], passage, question)
    if index is None or grounds is None:
        return Answer(question=question, answer=None, answerable=False, citations=[], usage=usage)
    return Answer(
        question=question,
        answer=choices[index],
        answerable=True,
        choice=index,
        citations=passage.citations(grounds),
        usage=usage,
    )
