"""The benchmarks' pure helpers: metrics and label mappings (benchmarks/quality/metrics.py),
the baseline's lenient reply parser and the extraction benchmark's schema."""

from __future__ import annotations

from pathlib import Path
from typing import Literal, get_args

import pytest
from pydantic import BaseModel, ValidationError

from benchmarks import abstention
from benchmarks.extract_fields import answer_model, holds, holds_words
from benchmarks.quality.baseline import lenient_instance
from benchmarks.quality.metrics import (
    FNC_LABELS,
    RUW_LABELS,
    macro_f1,
    paired,
    proportion,
    share,
    wilson,
)
from newsqa.llm.structured import strict_schema
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


@pytest.mark.parametrize(
    ("hits", "n", "interval"),
    [
        # Newcombe (1998), Statistics in Medicine 17:857, Table II, method 3 (Wilson score)
        (81, 263, (0.255, 0.366)),
        (15, 148, (0.062, 0.160)),
        (0, 20, (0.000, 0.161)),
        (1, 29, (0.006, 0.172)),
        # by hand from the score formula
        (2, 4, (0.150, 0.850)),
        (29, 29, (0.883, 1.000)),
    ],
)
def test_wilson_interval_matches_published_values(
    hits: int, n: int, interval: tuple[float, float]
) -> None:
    assert wilson(hits, n) == pytest.approx(interval, abs=0.0011)


def test_proportion_carries_n_and_a_wilson_interval() -> None:
    assert proportion([True, True, False, False]) == {
        "k": 2,
        "n": 4,
        "share": 0.5,
        "ci95": pytest.approx((0.150, 0.850), abs=0.0011),
    }
    assert proportion([]) == {"k": 0, "n": 0, "share": None, "ci95": None}
    assert wilson(0, 0) is None


def test_paired_counts_only_the_discordant_items() -> None:
    a = [True, True, True, False, False]
    b = [True, False, False, True, False]
    assert paired(a, b) == {"only_a": 2, "only_b": 1, "mcnemar_p": 1.0}
    assert paired([True] * 8, [False] * 8)["mcnemar_p"] == round(2 / 2**8, 4)
    with pytest.raises(ValueError, match="unequal"):
        paired([True], [])


class _Meeting(BaseModel):
    place: str | None = None
    year: int | None = None
    answer: Literal["Boeing", "Amazon"] | None = None


@pytest.mark.parametrize(
    "reply",
    [
        '{"place": "Oslo", "year": 2024, "answer": "Boeing"}',
        '```json\n{"place": "Oslo", "year": 2024, "answer": "Boeing"}\n```',
        'Here it is: {"place": "Oslo", "year": 2024, "answer": "Boeing"} Hope that helps.',
    ],
)
def test_lenient_instance_finds_the_object_in_the_reply(reply: str) -> None:
    value, dropped = lenient_instance(reply, _Meeting)
    assert value == _Meeting(place="Oslo", year=2024, answer="Boeing") and dropped == []


@pytest.mark.parametrize("reply", ["", "Boeing", '{"answer": "Boeing"', '["Boeing"]', "null"])
def test_lenient_instance_without_a_json_object_is_none(reply: str) -> None:
    assert lenient_instance(reply, _Meeting) == (None, [])


def test_lenient_instance_drops_only_the_fields_that_fail() -> None:
    reply = '{"place": "Oslo", "year": "next year", "answer": "Walmart", "extra": 1}'
    value, dropped = lenient_instance(reply, _Meeting)
    assert value == _Meeting(place="Oslo") and dropped == ["answer", "year"]


def test_lenient_instance_is_none_when_a_required_field_is_missing() -> None:
    class Required(BaseModel):
        name: str

    assert lenient_instance('{"name": 3}', Required) == (None, ["name"])
    assert lenient_instance("{}", Required) == (None, [])


def test_answer_model_accepts_exactly_the_choices_or_none() -> None:
    model = answer_model("Which company?", ["Boeing", "Home Depot"])
    assert model().answer is None  # type: ignore[attr-defined]
    assert model(answer="Home Depot").answer == "Home Depot"  # type: ignore[attr-defined]
    with pytest.raises(ValidationError):
        model(answer="home depot")
    field = strict_schema(model)["properties"]["answer"]
    assert field["description"] == "Which company?"
    assert {"enum": ["Boeing", "Home Depot"], "type": "string"} in field["anyOf"]


def test_holds_is_case_insensitive_substring() -> None:
    assert holds(["Workers at BOEING ended the strike."], "Boeing")
    assert not holds(["Workers ended the strike."], "Boeing") and not holds([], "Boeing")


def test_holds_words_needs_every_word_of_the_answer_in_any_order() -> None:
    cited = ["CLEVELAND — The Cavaliers matched their best start.", "They beat Milwaukee."]
    assert holds_words(cited, "Cleveland Cavaliers") and not holds(cited, "Cleveland Cavaliers")
    assert not holds_words(cited, "Milwaukee Bucks")  # "Bucks" is not there
    assert not holds_words(["Cavaliersville won."], "Cavaliers")  # whole words only
    assert not holds_words(cited, "") and not holds_words([], "Cavaliers")


def _abstention_row(qid: str, right: bool, abstained: bool) -> dict[str, object]:
    pred = {"abstained": abstained, "choice": 0 if right else 1, "cited_docs": ["a"]}
    return {
        "id": qid,
        "condition": "answer/choice",
        "gold": [0],
        "gold_text": "x",
        "gold_docs": ["a"],
        "newsqa": pred,
        "baseline": {"abstained": False, "choice": 0},
    }


def test_abstention_scores_each_half_of_the_labelled_items_on_its_own() -> None:
    rows = [
        _abstention_row("q1", right=True, abstained=False),
        _abstention_row("q2", right=False, abstained=True),
        _abstention_row("q3", right=False, abstained=True),
        _abstention_row("q4", right=True, abstained=False),
    ]
    figures = abstention.score(rows, {"q1": True, "q2": False, "q3": False})
    assert figures["answer/choice"]["newsqa"]["accuracy"]["k"] == 2
    states = figures[f"answer/choice | {abstention.STATES}"]
    does_not = figures[f"answer/choice | {abstention.DOES_NOT}"]
    assert states["n"] == 1 and states["newsqa"]["accuracy"]["k"] == 1
    assert does_not["n"] == 2 and does_not["newsqa"]["false_abstention"]["k"] == 2
    assert does_not["paired"]["only_baseline"] == 2
    assert set(abstention.score(rows)) == {"answer/choice"}


def test_abstention_labels_are_read_by_question_id(tmp_path: Path) -> None:
    labels = tmp_path / "stated.jsonl"
    labels.write_text('{"id": "q1", "stated": true}\n{"id": "q2", "stated": false}\n')
    assert abstention.stated_labels(labels) == {"q1": True, "q2": False}
    assert abstention.stated_labels(tmp_path / "missing.jsonl") == {}
