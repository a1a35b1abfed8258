"""A text's attitude toward targets (countries, people, organisations).

Unlike :mod:`newsqa.tasks.stances` (what each actor in an article thinks about a
topic) this asks where the *author* stands toward each target: the question behind
social-media and opinion-piece stance detection. All targets are judged in one call
(a small model labels each target better when it sees the others: on RUW training
tweets with Qwen2.5-Coder-1.5B, one call per target confused which side the author
was on). Long texts are first narrowed to the sentences that best match the targets'
names.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import lru_cache
from typing import Any, ClassVar, Literal

from pydantic import BaseModel, Field, create_model

from newsqa.documents.actors import gazetteer
from newsqa.grounding import Passage, SentenceIds
from newsqa.grounding.focus import focus
from newsqa.llm.client import LLMClient
from newsqa.prompts import user_text
from newsqa.tasks.base import Task, needs_client, register
from newsqa.tasks.calls import grounded_call
from newsqa.types import Document, TargetLabel, TargetStance, Usage

__all__ = ["FOCUS_TOKENS", "MAX_TARGETS", "StanceToward", "stance_toward", "stances_toward"]

MAX_TOKENS = 60
MAX_TARGETS = 5
FOCUS_TOKENS = 900
"""Texts longer than this (tokens) are narrowed to the sentences naming the targets."""

_LABELS: dict[str, TargetLabel] = {"favor": "supports", "against": "opposes", "none": "neutral"}


class TargetDraft(BaseModel):
    """The author's attitude toward one target as the model writes it: evidence, label.

    At least one sentence is required: with an optional list the model often gave a
    label and no sentence, and such labels had to be dropped (RUW validation tweets:
    13 of 60 labels lost that way)."""

    sentences: SentenceIds(1, 3)  # type: ignore[valid-type]
    label: Literal["favor", "against", "none"]


@lru_cache(maxsize=32)
def _draft_model(targets: tuple[str, ...]) -> type[BaseModel]:
    """One :class:`TargetDraft` per target, keyed by the target's name."""
    fields: dict[str, Any] = {
        f"t{i}": (TargetDraft, Field(alias=name)) for i, name in enumerate(targets)
    }
    return create_model("TargetDrafts", **fields)


def stances_toward(
    doc: Document,
    targets: Sequence[str],
    *,
    client: LLMClient,
    aliases: dict[str, Sequence[str]] | None = None,
) -> list[TargetStance]:
    """Where the author of ``doc`` stands toward each of ``targets``, in one call.

    Args:
        doc: the text (an article, a post).
        targets: what the attitudes are toward, e.g. ``["Russia", "Ukraine"]``.
        client: the LLM client.
        aliases: other names per target, used to find the relevant sentences of a
            long text; the bundled gazetteer's are added for known actors
            (``"Russia"`` also matches Moscow, the Kremlin, Putin...).

    Returns:
        One :class:`TargetStance` per target, in order, each with the one to three
        sentences the model cites for it.

    Raises:
        ValueError: no target, an empty or repeated one, or more than :data:`MAX_TARGETS`.
        OutputValidationError: the model never produced valid labels.
        LLMError: the endpoint failed.
    """
    names = tuple(t.strip() for t in targets)
    if not names or not all(names) or len(set(names)) != len(names):
        raise ValueError("give one or more distinct, non-empty targets")
    if len(names) > MAX_TARGETS:
        raise ValueError(f"at most {MAX_TARGETS} targets per call")
    passage = Passage.of([doc])
    if not passage.units:
        return [TargetStance(target=t, label="neutral", evidence=[]) for t in names]
    words = [w for t in names for w in (t, *(aliases or {}).get(t, ()), *gazetteer().get(t, ()))]
    shown = focus(passage, " ".join(words), min(FOCUS_TOKENS, client.settings.context_tokens))
    result = grounded_call(
        client,
        "target_stance",
        shown,
        _draft_model(names),
        max_tokens=MAX_TOKENS * len(names),
        targets=" and ".join(user_text("target", n) for n in names),
    )
    out = []
    for i, name in enumerate(names):
        draft: TargetDraft = getattr(result.value, f"t{i}")
        label = _LABELS[draft.label]
        out.append(
            TargetStance(
                target=name,
                label=label,
                evidence=shown.evidence(draft.sentences),
                usage=result.usage if i == 0 else Usage(),
            )
        )
    return out


def stance_toward(
    doc: Document,
    target: str,
    *,
    client: LLMClient,
    aliases: Sequence[str] = (),
) -> TargetStance:
    """Where the author of ``doc`` stands toward one ``target`` (see :func:`stances_toward`).

    Raises:
        ValueError: an empty target.
    """
    if not target.strip():
        raise ValueError("the target is empty")
    return stances_toward(doc, [target], client=client, aliases={target.strip(): aliases})[0]


@register
class StanceToward(Task[TargetStance]):
    """Where the author stands toward the target (aliases: other names for it)."""

    name: ClassVar[str] = "stance-toward"
    prompts: ClassVar[tuple[str, ...]] = ("system", "document", "target_stance.user")

    target: str = ""
    aliases: tuple[str, ...] | None = None

    def __init__(self, target: str = "", aliases: Sequence[str] | None = None) -> None:
        BaseModel.__init__(self, target=target, aliases=None if aliases is None else tuple(aliases))

    def check(self) -> None:
        if not self.target.strip():
            raise ValueError("the stance-toward task needs a target")

    def run(self, doc: Document, *, client: LLMClient | None = None) -> TargetStance:
        return stance_toward(
            doc, self.target, client=needs_client(self, client), aliases=self.aliases or ()
        )
