"""The model calls tasks make: one grounded call for every call that cites sentences of a
passage, built on one plain call that renders a prompt and validates the reply."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any, TypeVar

from pydantic import BaseModel

from newsqa.grounding.passage import Passage, restrict_ids
from newsqa.llm.client import LLMClient
from newsqa.llm.structured import Structured, generate
from newsqa.prompts import messages

__all__ = ["grounded_call", "model_call"]

M = TypeVar("M", bound=BaseModel)


def model_call(
    client: LLMClient,
    task: str,
    output_type: type[M],
    *,
    max_tokens: int,
    ids: Iterable[int] | None = None,
    context: Mapping[str, Any] | None = None,
    max_reasks: int | None = None,
    turns: Sequence[tuple[str, str]] = (),
    **values: str,
) -> Structured[M]:
    """Prompt ``task`` filled with ``values``, answered as an ``output_type``.

    With ``ids``, the reply's sentence-number arrays may only hold them, in the schema
    sent (constrained decoding) and in validation (re-asked otherwise). ``context``
    adds entries for the output type's own validators.
    """
    allowed = None if ids is None else frozenset(ids)
    merged = {**({} if allowed is None else {"sentence_ids": allowed}), **(context or {})}
    return generate(
        client,
        messages(task, turns=turns, **values),
        output_type,
        max_tokens=max_tokens,
        context=merged or None,
        schema_hook=None if allowed is None else restrict_ids(allowed),
        max_reasks=max_reasks,
    )


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
    turns: Sequence[tuple[str, str]] = (),
    **values: str,
) -> Structured[M]:
    """The one grounded model call every task makes.

    The prompt is task ``task`` with ``passage`` rendered as its ``documents``
    (plus ``values``); sentence numbers in the reply may only be ``ids`` (default:
    every number shown).
    """
    return model_call(
        client,
        task,
        output_type,
        max_tokens=max_tokens,
        ids=passage.numbers if ids is None else ids,
        context=context,
        max_reasks=max_reasks,
        turns=turns,
        documents=passage.render(),
        **values,
    )
