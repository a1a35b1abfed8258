"""Metrics: macro-F1, shares with Wilson intervals, McNemar and the label mappings
(pure functions)."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

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


def wilson(hits: int, n: int, z: float = 1.96) -> tuple[float, float] | None:
    """95% Wilson score interval of ``hits / n`` (``None`` when ``n`` is 0)."""
    if n == 0:
        return None
    p = hits / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * ((p * (1 - p) / n + z * z / (4 * n * n)) ** 0.5) / (1 + z * z / n)
    return (round(max(0.0, centre - half), 3), round(min(1.0, centre + half), 3))


def mcnemar_p(only_a: int, only_b: int) -> float:
    """Exact two-sided McNemar p-value from the discordant pair counts of a paired test."""
    n = only_a + only_b
    if n == 0:
        return 1.0
    k = min(only_a, only_b)
    tail = sum(math.comb(n, i) for i in range(k + 1)) / 2**n
    return float(min(1.0, 2 * tail))


def proportion(flags: Sequence[bool]) -> dict[str, Any]:
    """``{"k", "n", "share", "ci95"}`` of the true flags (share rounded to 3 places,
    ``None`` with the interval when ``flags`` is empty)."""
    k, n = sum(1 for f in flags if f), len(flags)
    return {"k": k, "n": n, "share": round(k / n, 3) if n else None, "ci95": wilson(k, n)}


def paired(a: Sequence[bool], b: Sequence[bool]) -> dict[str, Any]:
    """Paired comparison of two systems' per-item hits on the same items: the discordant
    counts (right only by ``a``, only by ``b``) and the exact McNemar p-value."""
    if len(a) != len(b):
        raise ValueError(f"paired flags of unequal length: {len(a)} and {len(b)}")
    only_a = sum(1 for x, y in zip(a, b, strict=True) if x and not y)
    only_b = sum(1 for x, y in zip(a, b, strict=True) if y and not x)
    return {"only_a": only_a, "only_b": only_b, "mcnemar_p": round(mcnemar_p(only_a, only_b), 4)}
