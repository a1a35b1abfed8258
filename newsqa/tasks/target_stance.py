"""A text's attitude toward a target (a country, a person, an organisation).

Unlike :mod:`newsqa.tasks.stances` (what each actor in an article thinks about a
topic) this asks where the *author* stands toward one target: the question behind
social-media and opinion-piece stance detection. Long texts are first narrowed to
the sentences that best match the target's names.
"""

from __future__ import annotations

from collections.abc import Sequence

from pydantic import BaseModel

from newsqa.documents.actors import gazetteer
from newsqa.llm.client import LLMClient
from newsqa.llm.structured import generate
from newsqa.prompts import messages
from newsqa.tasks.focus import focus
from newsqa.tasks.grounding import Passage, SentenceIds, restrict_ids
from newsqa.types import Document, TargetLabel, TargetStance

__all__ = ["FOCUS_TOKENS", "stance_toward"]

MAX_TOKENS = 120
FOCUS_TOKENS = 900
"""Texts longer than this (tokens) are narrowed to the sentences naming the target."""


class TargetDraft(BaseModel):
    """The author's attitude as the model writes it: evidence first, then the label."""

    sentences: SentenceIds(0, 3)  # type: ignore[valid-type]
    label: TargetLabel


def stance_toward(
    doc: Document,
    target: str,
    *,
    client: LLMClient,
    aliases: Sequence[str] = (),
) -> TargetStance:
    """Where the author of ``doc`` stands toward ``target``, with evidence.

    Args:
        doc: the text (an article, a post).
        target: what the attitude is toward, e.g. ``"Russia"``.
        client: the LLM client.
        aliases: other names of the target; the bundled gazetteer's are added for
            known actors (``"Russia"`` also matches Moscow, the Kremlin, Putin...).

    Returns:
        ``supports`` or ``opposes`` only with at least one cited sentence; a label
        without evidence becomes ``neutral``.

    Raises:
        ValueError: an empty target.
        OutputValidationError: the model never produced a valid label.
        LLMError: the endpoint failed.
    """
    if not target.strip():
        raise ValueError("the target is empty")
    names = list(dict.fromkeys([target.strip(), *aliases, *gazetteer().get(target.strip(), ())]))
    passage = Passage.of([doc])
    if not passage.units:
        return TargetStance(target=target, label="neutral", evidence=[])
    shown = focus(passage, " ".join(names), min(FOCUS_TOKENS, client.settings.context_tokens))
    result = generate(
        client,
        messages(
            "target_stance",
            documents=shown.render(),
            target=target.strip(),
            aliases=", ".join(names[:8]),
        ),
        TargetDraft,
        max_tokens=MAX_TOKENS,
        context=shown.context(),
        schema_hook=restrict_ids(shown.numbers),
    )
    draft = result.value
    label: TargetLabel = draft.label if draft.sentences else "neutral"
    return TargetStance(
        target=target,
        label=label,
        evidence=shown.evidence(draft.sentences),
        usage=result.usage,
    )
