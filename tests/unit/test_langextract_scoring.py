"""The scoring of the LangExtract comparison (``benchmarks.langextract_compare``):
who counts as the same speaker, which figure is the gold one, one match per gold
value, spans that hold the value, and paired bootstrap intervals."""

from __future__ import annotations

from benchmarks.langextract_compare import (
    Case,
    Counts,
    Prediction,
    bootstrap,
    match,
    same_figure,
    same_speaker,
    score,
)


def test_a_speaker_is_the_same_by_whole_or_last_name_only() -> None:
    assert same_speaker("Mauricio Pochettino", "Pochettino")
    assert same_speaker("Kemp’s", "Ross Kemp")
    assert not same_speaker("Ross Kemp", "Ross Barkley")
    assert not same_speaker("", "Kemp")


def test_a_figure_matches_by_value_and_unit() -> None:
    assert same_figure((1.0, "billion pounds", ""), (1e9, "pounds"))
    assert same_figure((None, "", "£1bn"), (1e9, "pounds"))
    assert same_figure((1500, "m", "1500m"), (1500, "metres"))
    assert not same_figure((2, "years", "two years"), (2, "weeks"))
    assert not same_figure((3, "weeks", "three weeks"), (2, "weeks"))


def test_each_gold_value_is_matched_once() -> None:
    assert match("speakers", ["Kemp", "Ross Kemp", "Muir"], ["Kemp"]) == [0, None, None]
    case = Case("a", "speakers", ["Adria Pearce", "Andy Bostock"])
    found = Prediction([("Adria Pearce", "Adria Pearce"), ("Bostock", "Meereen"), ("Kim", None)])
    assert score(case, found) == Counts(tp=2, predicted=3, gold=2, spans=1)


def test_the_bootstrap_pairs_the_systems_on_the_same_cases() -> None:
    same = [Counts(1, 1, 2), Counts(0, 1, 1), Counts(2, 2, 2)]
    figures = bootstrap({"langextract": same, "newsqa": same})
    assert figures["newsqa"]["precision"] == 3 / 4 and figures["newsqa"]["recall"] == 3 / 5
    assert figures["newsqa"]["precision_minus_langextract_ci95"] == [0.0, 0.0]
    low, high = figures["newsqa"]["precision_ci95"]
    assert low < 0.75 < high
