"""Does an article confirm a claim (e.g. a headline)? Label plus verbatim evidence.

The article is narrowed to the sentences that best match the claim (BM25), so long
articles cost one short call.
"""

from __future__ import annotations

from typing import ClassVar

from pydantic import BaseModel

from newsqa.grounding import Passage, SentenceIds
from newsqa.grounding.focus import focus
from newsqa.llm.client import LLMClient
from newsqa.prompts import user_text
from newsqa.tasks.base import Task, needs_client, register
from newsqa.tasks.calls import grounded_call
from newsqa.types import ClaimCheck, ClaimLabel, Document

__all__ = ["FOCUS_TOKENS", "CheckClaim", "check_claim"]

MAX_TOKENS = 120
FOCUS_TOKENS = 900
"""Sentences shown to the model at most (tokens), best matches for the claim first."""


class ClaimDraft(BaseModel):
    """The verdict as the model writes it: evidence first, then the label."""

    sentences: SentenceIds(0, 3)  # type: ignore[valid-type]
    label: ClaimLabel


def check_claim(doc: Document, claim: str, *, client: LLMClient) -> ClaimCheck:
    """Whether ``doc`` agrees with, disagrees with, discusses or ignores ``claim``.

    Returns:
        A :class:`~newsqa.types.ClaimCheck`; ``agrees`` and ``disagrees`` need at
        least one cited sentence, otherwise the verdict becomes ``discusses``.

    Raises:
        ValueError: an empty claim.
        OutputValidationError: the model never produced a valid verdict.
        LLMError: the endpoint failed.
    """
    if not claim.strip():
        raise ValueError("the claim is empty")
    passage = Passage.of([doc])
    if not passage.units:
        return ClaimCheck(claim=claim, label="unrelated", evidence=[])
    shown = focus(passage, claim, min(FOCUS_TOKENS, client.settings.context_tokens))
    result = grounded_call(
        client, "claim", shown, ClaimDraft, max_tokens=MAX_TOKENS, claim=user_text("claim", claim)
    )
    draft = result.value
    label = draft.label
    if label in ("agrees", "disagrees") and not draft.sentences:
        label = "discusses"
    return ClaimCheck(
        claim=claim, label=label, evidence=shown.evidence(draft.sentences), usage=result.usage
    )


@register
class CheckClaim(Task[ClaimCheck]):
    """Does the article agree with, disagree with, discuss or ignore the claim?"""

    name: ClassVar[str] = "check"
    prompts: ClassVar[tuple[str, ...]] = ("system", "document", "claim.user")

    claim: str = ""

    def __init__(self, claim: str = "") -> None:
        BaseModel.__init__(self, claim=claim)

    def check(self) -> None:
        if not self.claim.strip():
            raise ValueError("the check task needs a claim")

    def run(self, doc: Document, *, client: LLMClient | None = None) -> ClaimCheck:
        return check_claim(doc, self.claim, client=needs_client(self, client))
