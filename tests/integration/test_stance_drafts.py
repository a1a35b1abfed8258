"""Stance drafts through a scripted loopback model: whose sentences the label checks read, the
length cap, how many actors are asked about."""

from __future__ import annotations

import pytest

from newsqa import analyze_stances, document_from_text
from newsqa.grounding import Passage
from newsqa.tasks.stances import SAYS_CHARS, stance_drafts
from newsqa.types import Document
from tests.conftest import fake_client, track
from tests.support.fake_openai import FakeOpenAI, Reply


def _names(*names: str) -> Reply:
    return Reply.json({"actors": list(names)})


def _stance(numbers: list[int], label: str = "supports", says: str = "A position.") -> Reply:
    return Reply.json({"sentences": numbers, "says": says, "label": label})


def test_a_condition_in_a_cited_sentence_of_nobody_does_not_make_the_label() -> None:
    doc = document_from_text(
        "Russia said it was ready for peace talks. "
        "Peace talks between Russia and Ukraine must first settle the border."
    )
    # [2] names Russia, so Russia may cite it, but nobody speaks there: its "must" is
    # no condition of Russia's
    script = [_names("Russia"), _stance([1, 2], "supports", "Russia is ready for talks.")]
    with FakeOpenAI(script) as server:
        report = analyze_stances(doc, "peace talks", client=fake_client(server))
    assert [(s.actor, s.label) for s in report.stances] == [("Russia", "supports")]
    assert [e.sentence_id for e in report.stances[0].evidence] == [1, 2]


def test_a_position_stopped_by_the_length_cap_loses_its_cut_word() -> None:
    doc = document_from_text("Russia said it was ready for peace talks.")
    says = (
        "Russia says it is ready for peace talks and wants guarantees for the border regions "
        "of the east before the first round of talks opens in the late spri"
    )
    assert len(says) == SAYS_CHARS  # the schema's cap stopped it in a word
    script = [_names("Russia"), _stance([1], "supports", says)]
    with FakeOpenAI(script) as server:
        report = analyze_stances(doc, "peace talks", client=fake_client(server))
    assert [s.position for s in report.stances] == [
        "Russia says it is ready for peace talks and wants guarantees for the border regions "
        "of the east before the first round of talks opens in the late…"
    ]


def test_stance_drafts_asks_about_five_actors_by_default() -> None:
    doc = document_from_text(
        "Ukraine said it backs peace talks. Poland said it backs the talks. France said it "
        "backs the talks. Germany said it backs the talks. Italy said it backs the talks. "
        "Spain said it backs the talks. Austria said it backs the talks."
    )
    script = [_names()] + [_stance([], "unclear", "-")] * 7  # seven actors speak
    with FakeOpenAI(script) as server:
        drafts, usage = stance_drafts(Passage.of([doc]), "peace talks", client=fake_client(server))
        assert len(server.requests) == 1 + 5
    assert drafts == [] and usage.calls == 1 + 5


def test_stances_of_a_document_without_sentences_is_empty() -> None:
    from newsqa import Settings
    from newsqa.llm.client import LLMClient
    from newsqa.tasks.stances import analyze_stances

    doc = Document(id="x", text="Kyiv.")
    client = track(LLMClient(Settings(base_url="http://127.0.0.1:9/v1", api_key="k")))
    assert analyze_stances(doc, client=client).stances == []
    with pytest.raises(ValueError, match="max_actors"):
        analyze_stances(document_from_text("Kyiv said no."), client=client, max_actors=0)


def test_another_actors_refusal_in_the_actors_sentence_is_not_the_actors() -> None:
    doc = document_from_text("Russia said it is ready for talks, which Kyiv rejected.")
    script = [
        _names("Russia"),
        _stance([1], "supports", "Russia is ready for talks."),
        _stance([1], "supports", "Kyiv rejected the talks."),  # Ukraine acts there too
    ]
    with FakeOpenAI(script) as server:
        report = analyze_stances(doc, "peace talks", client=fake_client(server))
    labels = {s.actor: (s.label, s.label_source) for s in report.stances}
    assert labels["Russia"] == ("supports", "model")
    assert labels["Ukraine"] == ("supports", "model")  # the model's own reading stands


def test_the_seeds_united_states_is_not_conditional_for_kyivs_opposition() -> None:
    doc = document_from_text(
        "During his campaign, Trump suggested that a peace deal might require Ukraine to cede "
        "some territory, an idea Kyiv firmly opposes."
    )
    script = [
        _names("United States"),
        _stance([1], "supports", "Trump suggested a peace deal."),
        _stance([1], "opposes", "Kyiv opposes ceding territory."),
    ]
    with FakeOpenAI(script) as server:
        report = analyze_stances(doc, "peace talks", client=fake_client(server))
    labels = {s.actor: s.label for s in report.stances}
    assert labels == {"United States": "supports", "Ukraine": "opposes"}


def test_a_label_a_rule_changed_names_the_rule_in_the_json() -> None:
    doc = document_from_text("Kyiv will negotiate only when Russian troops leave.")
    script = [_names("Ukraine"), _stance([1], "supports", "Kyiv will negotiate.")]
    with FakeOpenAI(script) as server:
        report = analyze_stances(doc, "peace talks", client=fake_client(server))
    (stance,) = [s for s in report.to_dict()["stances"] if s["actor"] == "Ukraine"]
    assert (stance["label"], stance["label_source"]) == ("conditional", "own_condition")
