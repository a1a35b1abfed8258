from __future__ import annotations

import pytest
from pydantic import BaseModel, ValidationError

from newsqa import document_from_text
from newsqa.tasks.grounding import Passage, SentenceIds, states, supported_by, topic_share
from newsqa.types import Document

SOCHI = (
    "“I would like to congratulate him,” Putin remarked at the Valdai International "
    "Discussion Club in Sochi on November 7."
)


class Ids(BaseModel):
    sentences: SentenceIds(1, 2)  # type: ignore[valid-type]


def test_sentence_ids_are_checked_against_the_context() -> None:
    ctx = {"sentence_ids": frozenset({1, 2})}
    assert Ids.model_validate({"sentences": [2]}, context=ctx).sentences == [2]
    with pytest.raises(ValidationError, match="do not exist"):
        Ids.model_validate({"sentences": [3]}, context=ctx)
    with pytest.raises(ValidationError, match="at most 2"):
        Ids.model_validate({"sentences": [1, 2, 1]}, context=ctx)
    with pytest.raises(ValidationError):
        Ids.model_validate({"sentences": []}, context=ctx)


def test_passage_of_several_documents_numbers_on(seed: Document) -> None:
    other = document_from_text("One. Two.", id="other")
    passage = Passage.of([seed, other])
    assert max(passage.numbers) == len(seed.sentences) + 2
    cites = passage.citations([len(seed.sentences) + 2, 1])
    assert [(c.doc, c.text) for c in cites] == [
        (seed.id, seed.sentences[0].text),
        ("other", "Two."),
    ]
    assert passage.evidence([len(seed.sentences) + 1])[0].sentence_id == 1


def test_windows_cover_the_passage_in_order(seed: Document) -> None:
    windows = Passage.of([seed]).windows(200)
    numbers = [n for w in windows for n in sorted(w.numbers)]
    assert numbers == sorted(Passage.of([seed]).numbers)
    assert all(w.tokens() <= 200 for w in windows)


def test_rendered_passage_shows_metadata_escaped() -> None:
    doc = document_from_text("Hi there.", id='a"b', date="2024-01-02", title="<Big> news")
    text = Passage.of([doc]).render()
    assert text.startswith('<document id="a&quot;b" date="2024-01-02" title="‹Big› news">')
    assert "[1] Hi there." in text


@pytest.mark.parametrize(
    ("answer", "expected"),
    [
        ("Valdai International Discussion Club in Sochi", True),
        ("November 7", True),
        ("Sochi has a population of approximately 1.5 million people.", False),
        ("On November 8", False),  # a number the source does not hold
        ("Yes", True),
        ("He congratulated Trump", True),  # stem match: congratulate/congratulated
    ],
)
def test_supported_by(answer: str, expected: bool) -> None:
    assert supported_by(answer, [SOCHI + " He congratulated Trump."]) is expected


@pytest.mark.parametrize(
    ("question", "expected"),
    [
        ("Where did Putin speak on November 7?", 0.75),  # putin, novem, 7 of putin, speak, novem, 7
        ("How many troops does NATO keep in Poland?", 0.0),
        ("Who?", 1.0),
        ("What is the population of Sochi?", 0.0),  # only the name is shared
        ("Where did Putin make his remarks?", 2 / 3),  # putin, remar of putin, make, remar
        ("Does Putin own a dog?", 0.0),  # a name right after the question word is a name
    ],
)
def test_topic_share(question: str, expected: float) -> None:
    assert topic_share(question, [SOCHI]) == pytest.approx(expected)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("Valdai International Discussion Club", True),
        ("Dmitry Ivanov", False),  # an invented name beside a real one
        ("Valdai forum in Moscow", False),  # a name the sentence does not write
        ("the club", True),
        ("November 8", False),
    ],
)
def test_states_needs_every_number_and_name(value: str, expected: bool) -> None:
    assert states(value, [SOCHI + " Dmitry Peskov spoke."]) is expected


def test_every_source_counts_to_its_first_and_last_word() -> None:
    sources = ["Peskov spoke.", "Kremlin spokesperson Dmitry Peskov said so."]
    assert topic_share("Who is the Kremlin spokesperson?", sources) == 1.0
    assert states("Peskov spoke", ["He said so.", "Peskov spoke."])
    assert supported_by("In 2022", ["The war goes on.", "2022 saw it start."])
