"""The abstention gate of ``ask``, table-driven, against adversarial replies of a
scripted endpoint on the seed article (sentence numbers as the model sees them):

[2] Putin remarked at the Valdai International Discussion Club in Sochi on November 7.
[3] ... marking his first public statements since Trump's win ...
[4] Putin also commended Trump's conduct during the July 14 campaign rally ...
[5] Putin described Trump's response as "courageous, like a real man," ...
[7] the Kremlin responded positively to Trump's claim ... "within 24 hours" ...
[8] Kremlin spokesperson Dmitry Peskov acknowledged Trump's intent ...
[9] "If the new administration seeks peace ... it will be a step forward," Peskov remarked ...
[10] ... Moscow has repeatedly rejected U.S. allegations ...
[14] Since the beginning of the conflict in 2022, the U.S. has committed over 64.1
     billion dollars in military aid to Ukraine ...
"""

from __future__ import annotations

from typing import Any

import pytest

from newsqa import ask
from newsqa.tasks.ask import ask as ask_task
from newsqa.types import Answer, Document
from tests.conftest import fake_client
from tests.support.fake_openai import FakeOpenAI, Reply

REMARKS = "Where did Putin make his first public remarks after Trump's win?"
SPOKESPERSON = "Who is the Kremlin spokesperson?"
AID = "How much military aid has the U.S. committed to Ukraine?"
PEACE = "How does the Kremlin judge peace efforts?"  # kremlin and peace: [8]; peace: [9]
FORUM = "Which forum did Putin address in Sochi?"  # forum, address: [5]; Sochi: [2]
SPEECH = "Who commended the courageous speech of Trump?"  # half its words in [4], and in [5]


def _messages(request: dict[str, Any]) -> list[dict[str, str]]:
    return list(request["messages"])


def _run(
    seed: Document, question: str, replies: list[dict[str, Any]], choices: list[str] | None = None
) -> tuple[Answer, list[dict[str, Any]]]:
    with FakeOpenAI([Reply.json(r) for r in replies]) as server:
        answer = ask(seed, question, client=fake_client(server), choices=choices)
        requests = list(server.requests)
    assert len(requests) == len(replies), "every scripted reply is used, and no more"
    return answer, requests


# (question, the model's draft, the verification reply if one must be asked,
#  the answer kept (None: abstain), the sentences it cites)
FREE_TEXT = [
    pytest.param(
        SPOKESPERSON,
        {"sentences": [8], "answer": "Dmitry Peskov"},
        None,
        "Dmitry Peskov",
        [8],
        id="stated-and-on-topic",
    ),
    pytest.param(
        SPOKESPERSON,
        {"sentences": [9], "answer": "Dmitry Peskov"},
        None,
        "Dmitry Peskov",
        [8],
        id="neighbouring-citation-is-re-cited",
    ),
    pytest.param(
        SPOKESPERSON,
        {"sentences": [8], "answer": "Dmitry Ivanov"},
        None,
        None,
        [],
        id="invented-name-beside-a-real-one",
    ),
    pytest.param(
        SPOKESPERSON,
        {"sentences": [8], "answer": "the Kremlin spokesperson"},
        None,
        None,
        [],
        id="answer-only-repeats-the-question",
    ),
    pytest.param(
        AID,
        {"sentences": [14], "answer": "64.1 billion dollars since 2023"},
        None,
        None,
        [],
        id="one-number-of-two-is-not-written",
    ),
    pytest.param(
        AID,
        {"sentences": [14], "answer": "$12 billion"},
        None,
        None,
        [],
        id="a-number-the-sentence-contradicts",
    ),
    pytest.param(
        "What is the population of Sochi?",
        {"sentences": [2], "answer": "Sochi on November 7"},
        None,
        None,
        [],
        id="copied-fragment-sharing-one-name",
    ),
    pytest.param(
        "When did Putin announce new troops for the Kursk region?",
        {"sentences": [2], "answer": "November 7"},
        None,
        None,
        [],
        id="stated-but-the-question-barely-present",
    ),
    pytest.param(
        REMARKS,
        {"sentences": [2], "answer": "Valdai International Discussion Club in Sochi"},
        {"stated": True},
        "Valdai International Discussion Club in Sochi",
        [2],
        id="question-words-in-the-next-sentence-confirmed",
    ),
    pytest.param(
        REMARKS,
        {"sentences": [2], "answer": "Valdai International Discussion Club in Sochi"},
        {"stated": False},
        None,
        [],
        id="question-words-in-the-next-sentence-denied",
    ),
    pytest.param(
        REMARKS,
        {"sentences": [3], "answer": "Valdai International Discussion Club in Sochi"},
        {"stated": True},
        "Valdai International Discussion Club in Sochi",
        [2, 3],
        id="answer-in-the-sentence-before-the-cited-one-confirmed",
    ),
    pytest.param(
        REMARKS,
        {"sentences": [3], "answer": "Valdai International Discussion Club in Sochi"},
        {"stated": False},
        None,
        [],
        id="answer-in-the-sentence-before-the-cited-one-denied",
    ),
    pytest.param(
        REMARKS,
        {"sentences": [3], "answer": "the Kremlin in Moscow"},
        None,
        None,
        [],
        id="no-neighbour-states-the-answer",
    ),
    pytest.param(
        REMARKS,
        {"sentences": [1], "answer": "Valdai International Discussion Club in Sochi"},
        None,
        None,
        [],
        id="answer-beside-a-sentence-off-the-question",  # [1]: a third of its words
    ),
    pytest.param(
        "Where did Putin speak about the Kremlin spokesperson Peskov?",
        {"sentences": [5], "answer": "the Valdai forum"},
        None,
        None,
        [],
        id="question-words-only-in-a-distant-sentence",
    ),
    pytest.param(
        "Did the Kremlin welcome the victory of Trump?",
        {"sentences": [7], "answer": "Yes"},
        {"stated": True},
        "Yes",
        [7],
        id="yes-no-answer-sharing-only-names-confirmed",
    ),
    pytest.param(
        "Did the Kremlin welcome the victory of Trump?",
        {"sentences": [7], "answer": "positively"},
        None,
        None,
        [],
        id="content-answer-sharing-only-names",
    ),
    pytest.param(
        PEACE,
        {"sentences": [9], "answer": "a step forward"},
        {"stated": True},
        "a step forward",
        [9],
        id="question-words-in-the-previous-sentence-confirmed",
    ),
    pytest.param(
        PEACE,
        {"sentences": [10], "answer": "rejected U.S. allegations"},
        None,
        None,
        [],
        id="question-words-two-sentences-back",
    ),
    pytest.param(
        SPEECH,
        {"sentences": [4], "answer": "Putin"},
        None,
        "Putin",
        [4],
        id="half-of-the-question-is-enough",
    ),
    pytest.param(
        SPEECH,
        {"sentences": [3], "answer": "Putin"},
        None,
        "Putin",
        [5],
        id="re-cited-sentence-holding-half-of-the-question",
    ),
    pytest.param(
        AID,
        {"sentences": [13], "answer": "military support"},
        None,
        None,
        [],
        id="half-stated-answer-is-not-re-cited",
    ),
    pytest.param(
        SPOKESPERSON,
        {"sentences": [], "answer": None},
        None,
        None,
        [],
        id="null",
    ),
    pytest.param(
        # "this week" names when, not what (recency checks it): the sentence holds the
        # question's other words (club, Putin; half of them) and is kept without a check
        "Which club heard Putin speak this week?",
        {"sentences": [2], "answer": "Valdai International Discussion Club"},
        None,
        "Valdai International Discussion Club",
        [2],
        id="time-words-are-not-the-topic",
    ),
    pytest.param(
        # [2] names the club but not the forum or the address; [5] ("his address at the
        # Valdai forum") holds the question's words and names the answer: both are cited
        # once the model confirms
        FORUM,
        {"sentences": [2], "answer": "Valdai International Discussion Club"},
        {"stated": True},
        "Valdai International Discussion Club",
        [2, 5],
        id="another-sentence-on-the-question-names-the-answer",
    ),
    pytest.param(
        FORUM,
        {"sentences": [2], "answer": "Valdai International Discussion Club"},
        {"stated": False},
        None,
        [],
        id="another-sentence-names-the-answer-denied",
    ),
    pytest.param(
        FORUM,
        {"sentences": [2], "answer": "November"},  # no sentence on the question names it
        None,
        None,
        [],
        id="no-sentence-on-the-question-names-the-answer",
    ),
    pytest.param(
        # [5] names Valdai and holds exactly half of the question's words (forum and
        # address, of forum, leader, address, Russian): half is enough, as for a cited one
        "Which forum did the Russian leader address?",
        {"sentences": [2], "answer": "Valdai International Discussion Club"},
        {"stated": True},
        "Valdai International Discussion Club",
        [2, 5],
        id="naming-sentence-holding-half-of-the-question",
    ),
    pytest.param(
        "Which forum did the Russian leader address in the city?",  # [5]: two of five
        {"sentences": [2], "answer": "Valdai International Discussion Club"},
        None,
        None,
        [],
        id="naming-sentence-holding-less-than-half",
    ),
]


@pytest.mark.parametrize(("question", "draft", "verdict", "kept", "cites"), FREE_TEXT)
def test_free_text_gate(
    seed: Document,
    question: str,
    draft: dict[str, Any],
    verdict: dict[str, Any] | None,
    kept: str | None,
    cites: list[int],
) -> None:
    answer, _ = _run(seed, question, [draft] + ([verdict] if verdict else []))
    assert answer.answer == kept and answer.answerable is (kept is not None)
    assert answer.usage.calls == (2 if verdict else 1)  # counted when abstaining too
    assert [c.text for c in answer.citations] == [seed.sentence(n).text for n in cites]


AID_CHOICES = ["$12 billion", "$64.1 billion", "$100 billion"]
REACTION = "How did the Kremlin react to Trump's claim that he could end the conflict?"
REACTIONS = ["With approval", "With outrage"]

# (question, choices, the model's draft, the verification reply if one must be asked,
#  the option kept (None: abstain), the sentences it cites)
CHOICE = [
    pytest.param(AID, AID_CHOICES, {"sentences": [14], "choice": "B"}, None, 1, [14], id="stated"),
    pytest.param(
        AID,
        AID_CHOICES,
        {"sentences": [14], "choice": "A"},
        {"stated": True},
        1,
        [14],
        id="cited-sentence-states-another-option-confirmed",
    ),
    pytest.param(
        AID,
        AID_CHOICES,
        {"sentences": [14], "choice": "A"},
        {"stated": False},
        None,
        [],
        id="cited-sentence-states-another-option-denied",
    ),
    pytest.param(
        "What kind of aid has the U.S. committed to Ukraine?",
        ["humanitarian aid", "military aid"],
        {"sentences": [14], "choice": "A"},
        {"stated": True},
        1,
        [14],
        id="option-sharing-one-word-of-two-is-not-stated",
    ),
    pytest.param(
        SPOKESPERSON,
        ["Dmitry Peskov", "Joe Biden"],
        {"sentences": [1], "choice": "A"},
        None,
        0,
        [8],
        id="off-topic-citation-re-cited",
    ),
    pytest.param(
        "Who phoned Zelensky on Tuesday?",
        ["Dmitry Peskov", "Joe Biden"],
        {"sentences": [13], "choice": "B"},
        None,
        None,
        [],
        id="option-named-only-off-topic",
    ),
    pytest.param(
        REACTION,
        REACTIONS,
        {"sentences": [7], "choice": "A"},
        None,
        None,
        [],
        id="option-no-sentence-writes-is-dropped-unasked",
    ),
    pytest.param(
        SPEECH,
        ["Putin", "Peskov"],
        {"sentences": [4], "choice": "A"},
        None,
        0,
        [4],
        id="cited-sentence-holding-half-of-the-question",
    ),
    pytest.param(
        REACTION,
        ["With approval", "With cautious outrage"],
        {"sentences": [7], "choice": "A"},
        None,
        None,
        [],
        id="another-option-half-stated-is-not-asked-about",
    ),
    pytest.param(
        "Which city hosted the Valdai meeting?",
        ["Sochi", "Moscow"],
        {"sentences": [2], "choice": "A"},
        None,
        0,
        [2],
        id="option-with-a-quarter-of-the-question-kept",
    ),
    pytest.param(
        "Which city hosted the Valdai forum gathering of experts?",
        ["Sochi", "Moscow"],
        {"sentences": [2], "choice": "A"},
        None,
        None,
        [],
        id="option-sharing-one-name-of-six-words-dropped",
    ),
    pytest.param(
        "Which city hosted the Valdai meeting?",
        ["Sochi", "Moscow"],
        {"sentences": [2, 5], "choice": "A"},
        None,
        0,
        [2, 5],
        id="a-quarter-of-the-question-by-a-name-keeps-every-cited-sentence",
    ),
    pytest.param(
        "Which city hosted the Valdai meeting?",
        ["Sochi", "Moscow"],
        {"sentences": [1], "choice": "A"},
        None,
        0,
        [2],
        id="re-cited-by-a-name-of-the-question",
    ),
    pytest.param(
        SPEECH,
        ["Peskov", "Putin"],
        {"sentences": [4], "choice": "A"},
        {"stated": True},
        1,
        [4],
        id="another-option-in-a-sentence-holding-half-of-the-question-is-asked-about",
    ),
    pytest.param(
        # "this week" is checked by the date, not by the words: the cited sentence holds
        # half the question's other words (club, Putin) and states the other option, so
        # the model is asked about it (with the time words it would be dropped unasked)
        "Which club heard Putin speak this week?",
        ["Council on Foreign Relations", "Valdai International Discussion Club"],
        {"sentences": [2], "choice": "A"},
        {"stated": True},
        1,
        [2],
        id="time-words-are-not-the-topic",
    ),
    pytest.param(REACTION, REACTIONS, {"sentences": [], "choice": None}, None, None, [], id="null"),
]


@pytest.mark.parametrize(("question", "choices", "draft", "verdict", "kept", "cites"), CHOICE)
def test_multiple_choice_gate(
    seed: Document,
    question: str,
    choices: list[str],
    draft: dict[str, Any],
    verdict: dict[str, Any] | None,
    kept: int | None,
    cites: list[int],
) -> None:
    answer, _ = _run(seed, question, [draft] + ([verdict] if verdict else []), choices)
    assert answer.choice == kept and answer.answerable is (kept is not None)
    assert answer.usage.calls == (2 if verdict else 1)  # counted when abstaining too
    assert answer.answer == (None if kept is None else choices[kept])
    assert [c.text for c in answer.citations] == [seed.sentence(n).text for n in cites]


LONG_ANSWER = (
    "Dmitry Peskov, who acknowledged Trump's intent to prioritize peace, though he noted "
    "Trump's timeline for achieving it was likely exaggerated; Kremlin spokesperson Dmitry "
    "Peskov acknowledged Trump's intent"
)[:200]  # the schema's cap stopped it in a word


@pytest.mark.parametrize(
    ("written", "kept"),
    [
        ("Dmitry Peskov入侵", "Dmitry Peskov"),  # a script the article never uses
        (LONG_ANSWER, LONG_ANSWER.rsplit(" ", 1)[0]),  # the cut word goes
    ],
)
def test_the_answer_is_cleaned_before_the_gate(seed: Document, written: str, kept: str) -> None:
    answer, _ = _run(seed, SPOKESPERSON, [{"sentences": [8], "answer": written}])
    assert answer.answer == kept and answer.answerable


def test_the_task_reads_focused_by_default(seed: Document) -> None:
    script = [Reply.json({"sentences": [14], "answer": "$64.1 billion"})]
    with FakeOpenAI(script) as server:
        client = fake_client(server, context_tokens=250)  # the seed does not fit
        answer = ask_task([seed], AID, client=client)
        assert len(server.requests) == 1  # "all" would ask every window
    assert answer.answer == "$64.1 billion"


def test_ask_needs_a_document() -> None:
    with FakeOpenAI([]) as server, pytest.raises(ValueError) as info:
        ask_task([], AID, client=fake_client(server))
    assert str(info.value) == "ask needs at least one document"


def test_the_check_shows_the_cited_sentences_after_the_same_documents(seed: Document) -> None:
    draft = {"sentences": [14], "choice": "A"}
    answer, requests = _run(seed, AID, [draft, {"stated": True}], AID_CHOICES)
    first, check = (_messages(r) for r in requests)
    assert first[0] == check[0]  # the same system prompt
    documents = first[1]["content"].split("\n\nTask:")[0]
    assert check[1]["content"].startswith(documents + "\n\nTask: check")  # shared prefix
    tail = check[1]["content"][len(documents) :]
    assert "[14] Since the beginning" in tail and "[13]" not in tail
    question = first[1]["content"].split("\n\nTask:")[1]
    assert question.endswith(
        "\nQuestion: <question>How much military aid has the U.S. committed to Ukraine?</question>"
        "\nOptions:\nA. <option>$12 billion</option>\nB. <option>$64.1 billion</option>"
        "\nC. <option>$100 billion</option>"
    )
    assert "<question>How much military aid" in tail
    assert "<answer>$64.1 billion</answer>" in tail  # the option the sentence states
    schema = str(requests[1].get("response_format"))
    assert "stated" in schema and "boolean" in schema
    assert requests[1]["max_tokens"] < requests[0]["max_tokens"]  # a short check
    assert answer.usage.calls == 2


def test_a_confirmed_answer_keeps_the_models_citation(seed: Document) -> None:
    draft = {"sentences": [2], "answer": "Valdai International Discussion Club in Sochi"}
    answer, requests = _run(seed, REMARKS, [draft, {"stated": True}])
    tail = _messages(requests[1])[1]["content"].split("Task: check")[1]
    assert "[2] “I would like" in tail and "[3]" not in tail
    assert requests[1]["max_tokens"] < requests[0]["max_tokens"] == 200
    assert answer.usage.calls == 2 and answer.citations[0].text.startswith("“I would like")
