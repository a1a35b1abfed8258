"""Model text cleaned in every task, through a scripted loopback model: scripts the source does
not use, words cut by a length cap."""

from __future__ import annotations

from newsqa import analyze_stances, ask, summarize
from newsqa.tasks.stances import SAYS_CHARS
from newsqa.tasks.summarize import HEADLINE_CHARS
from newsqa.types import Document
from tests.conftest import fake_client
from tests.support.fake_openai import FakeOpenAI, Reply


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
