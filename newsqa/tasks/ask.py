"""Answers with citations over one or several documents, abstaining when they don't say."""

from __future__ import annotations

import datetime as dt
import string
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import ClassVar, Literal

from pydantic import BaseModel, Field, create_model

from newsqa.documents.lexical import content_tokens, name_stems, stem, stems
from newsqa.grounding import (
    Passage,
    SentenceIds,
    states,
    topic_share,
)
from newsqa.grounding.focus import focus
from newsqa.grounding.limits import check_windows
from newsqa.grounding.model_text import cleaned
from newsqa.llm.client import LLMClient
from newsqa.llm.pending import each
from newsqa.prompts import user_text
from newsqa.tasks.base import Task, needs_client, register
from newsqa.tasks.calls import grounded_call
from newsqa.tasks.recency import timely, untimed
from newsqa.thresholds import CHOICE_SHARE, OPTION_SHARE, QUESTION_SHARE, STATED_SHARE
from newsqa.types import Answer, Document, Usage

__all__ = ["FOCUS_TOKENS", "MAX_CHOICES", "Ask", "Reading", "answer_from", "ask"]

MAX_TOKENS = 200
MAX_CHOICES = 10
ANSWER_CHARS = 200
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
    answer: str | None = Field(
        max_length=ANSWER_CHARS, description="Answer in a few words, or null."
    )


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
    draft = result.value
    if draft.answer is not None:
        draft = draft.model_copy(
            update={"answer": cleaned(draft.answer, passage.text, limit=ANSWER_CHARS)}
        )
    return draft, result.usage


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


VERIFY_TOKENS = 12


class Verdict(BaseModel):
    """The model's second look at one answer: do the shown sentences say it?"""

    stated: bool


@dataclass(frozen=True)
class Grounds:
    """Sentence numbers that back an answer; ``sure=False`` when the words alone do not
    decide it and the model is asked to confirm (:func:`_confirmed`)."""

    numbers: list[int]
    sure: bool = True
    answer: int | None = None
    """For multiple choice: the option these sentences state, when it is not the one
    the model picked."""


def _adds(answer: str, question: str) -> bool:
    """Does ``answer`` say something the question does not: a content word (or number)
    beyond the question's own? "Putin" does not answer "What did Putin say?"."""
    tokens = content_tokens(answer)
    if not tokens:
        return True  # "Yes"
    asked = {stem(t) for t in content_tokens(question)}
    return any(stem(t) not in asked for t in tokens)


def _texts(passage: Passage, numbers: Sequence[int]) -> list[str]:
    return [c.text for c in passage.evidence(numbers)]


def _with_neighbours(passage: Passage, numbers: Sequence[int]) -> list[int]:
    """``numbers`` and the sentences next to them in the passage (a pronoun's referent,
    a quote's speaker)."""
    near = {m for n in numbers for m in (n - 1, n, n + 1)}
    return sorted(near & passage.numbers)


def _most_about(
    passage: Passage,
    question: str,
    keep: Callable[[str], bool],
    *,
    names_suffice: bool = False,
) -> tuple[float, int]:
    """The sentence of ``passage`` that ``keep`` accepts and is most about ``question``,
    as (its :func:`topic_share`, its number); (0.0, 0) when ``keep`` accepts none."""
    return max(
        (
            (topic_share(question, [u.sentence.text], names_suffice=names_suffice), u.number)
            for u in passage.units
            if keep(u.sentence.text)
        ),
        default=(0.0, 0),
    )


def _best_stating(
    passage: Passage, value: str, question: str, *, names_suffice: bool = False
) -> tuple[float, list[int]]:
    """The one sentence of ``passage`` that states ``value`` and is most about the
    question, as (its :func:`topic_share`, [its number]); (0.0, []) when none does."""
    if not content_tokens(value):
        return 0.0, []  # "Yes" is stated by every sentence: nothing to re-cite by
    share, number = _most_about(
        passage,
        question,
        lambda text: states(value, [text], min_share=OPTION_SHARE),
        names_suffice=names_suffice,
    )
    return share, [number] if number else []


def _naming(passage: Passage, answer: str, question: str) -> int | None:
    """The sentence of ``passage`` most about ``question`` (at least
    :data:`QUESTION_SHARE` of its words) that names the ``answer``: one of the answer's
    capitalised words the question does not hold; ``None`` when none does."""
    names = name_stems(answer) - {stem(t) for t in content_tokens(question)}
    if not names:
        return None
    share, number = _most_about(passage, question, lambda text: bool(names & stems(text)))
    return number if share >= QUESTION_SHARE else None


def _grounded_choice(
    cited: list[int], index: int, choices: Sequence[str], passage: Passage, question: str
) -> Grounds | None:
    """What backs the chosen option ``choices[index]``, or ``None`` to abstain.

    - The cited sentences state the option and are about the question: kept.
    - The option is not stated there, but one cited sentence about the question states
      one other option: the model is asked whether the sentences say that option (a
      small model often cites the right sentence and picks the wrong letter).
    - The cited sentences state the option and hold :data:`CHOICE_SHARE` of the
      question's words (names count): kept (an option is the caller's text, not the
      model's: it needs to be written, not to hold most of the question's words).
    - Otherwise the sentence of the passage that states the option and holds most of
      the question's words (names count) is cited instead; when no sentence states it
      and holds that share, the choice is dropped. On RealTime QA dev
      (``benchmarks/abstention.py``) an option no shown sentence writes was mostly the
      model's guess, and the model's own confirmation of it no better than a coin.
    """
    option = choices[index]
    texts = _texts(passage, cited)
    stated = bool(cited) and states(option, texts, min_share=OPTION_SHARE)
    on_topic = bool(cited) and topic_share(question, texts) >= QUESTION_SHARE
    if stated and on_topic:
        return Grounds(cited)
    others = {
        j
        for j, c in enumerate(choices)
        for t in texts
        if j != index
        and states(c, [t], min_share=OPTION_SHARE)
        and topic_share(question, [t]) >= QUESTION_SHARE
    }
    if not stated and len(others) == 1:
        return Grounds(cited, sure=False, answer=others.pop())
    if stated and topic_share(question, texts, names_suffice=True) >= CHOICE_SHARE:
        return Grounds(cited)
    share, recited = _best_stating(passage, option, question, names_suffice=True)
    return Grounds(recited) if recited and share >= CHOICE_SHARE else None


def _grounded(draft: AnswerDraft, passage: Passage, question: str) -> Grounds | None:
    """What backs the draft's free-text answer, or ``None`` to abstain.

    The answer must be given (not null) and say more than the question. Its numbers,
    its names and most of its other words must be in the cited sentences, and those
    must hold most of the question's content words — not only its names. When the
    model's citation misses (a small model often cites a neighbouring sentence), the
    one sentence that states the answer and is most about the question is cited
    instead. The model is asked to confirm when the cited sentences state the answer
    but hold the question's words only together with their neighbours, when they hold
    the question's words and a neighbour states the answer (then cited with them), when
    they state the answer and another sentence holding the question's words names it
    (cited with them, :func:`_naming`), or when an answer without content words ("No")
    shares only names with the question.
    Measured on RealTime QA dev (``benchmarks/abstention.py``, 60 questions): also
    confirming answers whose sentences hold only a quarter of the question's words
    answered 6 more questions right but 7 more wrongly where the articles do not say,
    so those are dropped.
    """
    answer = (draft.answer or "").strip()
    if not answer or not _adds(answer, question):
        return None
    cited = list(draft.sentences)
    texts = _texts(passage, cited)
    stated = bool(cited) and states(answer, texts, min_share=STATED_SHARE)
    on_topic = bool(cited) and topic_share(question, texts) >= QUESTION_SHARE
    if stated and on_topic:
        return Grounds(cited)
    share, recited = _best_stating(passage, answer, question)
    if share >= QUESTION_SHARE:
        return Grounds(recited)
    near = _texts(passage, _with_neighbours(passage, cited))
    if stated and topic_share(question, near) >= QUESTION_SHARE:
        return Grounds(cited, sure=False)
    # The other way round: '"…," he said, marking his first public statements since
    # Trump's win' is cited for "Where did Putin make his first public remarks after
    # Trump's win?", and the sentence before it names the place.
    if on_topic and content_tokens(answer):
        beside = [
            n
            for n in _with_neighbours(passage, cited)
            if n not in cited and states(answer, _texts(passage, [n]), min_share=STATED_SHARE)
        ]
        if beside:
            return Grounds(sorted({*cited, beside[0]}), sure=False)
    # The cited sentence names the answer but not what the question asks about, and
    # another sentence on the question names the answer too: "… Putin remarked at the
    # Valdai International Discussion Club in Sochi" for "Which forum did Putin address
    # in Sochi?", where "his address at the Valdai forum" is said elsewhere.
    if stated:
        linked = _naming(passage, answer, question)
        if linked is not None and linked not in cited:
            return Grounds(sorted({*cited, linked}), sure=False)
    # "Did Kyiv agree?" - "No", citing "Kyiv rejected the proposal.": nothing but the
    # name to match, and nothing in the answer to check.
    if (
        stated
        and not content_tokens(answer)
        and topic_share(question, texts, names_suffice=True) >= QUESTION_SHARE
    ):
        return Grounds(cited, sure=False)
    return None


def _in_time(
    grounds: Grounds | None, passage: Passage, question: str, as_of: dt.date | None
) -> Grounds | None:
    """``grounds``, unless every sentence of it is from a document dated outside the
    time the question names, asked on ``as_of`` (:func:`~newsqa.tasks.recency.timely`)."""
    if grounds is None or timely(passage.units_of(grounds.numbers), question, as_of):
        return grounds
    return None


def _confirmed(
    client: LLMClient, passage: Passage, question: str, answer: str, cited: Sequence[int]
) -> tuple[bool, Usage]:
    """The model's yes/no on whether the ``cited`` sentences say that ``answer`` answers
    ``question``: one short constrained call whose prompt starts like the answer's
    (the documents first), so a local model reuses what it has already read."""
    result = grounded_call(
        client,
        "verify",
        passage,
        Verdict,
        max_tokens=VERIFY_TOKENS,
        sentences=passage.lines(sorted(cited)),
        question=user_text("question", question),
        answer=user_text("answer", answer),
    )
    return result.value.stated, result.usage


def ask(
    docs: Sequence[Document],
    question: str,
    *,
    client: LLMClient,
    choices: Sequence[str] | None = None,
    read: Reading = "focused",
    as_of: dt.date | None = None,
) -> Answer:
    """Answer ``question`` from ``docs`` only, citing verbatim sentences.

    With ``choices`` the model picks one option (``Answer.choice`` is its index and
    ``Answer.answer`` its text), kept only when a shown sentence writes the option and
    holds a quarter of the question's words (see :func:`_grounded_choice`).

    A free-text answer is kept only when the model gives one (not null) that says
    more than the question, and the cited sentences state it
    (:func:`~newsqa.grounding.states`: its numbers, its names, most of its
    words) and hold most of the question's content words, not only its names
    (:func:`~newsqa.grounding.topic_share`); otherwise the result abstains
    (``answerable=False``): a small model readily answers from its own knowledge and
    cites a loosely related sentence. When the words alone cannot decide, one short
    constrained call asks the model to confirm (see :func:`_grounded`).
    Documents that do not fit ``context_tokens`` together are read ``"focused"``
    (default: only the sentence windows that best match the question and choices,
    ranked by BM25, in one call) or ``"all"`` (every window in turn; the sentences
    cited by answerable windows are then asked once more together); questions with
    ``choices`` are always read focused.

    ``as_of`` is the day the question is asked: a question about "this week", "today",
    "this month" or "this year" abstains when every cited sentence comes from a
    document dated outside that time (see :mod:`newsqa.tasks.recency`; undated
    documents always count).

    Raises:
        ValueError: no documents, an empty question, or fewer than 2 or more than
            :data:`MAX_CHOICES` choices.
        OutputValidationError: the model never produced a valid answer.
        LLMError: the endpoint failed.
    """
    if not docs:
        raise ValueError("ask needs at least one document")
    return answer_from(
        Passage.of(docs), question, client=client, choices=choices, read=read, as_of=as_of
    )


def answer_from(
    passage: Passage,
    question: str,
    *,
    client: LLMClient,
    choices: Sequence[str] | None = None,
    read: Reading = "focused",
    as_of: dt.date | None = None,
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
        return _answer_choice(passage, question, choices, client, as_of)
    if not passage.fits(budget):
        windows = passage.windows(budget)
        check_windows(len(windows) + 1, "the documents")
        cited: set[int] = set()
        drafts = each(lambda window: _ask_passage(client, window, question), windows)
        for window, (draft, spent) in zip(windows, drafts, strict=True):
            usage += spent
            found = _grounded(draft, window, untimed(question))
            cited.update(found.numbers if found is not None else ())
        if not cited:
            return Answer(
                question=question, answer=None, answerable=False, citations=[], usage=usage
            )
        passage = passage.subset(cited)
    draft, spent = _ask_passage(client, passage, question)
    usage += spent
    answer = (draft.answer or "").strip()
    grounds = _in_time(_grounded(draft, passage, untimed(question)), passage, question, as_of)
    if grounds is not None and not grounds.sure:
        stated, spent = _confirmed(client, passage, question, answer, grounds.numbers)
        usage += spent
        grounds = grounds if stated else None
    if grounds is None:
        return Answer(question=question, answer=None, answerable=False, citations=[], usage=usage)
    return Answer(
        question=question,
        answer=answer,
        answerable=True,
        citations=passage.evidence(grounds.numbers),
        usage=usage,
    )


def _answer_choice(
    passage: Passage,
    question: str,
    choices: Sequence[str],
    client: LLMClient,
    as_of: dt.date | None,
) -> Answer:
    index, cited, usage = _ask_choice(client, passage, question, choices)
    if index is None:
        return Answer(question=question, answer=None, answerable=False, citations=[], usage=usage)
    grounds = _in_time(
        _grounded_choice(cited, index, choices, passage, untimed(question)),
        passage,
        question,
        as_of,
    )
    if grounds is not None and not grounds.sure:
        if grounds.answer is not None:
            index = grounds.answer
        stated, spent = _confirmed(client, passage, question, choices[index], grounds.numbers)
        usage += spent
        grounds = grounds if stated else None
    if grounds is None:
        return Answer(question=question, answer=None, answerable=False, citations=[], usage=usage)
    return Answer(
        question=question,
        answer=choices[index],
        answerable=True,
        choice=index,
        citations=passage.evidence(grounds.numbers),
        usage=usage,
    )


@register
class Ask(Task[Answer]):
    """Answer a question from the article with citations, or abstain; choices make it
    multiple choice, as_of is the day it is asked (see :func:`ask`)."""

    name: ClassVar[str] = "ask"
    prompts: ClassVar[tuple[str, ...]] = (
        "system",
        "document",
        "ask.user",
        "ask_choice.user",
        "verify.user",
    )

    question: str = ""
    choices: tuple[str, ...] | None = None
    as_of: dt.date | None = None

    def __init__(
        self,
        question: str = "",
        choices: Sequence[str] | None = None,
        as_of: dt.date | None = None,
    ) -> None:
        BaseModel.__init__(
            self,
            question=question,
            choices=None if choices is None else tuple(choices),
            as_of=as_of,
        )

    def check(self) -> None:
        if not self.question.strip():
            raise ValueError("the ask task needs a question")

    def run(self, doc: Document, *, client: LLMClient | None = None) -> Answer:
        return ask(
            [doc],
            self.question,
            client=needs_client(self, client),
            choices=self.choices,
            as_of=self.as_of,
        )
