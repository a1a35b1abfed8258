"""The stance label checks, word by word: each condition on talks that
:func:`~newsqa.tasks.stances.check_label` reads in the actor's own sentence, the near
misses it must not take for one, and the refusals and calls for talks that leave the
model's label (the rules that read them fixed nothing on the fresh probe split).

Each row of ``CONDITIONS`` and ``NEAR_MISSES`` pins one alternative of ``_CONDITION``
(or a word boundary, or case): without it the label would stay, or change.
"""

from __future__ import annotations

import pytest

from newsqa.tasks.stances import check_label
from newsqa.types import StanceLabel

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
# words that only hold one of the patterns inside them, and refusals, calls for talks
# and others' proposals: the label stays
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


@pytest.mark.parametrize(("label", "evidence"), CONDITIONS)
def test_a_condition_on_talks_makes_the_label_conditional(
    label: StanceLabel, evidence: str
) -> None:
    checked = check_label(label, [evidence])
    assert (checked.label, checked.source) == ("conditional", "own_condition")
    assert check_label(label).label == label  # the sentence decides


@pytest.mark.parametrize(("label", "evidence"), NEAR_MISSES + REFUSALS + CALLS_FOR_TALKS)
def test_no_condition_on_talks_leaves_the_label(label: StanceLabel, evidence: str) -> None:
    assert check_label(label, [evidence]) == check_label(label)
    assert check_label(label, [evidence]).source == "model"


@pytest.mark.parametrize(
    ("label", "evidence"),
    [
        # a condition binding another actor is still the speaker's demand
        ("supports", "Berlin said Moscow must withdraw before any talks."),
        ("neutral", "Moscow demanded that Kyiv drop its NATO bid before talks."),
        # another actor's refusal beside it takes nothing away
        ("supports", "Berlin is ready for talks only if Moscow withdraws, which Kyiv rejected."),
    ],
)
def test_a_condition_counts_whoever_it_binds(label: StanceLabel, evidence: str) -> None:
    assert check_label(label, [evidence]).label == "conditional"
