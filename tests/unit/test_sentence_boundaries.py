"""Sentence boundaries: a run of punctuation is split in linear time; "no.", "No. 5" and
non-English sentences end where a reader ends them."""

from __future__ import annotations

import time

import pytest

from newsqa.documents import split_sentences


def test_long_punctuation_runs_split_in_linear_time() -> None:
    start = time.perf_counter()
    split_sentences("." * 200_000 + " Then more.")
    assert time.perf_counter() - start < 2.0


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Kyiv said no. Moscow agreed.", ["Kyiv said no.", "Moscow agreed."]),
        ("See No. 5 for details. Done.", ["See No. 5 for details.", "Done."]),
        ("Er sagte nein. Über alles.", ["Er sagte nein.", "Über alles."]),
    ],
)
def test_sentence_boundaries_around_no_and_no_5_and_umlauts(
    text: str, expected: list[str]
) -> None:
    assert [s.text for s in split_sentences(text)] == expected








