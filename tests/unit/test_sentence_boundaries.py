"""Sentence boundaries: a long run of punctuation is one boundary (its time is measured
by ``benchmarks/limits.py``); "no.", "No. 5" and non-English sentences end where a
reader ends them."""

from __future__ import annotations

import pytest

from newsqa.documents import split_sentences


@pytest.mark.parametrize(
    ("tail", "last"),
    [
        (" Then more.", "Then more."),  # the run ends a sentence
        ("!?… Then more.", "Then more."),  # mixed marks: one run
        ("x then more.", "x then more."),  # a run inside a word ends nothing
    ],
)
def test_a_long_punctuation_run_is_one_boundary(tail: str, last: str) -> None:
    """The run is cut only into pieces of at most MAX_SENTENCE_TOKENS; the words after
    it are a sentence of their own only where the run ends one."""
    text = "." * 200_000 + tail
    sentences = split_sentences(text)
    assert all(s.text == text[s.start : s.end] for s in sentences)
    assert sentences[-1].text.endswith(last)
    assert sentences[-1].text.strip(".!?…") == last.strip(".")
    assert all(set(s.text) <= set(".!?…") for s in sentences[:-1])
    assert "".join(s.text for s in sentences) == text.replace(" Then", "Then")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Kyiv said no. Moscow agreed.", ["Kyiv said no.", "Moscow agreed."]),
        ("See No. 5 for details. Done.", ["See No. 5 for details.", "Done."]),
        ("Er sagte nein. Über alles.", ["Er sagte nein.", "Über alles."]),
    ],
)
def test_sentence_boundaries_around_no_and_no_5_and_umlauts(text: str, expected: list[str]) -> None:
    assert [s.text for s in split_sentences(text)] == expected
