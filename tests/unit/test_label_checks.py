"""The stance label checks, word by word: each condition, refusal and call for talks of
:func:`~newsqa.tasks.stances.check_label` in the actor's own sentence on talks, the
near misses it must not take for one, and the part of ``stance_drafts`` that hands it
only the actor's own cited sentences (scripted loopback model).

Each row pins one alternative of ``_CONDITION``, ``_REFUSAL`` or ``_SUPPORT`` (or a
word boundary, or case): without it the label would stay, or change.
"""

from __future__ import annotations

import pytest

from newsqa import analyze_stances, document_from_text
from newsqa.documents.attribution import alias_pattern
from newsqa.grounding import Passage
from newsqa.tasks.stances import SAYS_CHARS, check_label, stance_drafts
from newsqa.types import StanceLabel
from tests.conftest import fake_client
from tests.support.fake_openai import FakeOpenAI, Reply

SAYS = "It speaks about the war."  # the position itself states no condition

# (the model's label, the actor's own cited sentence on talks, the checked label)
CONDITIONS = [
    pytest.param("supports", "Kyiv will negotiate only when troops leave.", id="only-when"),
    pytest.param("supports", "Kyiv set conditions for the talks.", id="conditions-plural"),
    pytest.param("neutral", "Moscow insisted on guarantees before any talks.", id="insisted"),
    pytest.param("neutral", "Kyiv will not negotiate unless troops leave.", id="unless"),
    pytest.param(
        "supports", "Kyiv will keep talking as long as the ceasefire holds.", id="as-long-as"
    ),
    pytest.param(
        "neutral", "Moscow will sign the deal provided that sanctions end.", id="provided-that"
    ),
    pytest.param("supports", "Kyiv set out its red lines for the talks.", id="red-lines"),
    pytest.param("supports", "Only if Moscow withdraws will Kyiv negotiate.", id="capitalised"),
    # refusing a concession is a condition, even where the model read opposition
    pytest.param(
        "opposes", "Kyiv refused to give up territory for a peace deal.", id="refused-concession"
    ),
]
REFUSALS = [
    pytest.param("neutral", "Kyiv refused the ceasefire offer.", id="refused-without-to"),
    pytest.param("unclear", "Ukraine rejected the ceasefire terms.", id="unclear-rejected"),
    pytest.param("supports", "Rejecting the truce terms, Kyiv pressed on.", id="capitalised"),
]
CALLS_FOR_TALKS = [
    pytest.param("neutral", "Moscow is ready for talks.", id="ready"),
    pytest.param("neutral", "Kyiv is willing to negotiate.", id="willing"),
    pytest.param("neutral", "Ankara is open to a ceasefire.", id="open-to"),
    pytest.param("neutral", "Berlin is prepared to join the talks.", id="prepared"),
    pytest.param("neutral", "Paris called for a ceasefire.", id="called-for"),
    pytest.param("neutral", "China proposed a peace plan.", id="proposed"),
    pytest.param("neutral", "Brazil proposes a truce.", id="proposes"),
    pytest.param("unclear", "Proposing a truce, Brazil sent envoys.", id="proposing"),
    pytest.param("neutral", "Poland backs the talks.", id="backs"),
    pytest.param("neutral", "Poland backed the ceasefire.", id="backed"),
    pytest.param("unclear", "Backing the truce, Rome sent envoys.", id="backing"),
    pytest.param("neutral", "Moscow welcomed the talks.", id="welcomed"),
    pytest.param("neutral", "Kyiv agreed to a truce.", id="agreed-to"),
    pytest.param("neutral", "Qatar is leading the truce talks.", id="leading"),
    pytest.param("unclear", "Qatar led today's ceasefire talks.", id="led-today"),
    pytest.param("neutral", "Qatar brokered a ceasefire.", id="brokered"),
    pytest.param("neutral", "Turkey is hosting the talks.", id="hosting"),
    pytest.param("neutral", "Qatar is mediating the talks.", id="mediating"),
    pytest.param("neutral", "Paris pushed for a ceasefire.", id="pushed-for"),
    pytest.param("unclear", "Kyiv is seeking a ceasefire.", id="seeking"),
    pytest.param("neutral", "Kyiv sought a truce.", id="sought"),
    pytest.param("neutral", "Ready to talk, Kyiv sent a delegation.", id="capitalised"),
]
# words that only hold one of the patterns inside them, and a refusal the model
# already read as opposition: the label stays
NEAR_MISSES = [
    pytest.param(
        "supports", "The negotiators drafted a hundred lines of the peace deal.", id="hundred-lines"
    ),
    pytest.param("supports", "Russia mustered troops ahead of the talks.", id="mustered"),
    pytest.param("supports", "The ceasefire resolution passed unopposed.", id="unopposed"),
    pytest.param("neutral", "Turkey said the ruling outlines a truce.", id="ruling-outlines"),
    pytest.param("neutral", "Talks had already begun, Kyiv said.", id="already"),
    pytest.param("unclear", "Its leader spoke at the peace summit.", id="leader"),
    pytest.param("opposes", "Kyiv refused the ceasefire offer.", id="refusal-read-as-opposes"),
    # refusing the talks themselves is opposition, not a condition
    pytest.param(
        "opposes", "Ankara refused to send a delegation to the talks.", id="refused-to-send"
    ),
    pytest.param("opposes", "Jakarta refused to join the peace talks.", id="refused-to-join"),
    pytest.param("opposes", "Kyiv refuses to talk to the rebels.", id="refuses-to-talk"),
    pytest.param(
        "opposes", "Kyiv refuses to directly negotiate with Moscow.", id="refuses-to-directly"
    ),
    # someone else's proposal, or a negated act, is not the actor's
    pytest.param("neutral", "India has no position on the proposed talks.", id="the-proposed"),
    pytest.param("neutral", "Ankara noted that talks had been proposed.", id="been-proposed"),
    pytest.param("unclear", "Bern took no stance on a proposed truce.", id="a-proposed"),
    pytest.param("neutral", "Bern took no stance on the ceasefire proposal.", id="proposal"),
    pytest.param("neutral", "Doha would neither support nor oppose the talks.", id="nor-oppose"),
    pytest.param("supports", "Kyiv did not reject the talks.", id="not-reject"),
    pytest.param("supports", "Kyiv has never refused a ceasefire.", id="never-refused"),
]


@pytest.mark.parametrize(("label", "evidence"), CONDITIONS + REFUSALS)
def test_a_condition_or_refusal_on_talks_makes_the_label_conditional(
    label: StanceLabel, evidence: str
) -> None:
    assert check_label(label, SAYS, [evidence]).label == "conditional"
    assert check_label(label, SAYS).label == label  # the sentence decides, not the position


@pytest.mark.parametrize(("label", "evidence"), CALLS_FOR_TALKS)
def test_a_call_for_or_a_lead_in_talks_makes_neutral_or_unclear_supports(
    label: StanceLabel, evidence: str
) -> None:
    assert check_label(label, SAYS, [evidence]).label == "supports"
    assert check_label(label, SAYS).label == label


@pytest.mark.parametrize(("label", "evidence"), NEAR_MISSES)
def test_a_word_that_only_contains_a_pattern_leaves_the_label(
    label: StanceLabel, evidence: str
) -> None:
    assert check_label(label, SAYS, [evidence]).label == label


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
    # Kyiv's own refusal still is a refusal
    assert labels["Ukraine"] == ("conditional", "own_refusal")


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


KYIV_AND_MOSCOW = alias_pattern(["Kyiv", "Ukraine", "Moscow", "Russia"])


@pytest.mark.parametrize(
    ("label", "evidence", "expected"),
    [
        # another actor refuses or calls: not the actor's act
        ("supports", "Berlin said it is ready for talks, which Kyiv rejected.", "supports"),
        ("supports", "Berlin backs the peace plan rejected by Moscow.", "supports"),
        ("supports", "A deal needs land, an idea Kyiv firmly opposes.", "supports"),
        ("neutral", "Berlin noted that Moscow proposed talks.", "neutral"),
        # the actor's own refusal or call, beside another actor's name
        ("supports", "Berlin rejected the talks Moscow wants.", "conditional"),
        ("neutral", "Berlin urged Kyiv to negotiate.", "supports"),
        # a condition binding another actor is still the speaker's demand
        ("supports", "Berlin said Moscow must withdraw before any talks.", "conditional"),
    ],
)
def test_a_refusal_or_call_counts_only_where_no_other_actor_acts_with_it(
    label: StanceLabel, evidence: str, expected: str
) -> None:
    assert check_label(label, SAYS, [evidence], others=KYIV_AND_MOSCOW).label == expected
