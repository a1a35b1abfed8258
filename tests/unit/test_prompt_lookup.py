"""Drafting by n-gram lookup in the prompt and the reply so far (``newsqa.llm.prompt_lookup``)."""

from __future__ import annotations

import pytest

np = pytest.importorskip("numpy", reason="needs the local extra: numpy")

from newsqa.llm.prompt_lookup import DRAFT_SIZES, DecodeStats, draft  # noqa: E402

SIZES = (0, 1, 2, 3)  # one token after a 1-gram match, two after a 2-gram, three after longer


def _draft(tokens: list[int], sizes: tuple[int, ...] = SIZES) -> list[int]:
    return [int(t) for t in draft(np.array(tokens, dtype=np.intc), sizes)]


def test_the_longest_ngram_that_occurred_before_is_continued() -> None:
    # ends with 7 8 9: "9" alone occurs last at 6 (-> 1), but "7 8 9" occurs at 1
    assert _draft([0, 7, 8, 9, 4, 5, 9, 1, 7, 8, 9]) == [4, 5, 9]


def test_the_latest_occurrence_wins() -> None:
    assert _draft([5, 6, 1, 2, 5, 6, 3, 4, 0, 5, 6]) == [3, 4]


def test_the_draft_size_grows_with_the_match() -> None:
    tokens = [1, 2, 3, 4, 10, 11, 12, 13, 14]
    assert _draft([*tokens, 4]) == [10]
    assert _draft([*tokens, 3, 4]) == [10, 11]
    assert _draft([*tokens, 2, 3, 4]) == [10, 11, 12]
    assert _draft([*tokens, 1, 2, 3, 4]) == [10, 11, 12]  # the last size for longer matches


def test_a_continuation_stops_at_the_end_of_the_context() -> None:
    assert _draft([3, 4, 3, 4, 3]) == [4, 3]  # the reply so far repeats itself
    assert _draft([1, 2, 3, 1, 2]) == [3, 1]


def test_nothing_is_drafted_without_an_earlier_occurrence() -> None:
    assert _draft([1, 2, 3, 4]) == []
    assert _draft([5]) == []
    assert _draft([]) == []


def test_short_matches_draft_nothing_when_their_size_is_zero() -> None:
    assert _draft([1, 2, 3, 9, 3], (0, 0, 2)) == []
    assert _draft([1, 2, 3, 9, 2, 3], (0, 0, 2)) == [9, 2]
    tokens = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10]
    assert _draft([*tokens, 9, 2, 3], DRAFT_SIZES) == []  # 2 tokens: too little to go on
    assert _draft([*tokens, 9, 2, 3, 4], DRAFT_SIZES) == [5, 6, 7, 8]
    assert _draft([*tokens, 9, 1, 2, 3, 4, 5], DRAFT_SIZES) == [6, 7, 8, 9, 10, 9]


def test_stats_add_and_subtract() -> None:
    a = DecodeStats(1, 100, 10, 6, 20, 1.5, 4.0)
    b = DecodeStats(2, 50, 4, 1, 9, 0.5, 1.0)
    assert a + b == DecodeStats(3, 150, 14, 7, 29, 2.0, 5.0)
    assert (a + b) - b == a
    assert a.steps == 14
