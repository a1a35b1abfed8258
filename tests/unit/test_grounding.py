from __future__ import annotations

import pytest
from pydantic import BaseModel, ValidationError, create_model

from newsqa import document_from_text
from newsqa.grounding import (
    Passage,
    SentenceIds,
    states,
    supported_by,
    topic_share,
)
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
    with pytest.raises(ValidationError) as info:
        Ids.model_validate({"sentences": [1, 1]}, context=ctx)
    assert info.value.errors()[0]["msg"] == "Value error, a sentence number is repeated"
    with pytest.raises(ValidationError):
        Ids.model_validate({"sentences": []}, context=ctx)


def test_sentence_ids_default_to_zero_to_four_checked_numbers() -> None:
    # built here, not at import, so that every part of the annotation is exercised
    model = create_model("Cited", sentences=(SentenceIds(), ...))
    assert model.model_json_schema()["properties"]["sentences"] == {
        "description": "Numbers of the supporting sentences.",
        "items": {"type": "integer"},
        "maxItems": 4,
        "minItems": 0,
        "title": "Sentences",
        "type": "array",
        "x-sentence-ids": True,
    }
    ctx = {"sentence_ids": frozenset(range(1, 6))}
    assert model.model_validate({"sentences": []}, context=ctx).sentences == []  # type: ignore[attr-defined]
    for bad in ([1, 2, 3, 4, 5], [6]):
        with pytest.raises(ValidationError):
            model.model_validate({"sentences": bad}, context=ctx)


def test_passage_of_several_documents_numbers_on(seed: Document) -> None:
    other = document_from_text("One. Two.", id="other")
    passage = Passage.of([seed, other])
    assert max(passage.numbers) == len(seed.sentences) + 2
    cites = passage.evidence([len(seed.sentences) + 2, 1])
    assert [(c.doc, c.text) for c in cites] == [
        (seed.id, seed.sentences[0].text),
        ("other", "Two."),
    ]
    assert passage.evidence([len(seed.sentences) + 1])[0].sentence_id == 1
    assert passage.context() == {"sentence_ids": frozenset(range(1, len(seed.sentences) + 3))}
    last = len(seed.sentences) + 2
    assert passage.lines([last, last - 1]) == f"[{last}] Two.\n[{last - 1}] One."


def test_windows_cover_the_passage_in_order(seed: Document) -> None:
    windows = Passage.of([seed]).windows(200)
    numbers = [n for w in windows for n in sorted(w.numbers)]
    assert numbers == sorted(Passage.of([seed]).numbers)
    assert all(w.tokens() <= 200 for w in windows)


def test_windows_leave_room_for_each_documents_delimiters() -> None:
    a = document_from_text("Hello world. The vote passed.", id="a")
    b = document_from_text("It rained. Word.", id="b")
    passage = Passage.of([a, b])
    assert passage.costs() == [7, 8, 8, 6]
    assert passage.tokens() == 29 + 2 * 16
    # 47 tokens less 16 for each of the two documents: 15 per window
    assert [sorted(w.numbers) for w in passage.windows(47)] == [[1, 2], [3, 4]]


def test_fits_is_exact_at_the_budget() -> None:
    one = Passage.of([document_from_text("Hello world.")])  # more bytes than tokens
    assert one.tokens() == 7 + 16 and one.fits(23) and not one.fits(22)
    a, b = (document_from_text("Go. No.", id=i) for i in "ab")
    two = Passage.of([a, b])
    assert two.tokens() == 4 * 6 + 2 * 16 and two.fits(56) and not two.fits(55)


@pytest.mark.parametrize(
    ("ids", "message"),
    [
        ("aab", "documents need distinct ids; repeated: a"),
        ("abcab", "documents need distinct ids; repeated: a, b"),
    ],
)
def test_a_passage_refuses_repeated_document_ids(ids: str, message: str) -> None:
    with pytest.raises(ValueError) as info:
        Passage.of([document_from_text("One.", id=i) for i in ids])
    assert str(info.value) == message


def test_three_documents_are_numbered_on() -> None:
    docs = [
        document_from_text(t, id=i)
        for t, i in (("One. Two.", "a"), ("Three.", "b"), ("Four.", "c"))
    ]
    assert [(u.number, u.doc.id, u.sentence.id) for u in Passage.of(docs).units] == [
        (1, "a", 1),
        (2, "a", 2),
        (3, "b", 1),
        (4, "c", 1),
    ]


def test_rendered_passage_shows_metadata_escaped() -> None:
    doc = document_from_text("Hi there. Bye.", id='a"b', date="2024-01-02", title="<Big> news")
    other = document_from_text("Hello.", id="c")
    assert Passage.of([doc, other]).render() == (
        '<document id="a&quot;b" date="2024-01-02" title="‹Big› news">\n'
        "[1] Hi there.\n[2] Bye.\n</document>\n"
        '<document id="c">\n[3] Hello.\n</document>'
    )


@pytest.mark.parametrize(
    ("answer", "expected"),
    [
        ("Valdai International Discussion Club in Sochi", True),
        ("November 7", True),
        ("Sochi has a population of approximately 1.5 million people.", False),
        ("On November 8", False),  # a number the source does not hold
        ("Yes", True),
        ("He congratulated Trump", True),  # stem match: congratulate/congratulated
        ("congratulates", True),  # a stem the source holds, not the word
        ("congratulates reporters", True),  # exactly half of the words
        ("congratulates reporters loudly", False),
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
        # the first word is capitalised as the first, not as a name: "remarks" is a plain
        # word (remar, putin of remar, putin, made)
        ("Remarks by Putin were made where?", 2 / 3),
    ],
)
def test_topic_share(question: str, expected: float) -> None:
    assert topic_share(question, [SOCHI]) == pytest.approx(expected)


@pytest.mark.parametrize(
    ("question", "source", "expected"),
    [
        ("What aid did the US send?", "The U.S. sent aid.", 2 / 3),  # aid, us of aid, us, send
        ("What aid did the U.S. send?", "The US sent aid.", 2 / 3),
        ("What is the population of the U.S.?", "The US sent aid.", 0.0),  # a name only
        ("Who received the $8.5 billion grant?", "Intel won an $8.5 billion grant.", 3 / 4),
        ("Who received the $8.5 billion grant?", "Intel won a $5 billion grant on the 8th.", 2 / 4),
    ],
)
def test_topic_share_reads_abbreviations_and_numbers_whole(
    question: str, source: str, expected: float
) -> None:
    assert topic_share(question, [source]) == pytest.approx(expected)


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


def test_a_passages_text_is_its_sentences_joined() -> None:
    from newsqa.documents.load import document_from_text
    from newsqa.grounding import Passage

    docs = [document_from_text("Kyiv said no. Moscow waited.", id="a")]
    docs.append(document_from_text("Talks stalled.", id="b"))
    passage = Passage.of(docs)
    assert passage.text == "Kyiv said no. Moscow waited. Talks stalled."
    assert passage.subset([3]).text == "Talks stalled."
