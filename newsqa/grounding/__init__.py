"""Grounding: numbered passages, sentence-id restriction, lexical checks, focused reading
(:mod:`newsqa.grounding.focus`) and model-text cleaning. No LLM code: the grounded call
lives in the tasks layer (:mod:`newsqa.tasks.calls`)."""

from newsqa.grounding.checks import asked, states, supported_by, topic_share
from newsqa.grounding.limits import MAX_WINDOWS, check_windows
from newsqa.grounding.model_text import cleaned
from newsqa.grounding.passage import DOC_TOKENS, Passage, SentenceIds, Unit, restrict_ids

__all__ = [
    "DOC_TOKENS",
    "MAX_WINDOWS",
    "Passage",
    "SentenceIds",
    "Unit",
    "asked",
    "check_windows",
    "cleaned",
    "restrict_ids",
    "states",
    "supported_by",
    "topic_share",
]
