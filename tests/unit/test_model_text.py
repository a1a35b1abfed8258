"""Model-written text cleaned one way: letters of scripts the source never uses are
dropped, and a text stopped by its length cap loses the word it was cut in."""

from __future__ import annotations

import pytest

from newsqa import analyze_stances, ask, summarize
from newsqa.grounding.model_text import cleaned
from newsqa.tasks.stances import SAYS_CHARS
from newsqa.tasks.summarize import HEADLINE_CHARS
from newsqa.types import Document
from tests.conftest import fake_client
from tests.support.fake_openai import FakeOpenAI, Reply

ENGLISH = "Russia invaded Ukraine. Talks stalled."


@pytest.mark.parametrize(
    ("text", "source", "limit", "expected"),
    [
        ("the impact of Russia's入侵", ENGLISH, None, "the impact of Russia's"),
        ("Kyiv backs talks", ENGLISH, None, "Kyiv backs talks"),  # under no cap: whole
        ("Kyiv backs talks", ENGLISH, 16, "Kyiv backs"),  # at the cap: the last word was cut
        ("Kyiv backs talks", ENGLISH, 17, "Kyiv backs talks"),  # below the cap
        ("Kyiv backs talks.", ENGLISH, 17, "Kyiv backs talks."),  # ended at the cap
        ("Kyiv backs the war-t残", ENGLISH, 20, "Kyiv backs the"),
        ("Киев согласился", "Киев отказался. Kyiv said no.", None, "Киев согласился"),
        ("Kyiv said 和平", "Kyiv said 和平 on Monday.", None, "Kyiv said 和平"),
        ("Kyiv  said   no", ENGLISH, None, "Kyiv said no"),  # spaces left by a drop fold
        ("Kyiv 2024年 said", ENGLISH, None, "Kyiv 2024 said"),  # digits are not letters
        ("word", ENGLISH, 4, "word"),  # one word at the cap: nothing before it to keep
        ("Kyiv backs talks. ", ENGLISH, 18, "Kyiv backs talks."),  # ended, then a space
        ("Kyiv backs talks ", ENGLISH, 17, "Kyiv backs talks"),  # the word was whole
        ("Kyiv backs\ttalks", ENGLISH, 16, "Kyiv backs"),  # any space ends a word
        ("", ENGLISH, 0, ""),
        ("Kyiv backs", ENGLISH, 10, "Kyiv"),
        ("残", ENGLISH, 1, ""),  # nothing left to cut
    ],
)
def test_cleaned(text: str, source: str, limit: int | None, expected: str) -> None:
    assert cleaned(text, source, limit=limit) == expected


def test_a_stance_position_keeps_only_the_articles_script(seed: Document) -> None:
    says = ("Ukraine wants a just peace and opposes ceding territory to Russia 入侵 " * 4)[
        :SAYS_CHARS
    ]
    assert says.endswith("入侵 Ukraine want")  # the cap cut "wants"
    script = [
        Reply.json({"actors": ["Ukraine"]}),
        Reply.json({"sentences": [13], "says": says, "label": "conditional"}),
    ]
    with FakeOpenAI(script) as server:
        report = analyze_stances(seed, client=fake_client(server), max_actors=1)
    (stance,) = report.stances
    # no CJK letters, and the word the cap cut ("want") is gone before the dots
    assert stance.position == " ".join(says.replace("入侵", "").split()[:-1]) + "…"


def test_a_headline_at_its_cap_loses_the_cut_word(seed: Document) -> None:
    headline = ("Putin congratulates Trump on his election win " * 3)[: HEADLINE_CHARS - 2] + "w残"
    draft = {
        "headline": headline,
        "summary": "Putin congratulated Trump.",
        "key_points": [{"point": "Putin greets Trump 祝贺", "sentences": [1]}],
    }
    with FakeOpenAI([Reply.json(draft)]) as server:
        result = summarize(seed, client=fake_client(server))
    assert result.headline == headline[: headline.rindex(" ")].strip()
    assert result.key_points[0].text == "Putin greets Trump"


def test_an_answer_is_checked_without_letters_of_another_script(seed: Document) -> None:
    reply = {"sentences": [8], "answer": "Dmitry Peskov发言人"}
    with FakeOpenAI([Reply.json(reply)]) as server:
        answer = ask(seed, "Who is the Kremlin spokesperson?", client=fake_client(server))
    assert answer.answer == "Dmitry Peskov" and answer.answerable
