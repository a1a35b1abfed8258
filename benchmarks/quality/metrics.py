"""Metrics: macro-F1, accuracy and the label mappings (pure functions)."""

from __future__ import annotations

from collections.abc import Sequence

# newsqa's labels → the datasets' labels (documented in the README).
RUW_LABELS = {"supports": "FAVOR", "opposes": "AGAINST", "neutral": "NONE"}
FNC_LABELS = {
    "agrees": "agree",
    "disagrees": "disagree",
    "discusses": "discuss",
    "unrelated": "discuss",  # only related pairs are scored; "unrelated" is the neutral miss
}


def macro_f1(gold: Sequence[str], pred: Sequence[str], labels: Sequence[str]) -> float:
    """Unweighted mean of per-label F1 (a label absent from both lists scores 0)."""
    scores = []
    for label in labels:
        tp = sum(1 for g, p in zip(gold, pred, strict=True) if g == p == label)
        fp = sum(1 for g, p in zip(gold, pred, strict=True) if p == label and g != label)
        fn = sum(1 for g, p in zip(gold, pred, strict=True) if g == label and p != label)
        scores.append(2 * tp / (2 * tp + fp + fn) if tp else 0.0)
    return sum(scores) / len(scores)


def share(flags: Sequence[bool]) -> float | None:
    """Fraction of true flags (``None`` for an empty list)."""
    return sum(flags) / len(flags) if flags else None
