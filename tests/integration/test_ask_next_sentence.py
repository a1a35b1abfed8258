"""The free-text gate of ``ask`` when the answer sits in the sentence next to the cited
one: the cited sentence holds the question's words, a neighbour states the answer, and
the model is asked to confirm before both are cited. Scripted loopback model over small
articles (sentence numbers as the model sees them):

[1] Leaders gathered on Monday.
[2] The envoys met at the old harbour palace in Geneva.   (the answer)
[3] "We will talk again," the minister said, marking the first round of ceasefire
    talks since the spring offensive.                    (the question's words)
[4] Rain fell on the lake all week.       (or, in ``BOTH``, the answer once more)
"""

from __future__ import annotations

from typing import Any

import pytest

from newsqa import document_from_text
from newsqa.types import Document
from tests.integration.test_ask_gate import _run

LEAD = "Leaders gathered on Monday. "
PALACE = "The envoys met at the old harbour palace in Geneva. "
ROUND = (
    "“We will talk again,” the minister said, marking the first round of ceasefire talks "
    "since the spring offensive. "
)
ONE = document_from_text(LEAD + PALACE + ROUND + "Rain fell on the lake all week.", id="one")
BOTH = document_from_text(
    LEAD + PALACE + ROUND + "The delegations returned to the old harbour palace in Geneva.",
    id="both",
)
# the answer's name is in the cited sentence, its other words in the one before
SPLIT = document_from_text(
    LEAD
    + "The envoys met at the old harbour palace by the lake. "
    + ROUND.replace("the minister said,", "the minister said in Geneva,")
    + "Rain fell on the lake all week.",
    id="split",
)
REDACTED = document_from_text(
    "A source, named in the filing only as XXXX, said the ceasefire talks would resume.",
    id="redacted",
)

ROUND_HELD = "Where was the first round of ceasefire talks since the spring offensive held?"
PLACE = "the old harbour palace in Geneva"
RESUME = "Will the ceasefire talks resume?"

# (article, question, the model's draft, the verification reply if one must be asked,
#  the answer kept (None: abstain), the sentences it cites)
NEXT_SENTENCE = [
    pytest.param(
        ONE,
        ROUND_HELD,
        {"sentences": [3], "answer": PLACE},
        {"stated": True},
        PLACE,
        [2, 3],
        id="answer-in-the-sentence-before-confirmed",
    ),
    pytest.param(
        ONE,
        ROUND_HELD,
        {"sentences": [3], "answer": PLACE},
        {"stated": False},
        None,
        [],
        id="answer-in-the-sentence-before-denied",
    ),
    pytest.param(
        BOTH,
        ROUND_HELD,
        {"sentences": [3], "answer": PLACE},
        {"stated": True},
        PLACE,
        [2, 3],
        id="both-neighbours-state-it-the-first-is-cited",
    ),
    pytest.param(
        ONE,
        ROUND_HELD,
        {"sentences": [3], "answer": "the lakeside harbour hall in Geneva"},
        {"stated": True},
        "the lakeside harbour hall in Geneva",
        [2, 3],
        id="half-of-the-answers-words-in-the-neighbour-is-asked",  # harbour, Geneva: 2 of 4
    ),
    pytest.param(
        ONE,
        ROUND_HELD,
        {"sentences": [3], "answer": "the lakeside hall in Geneva"},
        None,
        None,
        [],
        id="a-third-of-the-answers-words-is-not-asked",  # only Geneva: 1 of 3
    ),
    pytest.param(
        SPLIT,
        ROUND_HELD,
        {"sentences": [3], "answer": PLACE},
        None,
        None,
        [],
        id="answer-split-across-cited-and-neighbour-is-not-asked",
    ),
    pytest.param(
        REDACTED,
        RESUME,
        {"sentences": [1], "answer": None},
        None,
        None,
        [],
        id="null-over-a-sentence-on-the-question",
    ),
    pytest.param(
        REDACTED,
        RESUME,
        {"sentences": [1], "answer": ""},
        None,
        None,
        [],
        id="empty-over-a-sentence-on-the-question",
    ),
]


@pytest.mark.parametrize(("doc", "question", "draft", "verdict", "kept", "cites"), NEXT_SENTENCE)
def test_an_answer_in_the_next_sentence(
    doc: Document,
    question: str,
    draft: dict[str, Any],
    verdict: dict[str, Any] | None,
    kept: str | None,
    cites: list[int],
) -> None:
    answer, requests = _run(doc, question, [draft] + ([verdict] if verdict else []))
    assert answer.answer == kept and answer.answerable is (kept is not None)
    assert answer.usage.calls == (2 if verdict else 1)  # counted when abstaining too
    assert [c.text for c in answer.citations] == [doc.sentence(n).text for n in cites]
    if verdict:  # the check shows the cited sentence and the neighbour, nothing else
        tail = str(requests[1]["messages"][-1]["content"]).split("Task: check")[1]
        shown = [s.id for s in doc.sentences if f"[{s.id}] " in tail]
        assert shown == [2, 3]
