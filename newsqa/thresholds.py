"""Every threshold of newsqa's rules, in one table: the shares of words a check asks
for, the word windows of attribution and the budgets of the small calls.

Each is used by name where it applies (grounding, attribution, the ask gate, the
stance pipeline, extraction); change one here to change the rule.
"""

from __future__ import annotations

__all__ = [
    "BORROWED_SHARE",
    "CHOICE_SHARE",
    "CLAUSE_SHARE",
    "MIN_MENTION_SHARE",
    "NAMES_TOKENS",
    "OPTION_SHARE",
    "QUESTION_SHARE",
    "QUOTE_BLOCK",
    "SPEAKER_WORDS",
    "STATED_SHARE",
    "TEXT_SHARE",
]

STATED_SHARE = 0.5
"""Share of a value's content words (by stem) that sentences must hold to state it
(:func:`~newsqa.grounding.checks.supported_by`, :func:`~newsqa.grounding.checks.states`;
the ask gate's check that the cited sentences state the answer)."""

QUESTION_SHARE = 0.5
"""Share of the question's content words (by stem) that cited sentences must hold."""

OPTION_SHARE = 0.75
"""Share of an option's content words a sentence must hold to state it."""

CHOICE_SHARE = 0.25
"""Share of the question's content words (names count) that a sentence writing the
chosen option must hold when it holds less than :data:`QUESTION_SHARE` without names.
An option is the caller's text, so less is asked than of a free-text answer, but more
than one shared name. Measured on RealTime QA dev (``benchmarks/abstention.py``, 60
questions, the model's drafts unchanged): "any shared word" kept 16 wrong options over
articles without the answer, a quarter 11; over the answer-bearing articles it gave up 6
right options, 5 of them cited from sentences that do not say it (graded by a reader)."""

TEXT_SHARE = 0.75
"""Share of an extracted text value's content words its cited sentences must hold
(names: all)."""

BORROWED_SHARE = 0.6
"""Share of a stance position's content words that a sentence must hold for the
position to count as a copy of it (the model's positions are mostly copied sentences)."""

MIN_MENTION_SHARE = 0.1
"""An actor the model did not name is asked about when named this share as often as
the most named one."""

CLAUSE_SHARE = 0.4
"""A stance position cut off by its length cap ends at its last comma or semicolon
when that keeps at least this share of it (else at its last whole word, with "…")."""

SPEAKER_WORDS = 5
"""Words after an actor's name within which a speech or stance verb makes it the
speaker ("Kyiv, meanwhile, refuses …"), and within which a name before a stance word
makes it the one acting ("an idea Kyiv firmly opposes")."""

QUOTE_BLOCK = 4
"""Most sentences one quotation block may span (an unbalanced quote mark stops there)."""

NAMES_TOKENS = 80
"""Output cap of the call that names the actors taking a position (six names fit)."""
