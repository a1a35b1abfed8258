"""Attribution (who speaks or acts in a sentence) and the merged actor gazetteer."""

from __future__ import annotations

import pytest

from newsqa.documents.actors import curated, find_actors, gazetteer
from newsqa.documents.attribution import alias_pattern, attributed, attributed_ids, continues_quote
from newsqa.documents.load import document_from_text

RUSSIA = alias_pattern(["Russia", "Russian", "Moscow", "Kremlin", "Putin", "Peskov"])
US = alias_pattern(["United States", "U.S.", "US", "American", "Trump", "Washington"])


@pytest.mark.parametrize(
    "text",
    [
        "Kremlin spokesperson Dmitry Peskov acknowledged Trump's intent to prioritize peace.",
        "Moscow wants elections while the region is under separatist control.",
        "“We are ready,” said Putin on Friday.",
        "The plan was rejected, according to the Kremlin.",
        "Moscow, meanwhile, refuses to withdraw its troops.",
        "He praised the deal and expressed Moscow's readiness for dialogue.",
        "Putin on Sunday told reporters that talks could resume.",
        "Russia is ready to take part in talks in Minsk.",
    ],
)
def test_the_actor_speaks_or_acts(text: str) -> None:
    assert attributed(text, RUSSIA)


@pytest.mark.parametrize(
    "text",
    [
        # named, but someone else speaks or acts
        "Zelensky criticised Russia for the strikes.",
        "Putin congratulated Trump on his victory in the U.S. election and expressed hope.",
        "“We trust the American people’s choice,” he said.",
        "A delegation would meet with Russian officials near the border.",
        "Sanctions on Russia took effect on Monday.",
    ],
)
def test_a_mention_alone_is_not_attribution(text: str) -> None:
    assert not attributed(text, RUSSIA if "Russia" in text else US)


def test_a_quote_goes_on_with_the_same_speaker() -> None:
    sentences = [
        (1, "Putin said Russia was ready to talk."),
        (2, "He added that the West must stop arming Kyiv."),
        (3, "“There is no other way,” he said."),
        (4, "The talks are set for Monday."),
        (5, "He said nothing more."),  # not right after one of Russia's sentences
    ]
    assert attributed_ids(sentences, RUSSIA) == [1, 2, 3]
    assert continues_quote("He added that talks were over.")
    assert not continues_quote("Heavy fighting went on.")
    # a quote with another named speaker does not continue the previous one
    assert not continues_quote("“We will not cede land,” Zelensky said.")


def test_new_jersey_is_not_jersey() -> None:
    jersey = alias_pattern(["Jersey"])
    assert not jersey.search("The New Jersey governor said so.")
    assert jersey.search("Jersey said it would join the sanctions.")


def test_gazetteer_knows_every_country_and_keeps_curated_entries() -> None:
    table = gazetteer()
    for country in ("Mexico", "Egypt", "Nigeria", "Brazil", "Indonesia", "Kazakhstan"):
        assert country in table, country
    assert "Mexican" in table["Mexico"] and "Cairo" in table["Egypt"]
    # curated entries keep their leaders and seats of government
    assert set(curated()["Russia"]) <= set(table["Russia"])
    assert "Kremlin" in table["Russia"]
    # an alias belongs to one actor only; codes like "MEX" are not aliases
    owners: dict[str, str] = {}
    for name, aliases in table.items():
        for alias in aliases:
            assert alias not in owners, (alias, owners.get(alias), name)
            owners[alias] = name
    assert "MEX" not in owners and "RUS" not in owners
    # shared demonyms go to the more populous country
    assert owners["Dominican"] == "Dominican Republic"
    assert owners["American"] == "United States"


def test_countries_beyond_the_curated_list_are_found() -> None:
    doc = document_from_text(
        "Mexico said it backs the talks. Egyptian officials hosted the meeting in Cairo. "
        "Russia sent a delegation."
    )
    names = {m.name: m.sentence_ids for m in find_actors(doc)}
    assert names["Mexico"] == (1,)
    assert names["Egypt"] == (2,)
    assert names["Russia"] == (3,)
