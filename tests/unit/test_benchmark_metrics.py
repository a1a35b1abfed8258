"""The quality benchmark's metric and label mappings (benchmarks/quality/metrics.py)."""

from __future__ import annotations

from typing import get_args

import pytest

from benchmarks.quality.metrics import FNC_LABELS, RUW_LABELS, macro_f1, share
from newsqa.types import ClaimLabel, TargetLabel


def test_every_newsqa_label_has_a_dataset_label() -> None:
    assert set(RUW_LABELS) == set(get_args(TargetLabel))
    assert set(FNC_LABELS) == set(get_args(ClaimLabel))
    assert set(RUW_LABELS.values()) == {"FAVOR", "AGAINST", "NONE"}
    assert set(FNC_LABELS.values()) == {"agree", "disagree", "discuss"}


def test_macro_f1_matches_a_hand_computed_case() -> None:
    gold = ["a", "a", "b", "c"]
    pred = ["a", "b", "b", "b"]
    # a: P=1 R=.5 F=2/3; b: P=1/3 R=1 F=.5; c: 0
    assert macro_f1(gold, pred, ["a", "b", "c"]) == pytest.approx((2 / 3 + 0.5 + 0) / 3)
    assert macro_f1(gold, gold, ["a", "b", "c"]) == 1.0


def test_share_of_empty_is_none() -> None:
    assert share([]) is None and share([True, False]) == 0.5
