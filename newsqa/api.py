"""The public task functions: pass a client, or let newsqa build one from the environment."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import Path

from newsqa.config import Settings
from newsqa.documents import iter_inputs
from newsqa.errors import DocumentError
from newsqa.llm.client import LLMClient
from newsqa.tasks import ask as _ask
from newsqa.tasks import batch as _batch
from newsqa.tasks import claims as _claims
from newsqa.tasks import stances as _stances
from newsqa.tasks import summarize as _summarize
from newsqa.tasks import target_stance as _target_stance
from newsqa.tasks import timeline as _timeline
from newsqa.types import (
    Answer,
    ClaimCheck,
    Document,
    StanceReport,
    StanceTimeline,
    Summary,
    TargetStance,
)

__all__ = [
    "DEFAULT_TOPIC",
    "abatch",
    "analyze_stances",
    "ask",
    "batch",
    "check_claim",
    "connect",
    "stance_timeline",
    "stance_toward",
    "stances_toward",
    "summarize",
]

DEFAULT_TOPIC = _stances.DEFAULT_TOPIC


def connect(settings: Settings | None = None, **overrides: object) -> LLMClient:
    """Build an :class:`LLMClient`: explicit ``overrides`` > environment > embedded model.

    Example:
        >>> client = connect(base_url="http://localhost:8000/v1", model="qwen2.5")  # doctest: +SKIP
    """
    return LLMClient(settings or Settings.from_env(**overrides))


def summarize(doc: Document, *, client: LLMClient | None = None) -> Summary:
    """Summarize ``doc``: headline, summary and key points with verbatim evidence."""
    return _summarize.summarize(doc, client=client or connect())


def analyze_stances(
    doc: Document,
    topic: str = DEFAULT_TOPIC,
    *,
    client: LLMClient | None = None,
    max_actors: int = 5,
    actors: Mapping[str, Sequence[str]] | None = None,
) -> StanceReport:
    """Each actor's stance on ``topic`` in ``doc``: label, position and evidence."""
    return _stances.analyze_stances(
        doc, topic, client=client or connect(), max_actors=max_actors, actors=actors
    )


def stance_timeline(
    docs: Sequence[Document],
    topic: str = DEFAULT_TOPIC,
    *,
    client: LLMClient | None = None,
    max_actors: int = 5,
    on_done: Callable[[Document], None] | None = None,
) -> StanceTimeline:
    """Each actor's stance across dated documents, label changes flagged.

    ``on_done(doc)`` is called after each document (progress bars)."""
    return _timeline.stance_timeline(
        docs, topic, client=client or connect(), max_actors=max_actors, on_done=on_done
    )


def ask(
    docs: Document | Sequence[Document],
    question: str,
    *,
    client: LLMClient | None = None,
    choices: Sequence[str] | None = None,
    read: _ask.Reading = "focused",
) -> Answer:
    """Answer ``question`` from ``docs`` with citations, or abstain.

    ``choices`` makes it multiple choice (``Answer.choice`` is the chosen index);
    ``read="all"`` reads every part of documents too long for one prompt instead of
    only the parts that best match the question.
    """
    documents = [docs] if isinstance(docs, Document) else list(docs)
    return _ask.ask(documents, question, client=client or connect(), choices=choices, read=read)


def stance_toward(
    doc: Document,
    target: str,
    *,
    client: LLMClient | None = None,
    aliases: Sequence[str] = (),
) -> TargetStance:
    """Where the author of ``doc`` stands toward ``target`` (supports/opposes/neutral)."""
    return _target_stance.stance_toward(doc, target, client=client or connect(), aliases=aliases)


def stances_toward(
    doc: Document,
    targets: Sequence[str],
    *,
    client: LLMClient | None = None,
    aliases: dict[str, Sequence[str]] | None = None,
) -> list[TargetStance]:
    """Where the author of ``doc`` stands toward each of ``targets``, judged in one call."""
    return _target_stance.stances_toward(doc, targets, client=client or connect(), aliases=aliases)


def check_claim(doc: Document, claim: str, *, client: LLMClient | None = None) -> ClaimCheck:
    """Whether ``doc`` agrees with, disagrees with, discusses or ignores ``claim``."""
    return _claims.check_claim(doc, claim, client=client or connect())


_Inputs = Iterable[Document | DocumentError] | str | os.PathLike[str]


def abatch(
    docs: _Inputs,
    task: _batch.Task,
    out: str | os.PathLike[str],
    *,
    client: LLMClient | None = None,
    question: str | None = None,
    topic: str = DEFAULT_TOPIC,
    concurrency: int = 1,
    on_done: Callable[[str, bool], None] | None = None,
) -> _batch.BatchRun:
    """Run ``task`` over ``docs`` and iterate the documents as they finish.

    ``async for doc_id, outcome in abatch(...)`` (or a plain ``for``) gets each
    document's result (:class:`Summary`, :class:`StanceReport` or :class:`Answer`) or
    the exception it failed with, in completion order, after its JSONL line is on disk.
    At most ``concurrency`` documents run at once. Resume is that of :func:`batch`:
    documents with a result in ``out`` for the same task (and question or topic) are
    skipped, failed ones run again. ``run.report`` holds the counts and usage.

    Args:
        docs: documents (or :class:`DocumentError` entries), or a folder of text files
            or a ``.jsonl`` file of records to load lazily.
        task: ``"summarize"``, ``"stances"`` or ``"ask"``.
        out: the JSONL file to append to.
        client: default :func:`connect`, closed when the run is over.
        question: required for ``ask``.
        topic: for ``stances``.
        concurrency: documents in flight at once (more than 1 pays off with remote
            endpoints; the embedded model serves one request at a time).
        on_done: called with ``(id, ok)`` after each document (progress bars).

    Raises:
        ValueError: ``ask`` without a question, or ``concurrency`` below 1.

    Example:
        >>> async for doc_id, outcome in newsqa.abatch("articles/", "summarize",
        ...                                            "out.jsonl"):  # doctest: +SKIP
        ...     print(doc_id, outcome.headline if not isinstance(outcome, Exception) else outcome)
    """
    items = iter_inputs(Path(docs)) if isinstance(docs, str | os.PathLike) else docs
    owned = client is None
    llm = client or connect()
    try:
        return _batch.BatchRun(
            items,
            task,
            Path(out),
            client=llm,
            question=question,
            topic=topic,
            concurrency=concurrency,
            on_done=on_done,
            close_client=owned,
        )
    except BaseException:
        if owned:
            llm.close()
        raise


def batch(
    docs: _Inputs,
    task: _batch.Task,
    out: str | os.PathLike[str],
    *,
    client: LLMClient | None = None,
    question: str | None = None,
    topic: str = DEFAULT_TOPIC,
    concurrency: int = 1,
    on_done: Callable[[str, bool], None] | None = None,
) -> _batch.BatchReport:
    """Run ``task`` over ``docs``, appending one JSONL line per document to ``out``.

    Each line is written as soon as its document finishes (``{"id", "task", "result",
    "usage"}`` or ``{"id", "task", "error", "error_type", "usage"}``), so an interrupted
    run loses no finished work; re-running with the same ``out`` skips documents that
    already have a result and retries failed ones. A failing document never stops the
    batch. Arguments as for :func:`abatch`.

    Returns:
        The :class:`~newsqa.tasks.batch.BatchReport`: done, failed, skipped, usage, errors.

    Example:
        >>> report = newsqa.batch("articles/", "ask", "answers.jsonl",
        ...                       question="Who met in Geneva?")  # doctest: +SKIP
    """
    return abatch(
        docs,
        task,
        out,
        client=client,
        question=question,
        topic=topic,
        concurrency=concurrency,
        on_done=on_done,
    ).run()
