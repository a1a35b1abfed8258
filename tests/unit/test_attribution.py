"""Attribution (who speaks or acts in a sentence) and the merged actor gazetteer."""

from __future__ import annotations

import pytest

from newsqa.documents.actors import curated, find_actors, gazetteer
from newsqa.documents.attribution import (
    alias_pattern,
    attributed,
    attributed_ids,
    continues_quote,
)
from newsqa.documents.load import document_from_text
from newsqa.documents.vocabulary import verb_forms

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
        "Putin reiterated Moscow's demands for a neutral Ukraine.",
        "Moscow's proposal, made on Monday, calls for a truce.",
        "Putin on Sunday told reporters that talks could resume.",
        "Russia is ready to take part in talks in Minsk.",
        "Peace initiatives led by Moscow stalled.",  # a passive agent
        "The ceasefire proposed by the Kremlin fell apart.",
        "The plan was rejected, according to the Kremlin, while talks went on.",
        # outside the quotation, after a quotation naming someone else
        "“Kyiv must cede land,” Putin said.",
        "“Moscow will not yield,” Putin said.",  # the speaker after a quoted alias
        "Moscow refused the talks, an aide posted on X.",  # a letter X is no quote mark
        'The army "will not stop," the Kremlin said.',
        "“Talks will not help.” Peskov added that talks were over.",
        "Troops massed, according to estimates from Moscow officials.",
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
        "Drones made by Russia fell on the city.",  # "made" is no speech or stance verb
        "Talks led by Turkey were held near Russia.",
    ],
)
def test_a_mention_alone_is_not_attribution(text: str) -> None:
    assert not attributed(text, RUSSIA if "Russia" in text else US)


@pytest.mark.parametrize(
    "text",
    [
        'Putin described Trump’s response as "courageous, like a real man," according to '
        "his address at the Valdai forum.",
        "He also noted that Trump’s remarks about improving U.S.-Russia relations and "
        "contributing to a resolution of the Ukrainian conflict warranted serious consideration.",
        "Kyiv rejected Washington's proposal.",
    ],
)
def test_a_possessive_after_someone_elses_speech_verb_is_their_subject(text: str) -> None:
    """ "X's remarks" reported, described or rejected by another speaker are that
    speaker's words about X (the seed's United States evidence was Putin's)."""
    assert not attributed(text, US)


@pytest.mark.parametrize(
    "text",
    [
        # inside someone else's quotation: the speaker's subject, not the speaker
        "“This is exactly what Putin has long sought,” Zelensky said.",
        "It is what the Kremlin wants,” he said.",  # a quotation opened a sentence before
        "Moscow wants a pause,” he said.",  # from the sentence's first character
        'Zelensky said that "Russia wants a pause" and no more.',
        "“It is what Moscow wants",  # a quotation left open
        "“Kyiv agreed.” “Moscow refused,” an aide said.",  # the second of two quotations
        # a speech verb across a preposition: a language, a place, a subject
        "“We want peace,” he said in Russian.",
        "The minister told reporters in Moscow that talks were over.",
        "Scholz said he called on Putin to negotiate.",
        "Blinken told reporters about Moscow.",
    ],
)
def test_quoted_or_after_a_preposition_is_not_the_speaker(text: str) -> None:
    assert RUSSIA.search(text)
    assert not attributed(text, RUSSIA)


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


UKRAINE = alias_pattern(["Ukraine", "Ukrainian", "Kyiv", "Zelensky"])


@pytest.mark.parametrize(
    ("sentences", "owned"),
    [
        # a quotation over two sentences, attributed in the second: both are Ukraine's
        (["“Nobody wants peace more.", "We are fighting for our land,” Zelensky said."], [1, 2]),
        # straight quotes, the speaker in the first sentence
        (['Zelensky said: "We want peace.', 'But not at any price."'], [1, 2]),
        # a whole quoted sentence right after the speaker's: his too
        (["Zelensky spoke on Friday.", '"There can be no peace without our land."'], [1, 2]),
        # a quotation closed by "he said" right after the speaker's sentence
        (
            ["Zelensky slammed the plan.", "“It helps Moscow.", "It leads nowhere,” he said."],
            [1, 2, 3],
        ),
        # a quotation with nobody named, after a sentence that is not his: nobody's
        (["Heavy fighting went on.", "“It helps Moscow.", "It leads nowhere,” he said."], []),
        # another speaker's quotation does not continue his
        (["Zelensky spoke on Friday.", "“We will win,” Stoltenberg said."], [1]),
        # a quote left open is no block: the sentences after it are judged alone
        (["“We will fight on.", "Rain fell.", "Snow fell.", "Wind blew.", "Kyiv said so."], [5]),
        # an apostrophe's quote mark does not open a quotation
        (['Ukraine\'s "peace formula" was debated.', "Officials met.", "Nothing changed."], []),
        # a pair of straight quotes (a scare quote) opens no quotation
        (['Kyiv called the plan a "trap".', "It is far from peace,” an aide said."], [1]),
        # a quotation opened and closed with straight quotes, attributed in the second
        (['"Nobody wants peace more.', 'We are fighting for our land," Zelensky said.'], [1, 2]),
        # straight scare quotes inside a straight quotation: the first mark opens it
        (['Zelensky said: "They call it a "ceasefire".', 'It is only a pause."'], [1, 2]),
        # a sentence with no quote mark inside a quotation does not close it
        (["“We will fight on.", "We will not give up.", "Never,” Zelensky said."], [1, 2, 3]),
        # QUOTE_BLOCK sentences are one quotation; one more is not
        (["“We will fight on.", "One.", "Two.", "All,” Zelensky said."], [1, 2, 3, 4]),
        (["“We will fight on.", "One.", "Two.", "Three.", "All,” Zelensky said."], [5]),
        # another speaker's quotation over two sentences does not continue his
        (["Zelensky spoke on Friday.", "“We will win.", "No doubt,” Stoltenberg said."], [1]),
        # "she said" outside a quotation block is no continuation
        (["Zelensky spoke on Friday.", "Sanctions will follow, she said."], [1]),
    ],
)
def test_a_quotation_belongs_to_its_speaker(sentences: list[str], owned: list[int]) -> None:
    assert attributed_ids(list(enumerate(sentences, start=1)), UKRAINE) == owned


def test_a_quotation_block_is_capped() -> None:
    """An opening mark never closed cannot pull a whole article into one quotation."""
    sentences = ["“We will fight on.", "One.", "Two.", "Three.", "Four.", "All,” Zelensky said."]
    assert attributed_ids(list(enumerate(sentences, start=1)), UKRAINE) == [6]


@pytest.mark.parametrize(
    ("base", "forms"),
    [
        ("add", {"add", "adds", "addes", "added", "addd", "adding"}),
        ("urge", {"urge", "urges", "urgees", "urgeed", "urged", "urgeing", "urging"}),
        ("deny", {"deny", "denys", "denyes", "denyed", "denyd", "denying", "denies", "denied"}),
    ],
)
def test_speech_verbs_are_matched_in_every_regular_form(base: str, forms: set[str]) -> None:
    # generous on purpose: a form no text writes ("addd") costs nothing
    assert verb_forms(base) == forms


def test_the_longest_alias_is_matched() -> None:
    assert alias_pattern(["Acme", "Acme Corp"]).findall("Acme Corp sued Acme.") == [
        "Acme Corp",
        "Acme",
    ]


def test_new_jersey_is_not_jersey() -> None:
    jersey = alias_pattern(["Jersey"])
    assert not jersey.search("The New Jersey governor said so.")
    assert jersey.search("Jersey said it would join the sanctions.")


def test_gazetteer_knows_every_country_and_keeps_curated_entries() -> None:
    gazetteer.cache_clear()  # built here, not taken from an earlier test
    table = gazetteer()
    # a country's name, other spellings, capital, demonym and its plural
    assert table["Mexico"] == (
        "Mexico",
        "Mexicanos",
        "United Mexican States",
        "Estados Unidos Mexicanos",
        "Mexico City",
        "Mexican",
        "Mexicans",
    )
    assert table["French Guiana"] == ("French Guiana", "Guiana", "Guyane", "Cayenne")  # no demonym
    assert table["Antarctica"] == ("Antarctica",)  # no capital either
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


def test_find_actors_takes_extra_actors_and_a_limit() -> None:
    doc = document_from_text("Acme Corp sued Kyiv. Acme Corp lost. Russia watched.")
    found = find_actors(doc, extra={"Acme": ["Acme Corp"]}, limit=2)
    assert [(m.name, m.sentence_ids) for m in found] == [("Acme", (1, 2)), ("Ukraine", (1,))]


def test_an_actors_aliases_are_listed_most_frequent_first() -> None:
    doc = document_from_text(
        "The Kremlin declined to comment. Moscow said no. Moscow then said yes."
    )
    [russia] = find_actors(doc)
    assert (russia.name, russia.aliases, russia.sentence_ids) == (
        "Russia",
        ("Moscow", "Kremlin"),
        (1, 2, 3),
    )


def test_possessives_count_only_before_a_position_word() -> None:
    assert attributed("In short, Moscow’s readiness for dialogue is clear.", RUSSIA)  # curly
    assert attributed("In short, Moscow's readiness for dialogue is clear.", RUSSIA)
    assert not attributed("Moscow's army advanced on the city.", RUSSIA)
    assert not attributed("In short, Moscow’s long, costly, firm stance is clear.", RUSSIA)  # 4th
    assert continues_quote("  He added that talks were over.")  # leading space


def test_actor_sentences_rank_topic_first_and_keep_the_sentence_after() -> None:
    from newsqa.documents.actors import find_actors_in
    from newsqa.grounding import Passage
    from newsqa.tasks.stances import actor_sentences

    doc = document_from_text(
        "Kyiv said it was cold. Kyiv said peace talks must start. The weather turned."
    )
    passage = Passage.of([doc])
    (ukraine,) = find_actors_in(doc.sentences)
    # its own sentences, the one on the topic first; then the sentence after its last
    # one (a quote often goes on there), even at the end of the text
    assert actor_sentences(passage, ukraine, "peace talks") == [2, 1, 3]


def test_extra_names_of_a_known_actor_add_to_its_own() -> None:
    doc = document_from_text("Orban said no. Budapest agreed. Hungary waited.")
    (hungary,) = find_actors(doc, extra={"Hungary": ["Orban"]})
    assert hungary.name == "Hungary" and list(hungary.sentence_ids) == [1, 2, 3]
