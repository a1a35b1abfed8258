"""extract() against a scripted loopback model: the draft schema sent, how values are
tied to sentences (checked, re-cited, re-asked, dropped), the caller's own model and
validators, and the schemas refused before any request."""

from __future__ import annotations

import datetime as dt
import enum
import json
from typing import Annotated, Any, Literal

import pytest
from pydantic import BaseModel, ConfigDict, Field, RootModel, field_validator, model_validator

import newsqa
from newsqa import Extraction, OutputValidationError, SchemaError, document_from_text
from newsqa.documents.lexical import numbers
from newsqa.tasks import extract as ex
from newsqa.types import Document
from tests.conftest import fake_client
from tests.support.fake_openai import FakeOpenAI, Reply

TEXT = (
    "The summit took place in Geneva on 12 March 2024. "
    "Ukraine received $12bn in military aid. "
    "Officials said three delegations attended. "
    "The talks ended without a deal."
)


@pytest.fixture(autouse=True)
def _fresh_shapes() -> None:
    """Shapes and drafts are cached per model class: start each test without them, so
    a test sees what the code builds now (and a mutation run sees its mutants)."""
    ex._shape_of_class.cache_clear()
    ex.draft_model.cache_clear()


@pytest.fixture
def doc() -> Document:
    return document_from_text(TEXT, id="summit")


class Meeting(BaseModel):
    place: str | None = None
    day: dt.date | None = None


class Outcome(enum.Enum):
    DEAL = "deal"
    NO_DEAL = "no deal"


class Facts(BaseModel):
    aid_usd: float | None = Field(None, description="Military aid in dollars")
    delegations: int | None = None
    outcome: Outcome | None = None
    meetings: list[Meeting] = []
    countries: list[str] = []


def cited(value: Any, *sentences: int) -> dict[str, Any]:
    return {"sentences": list(sentences), "value": value}


FULL = {
    "aid_usd": cited(12e9, 2),
    "delegations": cited(3, 3),
    "outcome": cited("no deal", 4),
    "meetings": [{"place": cited("Geneva", 1), "day": cited("2024-03-12", 1)}],
    "countries": [cited("Ukraine", 2)],
}


def _user(request: dict[str, Any], index: int = -1) -> str:
    return str(request["messages"][index]["content"])


def test_values_land_in_the_callers_model_with_verbatim_evidence_by_path(doc: Document) -> None:
    with FakeOpenAI([Reply.json(FULL)]) as server:
        result = newsqa.extract(doc, Facts, client=fake_client(server))
        assert len(server.requests) == 1
    assert isinstance(result, Extraction) and isinstance(result.value, Facts)
    assert result.value == Facts(
        aid_usd=12e9,
        delegations=3,
        outcome=Outcome.NO_DEAL,
        meetings=[Meeting(place="Geneva", day=dt.date(2024, 3, 12))],
        countries=["Ukraine"],
    )
    assert {path: [e.sentence_id for e in ev] for path, ev in result.evidence.items()} == {
        "aid_usd": [2],
        "delegations": [3],
        "outcome": [4],
        "meetings[0].place": [1],
        "meetings[0].day": [1],
        "countries[0]": [2],
    }
    for spans in result.evidence.values():
        for e in spans:
            assert doc.text[e.start : e.end] == e.text
    assert result.doc == "summit" and result.usage.calls == 1


def test_the_schema_sent_pairs_every_leaf_with_sentence_numbers_shown(doc: Document) -> None:
    with FakeOpenAI([Reply.json(FULL)]) as server:
        newsqa.extract(doc, Facts, client=fake_client(server), instructions="Amounts in USD")
        request = server.requests[0]
    schema = request["response_format"]["json_schema"]["schema"]
    aid = schema["properties"]["aid_usd"]
    assert list(aid["properties"]) == ["sentences", "value"]  # ids before the value
    assert aid["properties"]["sentences"]["items"]["enum"] == [1, 2, 3, 4]
    assert {"type": "null"} in aid["properties"]["value"]["anyOf"]
    place = schema["properties"]["meetings"]["items"]["properties"]["place"]
    assert place["properties"]["sentences"]["items"]["enum"] == [1, 2, 3, 4]
    prompt = _user(request)
    assert "- aid_usd (number): Military aid in dollars" in prompt
    assert '- outcome (one of: "deal" | "no deal"): outcome' in prompt
    assert "- meetings[].day (date YYYY-MM-DD): day" in prompt
    assert "<instructions>Amounts in USD</instructions>" in prompt
    assert "[2] Ukraine received $12bn in military aid." in prompt


def test_a_value_its_sentence_does_not_state_is_reasked_with_the_field_named(
    doc: Document,
) -> None:
    wrong = {**FULL, "delegations": cited(4, 3)}
    with FakeOpenAI([Reply.json(wrong), Reply.json(FULL)]) as server:
        result = newsqa.extract(doc, Facts, client=fake_client(server))
        reask = _user(server.requests[1])
    assert result.value.delegations == 3 and result.usage.calls == 2
    assert "delegations = 4: that number is not written in the cited sentences" in reask


def test_a_value_never_stated_becomes_none_without_evidence(doc: Document) -> None:
    wrong = {**FULL, "aid_usd": cited(64.1e9, 2), "countries": [cited("Poland", 2)]}
    with FakeOpenAI([Reply.json(wrong)] * 3) as server:
        result = newsqa.extract(doc, Facts, client=fake_client(server, max_reasks=2))
        assert len(server.requests) == 3
    assert result.value.aid_usd is None and "aid_usd" not in result.evidence
    assert result.value.countries == [] and "countries[0]" not in result.evidence
    assert result.value.delegations == 3 and result.evidence["delegations"][0].sentence_id == 3
    assert result.usage.calls == 3


def test_a_value_cited_from_the_wrong_sentence_is_recited_to_the_one_stating_it(
    doc: Document,
) -> None:
    misplaced = {**FULL, "meetings": [{"place": cited("Geneva", 4), "day": cited(None)}]}
    with FakeOpenAI([Reply.json(misplaced)]) as server:
        result = newsqa.extract(doc, Facts, client=fake_client(server))
        assert len(server.requests) == 1
    assert result.value.meetings == [Meeting(place="Geneva")]
    assert [e.sentence_id for e in result.evidence["meetings[0].place"]] == [1]
    assert "meetings[0].day" not in result.evidence


def test_a_value_without_citation_is_not_accepted(doc: Document) -> None:
    uncited = {**FULL, "delegations": cited(3)}
    with FakeOpenAI([Reply.json(uncited), Reply.json(FULL)]) as server:
        result = newsqa.extract(doc, Facts, client=fake_client(server))
    # re-cited to the sentence that states "three" without a re-ask
    assert result.value.delegations == 3
    assert result.evidence["delegations"][0].sentence_id == 3
    assert result.usage.calls == 1


def test_list_items_that_are_dropped_do_not_leave_gaps_in_the_paths(doc: Document) -> None:
    reply = {
        **FULL,
        "countries": [cited("Narnia", 2), cited(None), cited("Ukraine", 2)],
    }
    with FakeOpenAI([Reply.json(reply)] * 3) as server:
        result = newsqa.extract(doc, Facts, client=fake_client(server, max_reasks=0))
    assert result.value.countries == ["Ukraine"]
    assert [e.sentence_id for e in result.evidence["countries[0]"]] == [2]
    assert "countries[1]" not in result.evidence


class Required(BaseModel):
    place: str


def test_a_required_field_the_text_does_not_state_is_an_error(doc: Document) -> None:
    with FakeOpenAI([Reply.json({"place": cited(None)})] * 2) as server:
        with pytest.raises(OutputValidationError) as caught:
            newsqa.extract(doc, Required, client=fake_client(server, max_reasks=1))
        assert len(server.requests) == 2
    assert "place" in str(caught.value) and caught.value.usage.calls == 2
    assert "Required needs a default or `| None` there" in str(caught.value)


class Checked(BaseModel):
    delegations: int | None = None

    @field_validator("delegations")
    @classmethod
    def small(cls, v: int | None) -> int | None:
        if v is not None and v > 2:
            raise ValueError("at most two delegations")
        return v


def test_the_callers_validators_run_and_their_errors_are_reasked(doc: Document) -> None:
    with FakeOpenAI([Reply.json({"delegations": cited(3, 3)})] * 2) as server:
        result = newsqa.extract(doc, Checked, client=fake_client(server, max_reasks=1))
        assert "at most two delegations" in _user(server.requests[1])
    assert result.value == Checked() and result.evidence == {}
    assert result.dropped == {"delegations": "Value error, at most two delegations"}


class Speech(BaseModel):
    said_on: dt.date | None = None
    figure: Literal["$12bn", "$20bn"] | None = None


@pytest.mark.parametrize(
    ("reply", "kept"),
    [
        (
            {"said_on": cited("2024-03-12", 1), "figure": cited("$12bn", 2)},
            {"said_on": 1, "figure": 2},
        ),
        ({"said_on": cited("2024-03-12", 3), "figure": cited(None)}, {"said_on": 1}),  # re-cited
        ({"said_on": cited(None), "figure": cited("$20bn", 2)}, {}),  # 20 is stated nowhere
        ({"said_on": cited("2025-07-01", 1), "figure": cited(None)}, {}),  # year, month differ
    ],
)
def test_dates_and_choices_are_checked_against_their_sentences(
    doc: Document, reply: dict[str, Any], kept: dict[str, int]
) -> None:
    with FakeOpenAI([Reply.json(reply)]) as server:
        result = newsqa.extract(doc, Speech, client=fake_client(server, max_reasks=0))
    assert {k: v[0].sentence_id for k, v in result.evidence.items()} == kept
    assert {k for k, v in result.value.model_dump().items() if v is not None} == set(kept)


def test_long_documents_are_read_in_focus_on_the_fields(doc: Document) -> None:
    filler = " ".join(f"Filler sentence number {i} says nothing of note." for i in range(400))
    long_doc = document_from_text(filler + " " + TEXT, id="long")
    with FakeOpenAI([Reply.json({"delegations": cited(None)})]) as server:
        newsqa.extract(
            long_doc, Checked, client=fake_client(server, context_tokens=500), reading="focus"
        )
        prompt = _user(server.requests[0])
    assert "three delegations attended" in prompt
    assert prompt.count("Filler sentence") < 100


class Node(BaseModel):
    name: str
    children: list[Node] = []


class WithDict(BaseModel):
    tags: dict[str, str]


class WithUnion(BaseModel):
    value: int | str


class WithTuple(BaseModel):
    pair: tuple[int, int]


class WithNested(BaseModel):
    grid: list[list[int]]


class WithBoolChoices(BaseModel):
    flag: Literal[True, False]


class Empty(BaseModel):
    pass


class D4(BaseModel):
    x: int


class D3(BaseModel):
    d: D4


class D2(BaseModel):
    d: list[D3]


class D1(BaseModel):
    d: D2


HUGE = Literal[tuple(f"v{i}" for i in range(ex.MAX_CHOICES + 1))]  # type: ignore[valid-type]
Many = type(
    "Many",
    (BaseModel,),
    {"__annotations__": {f"f{i}": int | None for i in range(ex.MAX_FIELDS + 1)}}
    | {f"f{i}": None for i in range(ex.MAX_FIELDS + 1)},
)


class WithHuge(BaseModel):
    pick: HUGE  # type: ignore[valid-type]


@pytest.mark.parametrize(
    ("schema", "words"),
    [
        (Node, "children[]: Node contains itself"),
        (WithDict, "tags: type dict[str, str] is not supported"),
        (WithUnion, "value: type int | str"),
        (WithTuple, "pair: type tuple[int, int]"),
        (WithNested, "grid: lists of lists"),
        (WithBoolChoices, "flag: enum and Literal values"),
        (Empty, "at least one field"),
        (WithHuge, f"pick: {ex.MAX_CHOICES + 1} choices"),
        (Many, f"has {ex.MAX_FIELDS + 1} fields"),
        (D1, "nested more than"),
        (dict, "needs a Pydantic model class"),
        (Meeting(), "needs a Pydantic model class"),  # an instance (unhashable)
        (RootModel[list[str]], "is a RootModel"),
    ],
)
def test_schemas_that_cannot_be_extracted_fail_before_any_request(
    doc: Document, schema: Any, words: str
) -> None:
    with FakeOpenAI([]) as server:
        with pytest.raises(SchemaError) as caught:
            newsqa.extract(doc, schema, client=fake_client(server))
        assert server.requests == []
    assert words in str(caught.value)


def test_depth_up_to_the_limit_is_accepted() -> None:
    assert set(ex.shape_of(D2).fields) == {"d"}


def test_each_value_carries_the_span_its_check_found_it_in(doc: Document) -> None:
    with FakeOpenAI([Reply.json(FULL)]) as server:
        result = newsqa.extract(doc, Facts, client=fake_client(server))
    found = {path: (s.text, s.alignment, s.sentence_id) for path, s in result.spans.items()}
    assert found == {
        "aid_usd": ("12bn", "exact", 2),  # the number as written, by value
        "delegations": ("three", "exact", 3),
        "outcome": ("The talks ended without a deal.", "sentence", 4),  # a label, not written
        "meetings[0].place": ("Geneva", "exact", 1),
        "meetings[0].day": ("12 March 2024", "exact", 1),
        "countries[0]": ("Ukraine", "exact", 2),
    }
    for span in result.spans.values():
        assert doc.text[span.start : span.end] == span.text
    assert result.document == doc
    data = json.loads(result.to_json())
    assert data["spans"]["aid_usd"] == {
        "text": "12bn",
        "start": TEXT.index("12bn"),
        "end": TEXT.index("12bn") + 4,
        "sentence_id": 2,
        "alignment": "exact",
    }
    assert "document" not in data
    assert Extraction[Facts].model_validate_json(result.to_json()).spans == result.spans


def test_a_reworded_text_value_gets_the_stretch_that_holds_its_words() -> None:
    doc = document_from_text(
        "Talks resumed. The envoys met at the old palace of the Swiss city on Monday.", id="d"
    )

    class Venue(BaseModel):
        venue: str | None = None

    reply = {"venue": cited("old Swiss palace", 2)}
    with FakeOpenAI([Reply.json(reply)]) as server:
        result = newsqa.extract(doc, Venue, client=fake_client(server))
    span = result.spans["venue"]
    assert (span.text, span.alignment) == ("old palace of the Swiss", "fuzzy")
    assert doc.text[span.start : span.end] == span.text


def test_records_flatten_values_and_evidence_for_pandas(doc: Document) -> None:
    with FakeOpenAI([Reply.json(FULL)]) as server:
        result = newsqa.extract(doc, Facts, client=fake_client(server))
    rows = {r["field"]: r for r in result.records()}
    assert rows["meetings[0].place"] == {
        "doc": "summit",
        "field": "meetings[0].place",
        "value": "Geneva",
        "sentence_ids": [1],
        "evidence": doc.sentences[0].text,
        "start": 25,
        "end": 31,
        "span": "Geneva",
        "alignment": "exact",
    }
    assert list(rows) == [
        "aid_usd",
        "delegations",
        "outcome",
        "meetings[0].place",
        "meetings[0].day",
        "countries[0]",
    ]
    data = json.loads(result.to_json())
    assert data["value"]["outcome"] == "no deal" and data["doc"] == "summit"
    assert data["evidence"]["aid_usd"][0]["sentence_id"] == 2 and "usage" not in data


@pytest.mark.parametrize(
    ("text", "value", "stated"),
    [
        ("got 64.1 billion dollars", 64.1e9, True),
        ("got 64.1 billion dollars", 64.1, True),
        ("got $12bn", 12e9, True),
        ("up 12% on 1,200 men", 0.12, True),
        ("up 12% on 1,200 men", 1200, True),
        ("three delegations", 3, True),
        ("a 5.5-million-strong army", 5.5e6, True),
        ("someone said", 1, False),
        ("version 3.2.1", 2.1, False),
        ("in 2024", 202, False),
        ("64.1 billion", 64.2e9, False),
    ],
)
def test_numbers_read_every_way_a_value_is_written(text: str, value: float, stated: bool) -> None:
    assert any(abs(n - value) <= 1e-6 * max(1.0, value) for n in numbers(text)) is stated


def test_the_schema_is_checked_before_the_document_is_read_or_a_client_made() -> None:
    with pytest.raises(SchemaError, match="tags"):
        newsqa.extract("/nonexistent/article.txt", WithDict)


def test_evidence_keeps_the_cited_sentences_that_state_the_value(doc: Document) -> None:
    reply = {"place": cited("Geneva", 4, 1), "day": cited("2024-03-12", 1)}
    with FakeOpenAI([Reply.json(reply)]) as server:
        result = newsqa.extract(doc, Meeting, client=fake_client(server))
    assert [e.sentence_id for e in result.evidence["place"]] == [1]


def test_a_value_stated_only_across_its_sentences_keeps_them_all() -> None:
    two = document_from_text("Aid reached Kyiv. It came from Berlin.", id="two")
    with FakeOpenAI([Reply.json({"place": cited("Kyiv Berlin", 1, 2), "day": cited(None)})]) as s:
        result = newsqa.extract(two, Meeting, client=fake_client(s))
    assert [e.sentence_id for e in result.evidence["place"]] == [1, 2]


@pytest.mark.parametrize(
    ("text", "day", "stated"),
    [
        ("They met on 12 March 2024.", dt.date(2024, 3, 12), True),
        ("They met on March 12.", dt.date(2024, 3, 12), True),
        ("They met on Nov. 7th in Sochi.", dt.date(2024, 11, 7), True),
        ("Filed 2024-03-12 in Geneva.", dt.date(2024, 3, 12), True),
        ("Filed 3/12/2024 in Geneva.", dt.date(2024, 3, 12), True),
        ("The war began in 2022.", dt.date(2022, 4, 1), False),  # a year alone
        ("They met on Monday.", dt.date(2024, 3, 11), False),
        ("They met on 12 March 2023.", dt.date(2024, 3, 12), False),  # another year
        ("They met on 13 March 2024.", dt.date(2024, 3, 12), False),
        ("They met on 12 April 2024.", dt.date(2024, 3, 12), False),
    ],
)
def test_a_date_is_stated_only_with_its_day_and_month(
    text: str, day: dt.date, stated: bool
) -> None:
    leaf = ex.Leaf("date", dt.date, "when")
    assert (ex.unstated(leaf, day, [text]) is None) is stated


class Defaults(BaseModel):
    nullable_required: int | None
    with_default: str = "unknown"
    meeting: Meeting | None = None
    meetings: list[Meeting] | None = None


def test_unstated_fields_keep_the_callers_default_or_none(doc: Document) -> None:
    empty = {"place": cited(None), "day": cited(None)}
    reply = {
        "nullable_required": cited(None),
        "with_default": cited(None),
        "meeting": empty,
        "meetings": [empty],
    }
    with FakeOpenAI([Reply.json(reply)]) as server:
        result = newsqa.extract(doc, Defaults, client=fake_client(server))
        assert len(server.requests) == 1
    assert result.value == Defaults(nullable_required=None)
    assert result.evidence == {}


class RequiredList(BaseModel):
    names: list[str]


def test_a_required_list_with_nothing_stated_is_empty(doc: Document) -> None:
    with FakeOpenAI([Reply.json({"names": [cited(None)]})]) as server:
        result = newsqa.extract(doc, RequiredList, client=fake_client(server))
    assert result.value.names == [] and result.evidence == {}


@pytest.mark.parametrize(
    ("kind", "value", "texts", "why"),
    [
        ("text", "Geneva", [], "no sentence is cited for it"),
        (
            "text",
            "Lausanne talks",
            ["Talks in Geneva."],
            "its words are not in the cited sentences",
        ),
        ("text", "Geneva talks", ["Talks in Geneva."], None),
        ("text", "the", ["The talks."], "it has no word to find in the cited sentences"),
        ("text", "Putin spoke", ["He spoke in Sochi."], "its words are not in the cited sentences"),
        ("text", "Ukrainian officials", ["Ukraine's officials said so."], None),
        ("number", 64.1e9, ["It got 64.1 billion dollars."], None),
        (
            "number",
            64.2e9,
            ["It got 64.1 billion dollars."],
            "that number is not written in the cited sentences",
        ),
        ("integer", 3, ["Three delegations came."], None),
        ("integer", 1200, ["It took", "1,200 men."], None),  # sentences are read together
        ("date", dt.date(2024, 3, 12), ["On 12 March."], None),
        (
            "datetime",
            dt.datetime(2024, 3, 12, 9),
            ["In 2024."],
            "the cited sentences do not write that day and month",
        ),
        ("datetime", dt.datetime(2024, 3, 12, 9), ["At 9am on 12 March 2024."], None),
        ("choice", "$20bn", ["It got $12bn."], "a number in it is not in the cited sentences"),
        ("choice", "no deal", ["Talks failed."], None),  # a label needs no shared word
        ("boolean", True, ["Talks failed."], None),
    ],
)
def test_unstated_says_why_a_value_is_not_stated(
    kind: ex.Kind, value: Any, texts: list[str], why: str | None
) -> None:
    assert ex.unstated(ex.Leaf(kind, object, "d"), value, texts) == why


class Aliased(BaseModel):
    place_name: str | None = Field(None, alias="placeName")


def test_models_with_aliases_are_filled_by_field_name(doc: Document) -> None:
    with FakeOpenAI([Reply.json({"place_name": cited("Geneva", 1)})]) as server:
        result = newsqa.extract(doc, Aliased, client=fake_client(server))
        schema = server.requests[0]["response_format"]["json_schema"]["schema"]
    assert result.value.place_name == "Geneva" and "place_name" in result.evidence
    assert list(schema["properties"]) == ["place_name"]


class Place(BaseModel):
    venue: str | None = Field(None, description="the hotel of the summit")


def test_recitation_prefers_the_sentence_about_the_field_then_the_nearest() -> None:
    text = (
        "Geneva is calm. The hotel in Geneva hosted the summit. Rain fell. "
        "Geneva welcomed them. Geneva slept."
    )
    doc = document_from_text(text, id="g")
    with FakeOpenAI([Reply.json({"venue": cited("Geneva", 3)})]) as server:
        about = newsqa.extract(doc, Place, client=fake_client(server))
    assert [e.sentence_id for e in about.evidence["venue"]] == [2]  # shares "hotel", "summit"

    class Town(BaseModel):
        town: str | None = None

    with FakeOpenAI([Reply.json({"town": cited("Geneva", 5)})] * 2) as server:
        near = newsqa.extract(doc, Town, client=fake_client(server, max_reasks=0))
    assert [e.sentence_id for e in near.evidence["town"]] == [5]  # already states it

    with FakeOpenAI([Reply.json({"town": cited("Geneva", 3)})]) as server:
        nearest = newsqa.extract(doc, Town, client=fake_client(server, max_reasks=0))
    assert [e.sentence_id for e in nearest.evidence["town"]] in ([2], [4])
    with FakeOpenAI([Reply.json({"town": cited("Geneva", 4)})]) as server:
        moved = newsqa.extract(doc, Town, client=fake_client(server, max_reasks=0))
    assert [e.sentence_id for e in moved.evidence["town"]] == [4]


def test_a_text_value_without_content_words_is_never_recited(doc: Document) -> None:
    with FakeOpenAI([Reply.json({"place": cited("the", 2), "day": cited(None)})]) as server:
        result = newsqa.extract(doc, Meeting, client=fake_client(server, max_reasks=0))
    assert result.value.place is None and result.evidence == {}


# --- what a mutation run showed untested -----------------------------------------


def test_the_output_budget_follows_the_shape_and_is_capped(doc: Document) -> None:
    wide = type(
        "Wide",
        (BaseModel,),
        {"__annotations__": {f"t{i}": str | None for i in range(20)}}
        | {f"t{i}": None for i in range(20)},
    )
    many = type("ManyWide", (BaseModel,), {"__annotations__": {"rows": list[wide]}})  # type: ignore[valid-type]
    budgets = {}
    for model in (Meeting, Facts, many):
        with FakeOpenAI([Reply.json({})]) as server:
            newsqa.extract(doc, model, client=fake_client(server, max_reasks=0))
            budgets[model] = server.requests[0]["max_tokens"]
    # a text leaf 90, another leaf 30, 6 per field and 4 per object, a list 4 items + 4
    assert budgets[Meeting] == (90 + 6) + (30 + 6) + 4
    assert budgets[Facts] == 3 * (30 + 6) + (4 * 136 + 4 + 6) + (4 * 90 + 4 + 6) + 4
    assert budgets[many] == ex.MAX_OUTPUT_TOKENS


def test_the_guide_names_every_kind_and_keeps_choices_as_written() -> None:
    class Kinds(BaseModel):
        signed: bool | None = None
        at: dt.datetime | None = None
        route: Literal["Kyiv–Moscow", "Рим"] | None = None
        aid_since_year: int | None = None

    assert ex.fields_guide(ex.shape_of(Kinds)) == (
        "- signed (true or false): signed\n"
        "- at (date and time): at\n"
        '- route (one of: "Kyiv–Moscow" | "Рим"): route\n'
        "- aid_since_year (whole number): aid since year"
    )


def test_annotated_and_optional_fields_are_read_through() -> None:
    class Wrapped(BaseModel):
        n: Annotated[int, Field(ge=0)] | None = None
        names: list[Annotated[str, Field(min_length=1)]] = []

    shape = ex.shape_of(Wrapped)
    n, names = shape.fields["n"], shape.fields["names"]
    assert isinstance(n, ex.Leaf) and n.kind == "integer" and n.annotation is int
    assert isinstance(names, ex.Many) and isinstance(names.item, ex.Leaf)
    assert names.item.kind == "text"


class Inner(BaseModel):
    tags: dict[str, str]


class Outer(BaseModel):
    inner: Inner | None = None


class Hollow(BaseModel):
    pass


class HasHollow(BaseModel):
    part: Hollow


class BareList(BaseModel):
    items: list  # type: ignore[type-arg]


class AnyField(BaseModel):
    x: Any


LONG_CHOICE = "x" * 1001


class AtLimit(BaseModel):
    pick: Literal[tuple(f"v{i}" for i in range(ex.MAX_CHOICES))]  # type: ignore[valid-type]
    name: Literal["y" * 1000]  # type: ignore[valid-type]


class LongChoice(BaseModel):
    pick: Literal[LONG_CHOICE]  # type: ignore[valid-type]


@pytest.mark.parametrize(
    ("schema", "message"),
    [
        (
            Outer,
            "inner.tags: type dict[str, str] is not supported; use str, int, float, bool, date, "
            "datetime, an Enum or Literal, a nested model, a list of one of these, or X | None",
        ),
        (HasHollow, "part: a model needs at least one field"),
        (Hollow, "Hollow: a model needs at least one field"),
        (BareList, "items: type list is not supported"),
        (AnyField, "x: type Any is not supported"),
        (LongChoice, "pick: a choice is over 1,000 characters long"),
    ],
)
def test_refusals_name_the_nested_field_and_say_what_works(schema: Any, message: str) -> None:
    with pytest.raises(SchemaError) as caught:
        ex.shape_of(schema)
    assert str(caught.value).startswith(message)


def test_choices_up_to_the_limits_are_accepted() -> None:
    assert set(ex.shape_of(AtLimit).fields) == {"pick", "name"}


def test_the_schema_name_sent_is_a_safe_identifier(doc: Document) -> None:
    from pydantic import create_model

    odd = create_model("Facts 2024 (v1)", place=(str | None, None))
    with FakeOpenAI([Reply.json({"place": cited("Geneva", 1)})]) as server:
        newsqa.extract(doc, odd, client=fake_client(server))
        sent = server.requests[0]["response_format"]["json_schema"]
    assert sent["name"] == "Draft_Facts_2024__v1_"
    value = sent["schema"]["properties"]["place"]["properties"]["value"]
    assert value["anyOf"][0]["maxLength"] == ex.MAX_TEXT and value["description"] == "place"
    with FakeOpenAI([Reply.json(FULL)]) as server:
        newsqa.extract(doc, Facts, client=fake_client(server))
        props = server.requests[0]["response_format"]["json_schema"]["schema"]["properties"]
    assert props["countries"]["maxItems"] == ex.MAX_ITEMS


def test_unstated_values_inside_list_items_are_reasked_by_path(doc: Document) -> None:
    wrong = {**FULL, "meetings": [{"place": cited("Lausanne", 1), "day": cited(None)}]}
    with FakeOpenAI([Reply.json(wrong), Reply.json(FULL)]) as server:
        result = newsqa.extract(doc, Facts, client=fake_client(server))
        reask = _user(server.requests[1])
    assert (
        'values not stated in their cited sentences:\n- meetings[0].place = "Lausanne": its '
        "words are not in the cited sentences\ncite the sentences that state each value, or "
        "give null" in reask
    )
    assert result.value.meetings[0].place == "Geneva"


class NestedCheck(BaseModel):
    meetings: list[Meeting] = []

    @model_validator(mode="after")
    def one_meeting(self) -> NestedCheck:
        if len(self.meetings) != 1:
            raise ValueError("exactly one meeting")
        return self


class DeepRule(BaseModel):
    place: str | None = None

    @field_validator("place")
    @classmethod
    def not_geneva(cls, v: str | None) -> str | None:
        if v == "Geneva":
            raise ValueError("Geneva is not allowed")
        return v


class Deep(BaseModel):
    meetings: list[DeepRule] = []
    count: int


def test_the_callers_errors_are_reasked_with_their_paths(doc: Document) -> None:
    with FakeOpenAI([Reply.json({"meetings": []})] * 2) as server:
        with pytest.raises(OutputValidationError):
            newsqa.extract(doc, NestedCheck, client=fake_client(server, max_reasks=1))
        assert (
            "the values do not fit NestedCheck:\nNestedCheck: Value error, exactly one meeting"
            in _user(server.requests[1])
        )
    reply = {"meetings": [{"place": cited("Geneva", 1)}], "count": cited(None)}
    with FakeOpenAI([Reply.json(reply)] * 2) as server:
        with pytest.raises(OutputValidationError):
            newsqa.extract(doc, Deep, client=fake_client(server, max_reasks=1))
        reask = _user(server.requests[1])
    assert "meetings.0.place: Value error, Geneva is not allowed" in reask
    assert "count: no value the article states; cite the sentence that states it" in reask
    assert "Deep needs a default or `| None` there (never guess)" in reask


def test_recitation_needs_every_word_of_a_text_value(doc: Document) -> None:
    reply = {"place": cited("Geneva summit hotel", 4), "day": cited(None)}
    with FakeOpenAI([Reply.json(reply)]) as server:
        result = newsqa.extract(doc, Meeting, client=fake_client(server, max_reasks=0))
    assert result.value.place is None  # sentence 1 has "Geneva" and "summit", no "hotel"


def test_without_instructions_the_prompt_has_no_instruction_line(doc: Document) -> None:
    with FakeOpenAI([Reply.json(FULL)]) as server:
        newsqa.extract(doc, Facts, client=fake_client(server))
        prompt = _user(server.requests[0])
    assert "Instructions" not in prompt
    assert "never from your own knowledge.\n\nFor every field" in prompt


def test_instructions_steer_focused_reading() -> None:
    filler = " ".join(f"Filler sentence number {i} says nothing of note." for i in range(300))
    text = filler + " A ceasefire in Rafah began at dawn. " + filler
    long_doc = document_from_text(text, id="long")

    class Truce(BaseModel):
        start: str | None = None

    with FakeOpenAI([Reply.json({"start": cited(None)})]) as server:
        newsqa.extract(
            long_doc,
            Truce,
            client=fake_client(server, context_tokens=500),
            instructions="the ceasefire in Rafah",
            reading="focus",
        )
        prompt = _user(server.requests[0])
    assert "A ceasefire in Rafah began at dawn." in prompt


def test_the_last_resort_skips_garbage_and_reads_unknown_sentence_numbers_as_uncited(
    doc: Document,
) -> None:
    unstated_then_garbage = [
        Reply.json({"place": cited("Lausanne", 1), "day": cited(None)}),
        Reply.text("not json"),
    ]
    with FakeOpenAI(unstated_then_garbage) as server:
        result = newsqa.extract(doc, Meeting, client=fake_client(server, max_reasks=1))
    assert result.value == Meeting() and result.usage.calls == 2
    bad_ids = [Reply.json({"place": cited("Geneva", 99), "day": cited(None)})] * 2
    with FakeOpenAI(bad_ids) as s:
        result = newsqa.extract(doc, Meeting, client=fake_client(s, max_reasks=1))
        assert "sentence numbers [99] do not exist" in _user(s.requests[1])
    assert result.value == Meeting(place="Geneva")  # re-cited to the sentence stating it
    assert [e.sentence_id for e in result.evidence["place"]] == [1]
    assert result.dropped == {}


class TwoRequired(BaseModel):
    first: int
    second: int
    where: list[DeepRule] = []


def test_several_problems_are_listed_one_per_line(doc: Document) -> None:
    reply = {
        "first": cited(7, 1),
        "second": cited(8, 1),
        "where": [{"place": cited("Geneva", 1)}, {"place": cited("Geneva", 1)}],
    }
    none = {"first": cited(None), "second": cited(None), "where": reply["where"]}
    with FakeOpenAI([Reply.json(reply), Reply.json(none), Reply.json(none)]) as server:
        with pytest.raises(OutputValidationError):
            newsqa.extract(doc, TwoRequired, client=fake_client(server, max_reasks=2))
        first, second = _user(server.requests[1]), _user(server.requests[2])
    assert (
        "- first = 7: that number is not written in the cited sentences\n"
        "- second = 8: that number is not written in the cited sentences\n"
    ) in first
    assert (
        "the values do not fit TwoRequired:\nfirst: Input should be a valid integer\n"
        "second: Input should be a valid integer\n"
        "where.0.place: Value error, Geneva is not allowed\n"  # the second item is the same
        "first, second: no value the article states"
    ) in second


class Delegates(BaseModel):
    cities: list[str] = []


def test_a_value_a_reply_lists_twice_is_one_item_with_the_sentences_of_both() -> None:
    reply = {"cities": [cited("Geneva", 2), cited("Kyiv", 2), cited(" geneva.", 1, 2)]}
    doc = document_from_text(
        "The summit took place in Geneva. Geneva and Kyiv sent delegations.", id="twice"
    )
    with FakeOpenAI([Reply.json(reply)]) as server:
        result = newsqa.extract(doc, Delegates, client=fake_client(server))
    assert result.value.cities == ["Geneva", "Kyiv"]
    assert [e.sentence_id for e in result.evidence["cities[0]"]] == [1, 2]  # in order, once
    assert [e.sentence_id for e in result.evidence["cities[1]"]] == [2]
    assert result.dropped == {"cities[2]": '" geneva.": the same as cities[0], joined'}
    assert {path: span.text for path, span in result.spans.items()} == {
        "cities[0]": "Geneva",
        "cities[1]": "Kyiv",
    }


class Speakers(BaseModel):
    speakers: list[str] = []


SPEAKERS_DOC = document_from_text(
    'Sylvia Blackburn said: "We are relieved." Brian Wright, the head, added: "It is over."'
    " The ruling came on Monday, Blackburn and Wright said.",
    id="quoted",
)


def test_a_list_item_that_writes_several_names_as_one_is_read_apart() -> None:
    one = cited("Mayor Jane Doyle, Sylvia Blackburn, and Brian Wright,", 1, 2)
    alone = cited("Tom Reyes", 1)
    with FakeOpenAI([Reply.json({"speakers": [one, alone]})] * 2) as server:
        result = newsqa.extract(SPEAKERS_DOC, Speakers, client=fake_client(server, max_reasks=1))
    assert result.value.speakers == ["Sylvia Blackburn", "Brian Wright"]
    assert [e.sentence_id for e in result.evidence["speakers[0]"]] == [1]
    assert [e.sentence_id for e in result.evidence["speakers[1]"]] == [2]
    assert result.dropped == {
        "speakers[0]": f"{json.dumps(one['value'])}: 3 items written as one, read apart",
        "speakers[0]/1": '"Mayor Jane Doyle": its words are not in the cited sentences',
        "speakers[1]": '"Tom Reyes": its words are not in the cited sentences',
    }
    assert "- speakers[0]/1 = \"Mayor Jane Doyle\"" in _user(server.requests[1])


def test_a_value_that_a_sentence_states_whole_is_not_read_apart() -> None:
    stated = [
        cited("Blackburn and Wright", 3),
        cited("Brian Wright, the head", 1),
        cited("Sylvia Blackburn and Brian Wright", 1, 2),  # by the two together
    ]
    with FakeOpenAI([Reply.json({"speakers": stated})]) as server:
        result = newsqa.extract(SPEAKERS_DOC, Speakers, client=fake_client(server))
    assert result.value.speakers == [
        "Blackburn and Wright",
        "Brian Wright, the head",
        "Sylvia Blackburn and Brian Wright",
    ]
    assert [e.sentence_id for e in result.evidence["speakers[1]"]] == [2]  # re-cited
    assert result.dropped == {} and result.usage.calls == 1


class Routes(BaseModel):
    routes: list[Literal["Sylvia Blackburn and Brian Wright", "by sea"]] = []


def test_a_choice_is_never_read_apart() -> None:
    reply = {"routes": [cited("Sylvia Blackburn and Brian Wright", 3)]}
    with FakeOpenAI([Reply.json(reply)] * 2) as server:
        result = newsqa.extract(SPEAKERS_DOC, Routes, client=fake_client(server, max_reasks=1))
    assert result.value.routes == []
    assert list(result.dropped) == ["routes[0]"]
    assert "the cited sentences do not name it" in result.dropped["routes[0]"]


def test_an_examples_name_in_a_list_written_as_one_is_not_kept() -> None:
    example = ('Sylvia Wright said: "Yes."', Speakers(speakers=["Sylvia Wright"]))
    # "Sylvia Wright" is stated by sentences 1 and 2 together, written in neither
    one = cited("Sylvia Wright, Brian Wright and Jane Doyle", 1, 2)
    with FakeOpenAI([Reply.json({"speakers": [one]})] * 2) as server:
        result = newsqa.extract(
            SPEAKERS_DOC, Speakers, client=fake_client(server, max_reasks=1), examples=[example]
        )
    assert result.value.speakers == ["Brian Wright"]
    assert result.dropped["speakers[0]/1"] == (
        '"Sylvia Wright": an example\'s value, which the article does not write'
    )
    assert "its words are not" in result.dropped["speakers[0]/3"]


class Justice(BaseModel):
    judge: Literal["Neil Gorsuch", "Clarence Thomas", "Yes"] | None = None


JUSTICES = document_from_text(
    "Clarence Thomas wrote the opinion. The court ruled on Monday. Neil Gorsuch dissented sharply.",
    id="court",
)


@pytest.mark.parametrize(
    ("reply", "value", "cited_ids"),
    [
        (cited("Neil Gorsuch", 1), "Neil Gorsuch", [3]),  # re-cited to the sentence naming him
        (cited("Clarence Thomas", 1, 2), "Clarence Thomas", [1]),
        (cited("Yes", 2), "Yes", [2]),  # a label the text does not write: numbers only
    ],
)
def test_a_named_option_the_text_writes_is_cited_where_it_is_named(
    reply: dict[str, Any], value: str, cited_ids: list[int]
) -> None:
    with FakeOpenAI([Reply.json({"judge": reply})]) as server:
        result = newsqa.extract(JUSTICES, Justice, client=fake_client(server, max_reasks=0))
        assert len(server.requests) == 1
    assert result.value.judge == value
    assert [e.sentence_id for e in result.evidence["judge"]] == cited_ids


def test_unstated_checks_names_of_named_options_only() -> None:
    leaf = ex.Leaf("choice", str, "judge")
    texts = ["Clarence Thomas wrote it."]
    assert ex.unstated(leaf, "Neil Gorsuch", texts) is None
    assert ex.unstated(leaf, "Neil Gorsuch", texts, named_choice=True) == (
        "the cited sentences do not name it"
    )


# --- review findings -------------------------------------------------------------


class Verdict(BaseModel):
    deal: bool | None = Field(None, description="Did the talks end with a deal")
    outcome: Literal["deal", "no deal"] | None = Field(None, description="how the talks ended")


def test_a_value_nothing_can_check_is_never_given_a_sentence(doc: Document) -> None:
    reply = {"deal": cited(True), "outcome": cited("deal")}
    with FakeOpenAI([Reply.json(reply)]) as server:
        result = newsqa.extract(doc, Verdict, client=fake_client(server, max_reasks=0))
    assert result.value == Verdict() and result.evidence == {}
    cited_reply = {"deal": cited(False, 4), "outcome": cited("no deal", 4)}
    with FakeOpenAI([Reply.json(cited_reply)]) as server:
        kept = newsqa.extract(doc, Verdict, client=fake_client(server, max_reasks=0))
    assert kept.value == Verdict(deal=False, outcome="no deal")
    assert set(kept.evidence) == {"deal", "outcome"}


class Size(enum.Enum):
    SMALL = "under 5 billion"
    BIG = "over 50 billion"


class Who(enum.Enum):
    A = "Neil Gorsuch"
    B = "Clarence Thomas"


class Enums(BaseModel):
    size: Size | None = None
    who: Who | None = None


def test_enum_members_are_checked_by_their_values() -> None:
    reply = {"size": cited("over 50 billion", 1), "who": cited("Neil Gorsuch", 1)}
    with FakeOpenAI([Reply.json(reply)]) as server:
        result = newsqa.extract(JUSTICES, Enums, client=fake_client(server, max_reasks=0))
    assert result.value.size is None  # 50 is written nowhere
    assert result.value.who is Who.A
    assert [e.sentence_id for e in result.evidence["who"]] == [3]


class Shadowing(BaseModel):
    shape: str | None = None
    json_: str | None = Field(None, alias="json")


def test_fields_named_like_the_drafts_internals_work(doc: Document) -> None:
    with FakeOpenAI([Reply.json({"shape": cited("Geneva", 1), "json_": cited(None)})]) as s:
        result = newsqa.extract(doc, Shadowing, client=fake_client(s))
    assert result.value.shape == "Geneva"


@pytest.mark.parametrize(
    ("text", "day", "stated"),
    [
        ("In March 2024, 3 delegations met.", dt.date(2024, 3, 3), False),  # 3 is not the day
        ("On the 12th of March they met.", dt.date(2024, 3, 12), True),
    ],
)
def test_the_day_must_stand_next_to_its_month(text: str, day: dt.date, stated: bool) -> None:
    assert (ex.unstated(ex.Leaf("date", dt.date, "d"), day, [text]) is None) is stated


def test_most_words_of_a_text_value_must_be_in_its_sentences(doc: Document) -> None:
    leaf = ex.Leaf("text", str, "place")
    assert ex.unstated(leaf, "in geneva, switzerland", [TEXT]) is not None
    assert ex.unstated(leaf, "Geneva summit", [TEXT]) is None


class AliasedOut(BaseModel):
    model_config = ConfigDict(serialize_by_alias=True)
    aid: float | None = Field(None, alias="aidUsd")


def test_records_use_field_names_like_the_evidence(doc: Document) -> None:
    with FakeOpenAI([Reply.json({"aid": cited(12e9, 2)})]) as server:
        result = newsqa.extract(doc, AliasedOut, client=fake_client(server))
    (row,) = result.records()
    assert row["field"] == "aid" and row["sentence_ids"] == [2]


class Where(BaseModel):
    place: str
    day: dt.date


class MaybeWhere(BaseModel):
    m: Where | None = None
    n: int | None = None


def test_an_optional_model_stated_only_in_part_keeps_its_default(doc: Document) -> None:
    reply = {"m": {"place": cited("Geneva", 1), "day": cited(None)}, "n": cited(3, 3)}
    with FakeOpenAI([Reply.json(reply)]) as server:
        result = newsqa.extract(doc, MaybeWhere, client=fake_client(server, max_reasks=0))
        assert len(server.requests) == 1
    assert result.value == MaybeWhere(n=3)
    assert set(result.evidence) == {"n"}


def test_an_optional_model_stated_in_full_is_kept(doc: Document) -> None:
    reply = {"m": {"place": cited("Geneva", 1), "day": cited("2024-03-12", 1)}, "n": cited(None)}
    with FakeOpenAI([Reply.json(reply)]) as server:
        result = newsqa.extract(doc, MaybeWhere, client=fake_client(server, max_reasks=0))
    assert result.value == MaybeWhere(m=Where(place="Geneva", day=dt.date(2024, 3, 12)))
    assert set(result.evidence) == {"m.place", "m.day"}


class Count(BaseModel):
    aid: Literal["$12bn", "$20bn"] | None = None


def test_a_numeric_option_cited_from_the_wrong_sentence_is_recited(doc: Document) -> None:
    with FakeOpenAI([Reply.json({"aid": cited("$12bn", 4)})]) as server:
        result = newsqa.extract(doc, Count, client=fake_client(server, max_reasks=0))
    assert result.value.aid == "$12bn"
    assert [e.sentence_id for e in result.evidence["aid"]] == [2]


# --- keeping what was grounded ---------------------------------------------------

QUOTED = document_from_text(
    "“We will not cede land,” Zelensky said. “Talks must start now,” Peskov said. "
    "The meeting ended late.",
    id="quoted",
)


class Quote(BaseModel):
    text: str
    speaker: str


class Quotes(BaseModel):
    quotes: list[Quote] = []


ZELENSKY = {"text": cited("We will not cede land", 1), "speaker": cited("Zelensky", 1)}
PESKOV = {"text": cited("Talks must start now", 2), "speaker": cited("Peskov", 2)}
MADE_UP = {"text": cited("Peace is near", 3), "speaker": cited("Peskov", 2)}


@pytest.mark.parametrize(
    ("quotes", "gone"),
    [([ZELENSKY, PESKOV, MADE_UP], "quotes[2]"), ([ZELENSKY, MADE_UP, PESKOV], "quotes[1]")],
)
def test_a_made_up_list_item_is_dropped_and_the_grounded_ones_kept(
    quotes: list[dict[str, Any]], gone: str
) -> None:
    with FakeOpenAI([Reply.json({"quotes": quotes})] * 3) as server:
        result = newsqa.extract(QUOTED, Quotes, client=fake_client(server, max_reasks=2))
        assert len(server.requests) == 3
    assert result.value == Quotes(
        quotes=[
            Quote(text="We will not cede land", speaker="Zelensky"),
            Quote(text="Talks must start now", speaker="Peskov"),
        ]
    )
    assert {p: [e.sentence_id for e in ev] for p, ev in result.evidence.items()} == {
        "quotes[0].text": [1],
        "quotes[0].speaker": [1],
        "quotes[1].text": [2],
        "quotes[1].speaker": [2],
    }
    assert result.dropped == {
        f"{gone}.text": '"Peace is near": its words are not in the cited sentences',
        gone: "text: not stated, and Quote requires it",
    }
    assert result.usage.calls == 3
    assert result.to_dict()["dropped"] == result.dropped


class Dated(BaseModel):
    said_on: dt.date | None = None
    place: str | None = None


def test_a_value_that_does_not_validate_is_dropped_and_the_rest_kept(doc: Document) -> None:
    reply = {"said_on": cited("November 4", 1), "place": cited("Geneva", 1)}
    with FakeOpenAI([Reply.json(reply)] * 3) as server:
        result = newsqa.extract(doc, Dated, client=fake_client(server, max_reasks=2))
        assert "said_on.value" in _user(server.requests[1])  # re-asked first
    assert result.value == Dated(place="Geneva")
    assert set(result.evidence) == {"place"}
    assert list(result.dropped) == ["said_on"]
    assert result.dropped["said_on"].startswith('"November 4": value: Input should be a valid date')


def test_an_optional_field_the_callers_validator_refuses_is_dropped_with_its_message(
    doc: Document,
) -> None:
    reply = {"meetings": [{"place": cited("Geneva", 1)}], "count": cited(3, 3)}
    with FakeOpenAI([Reply.json(reply)] * 2) as server:
        result = newsqa.extract(doc, Deep, client=fake_client(server, max_reasks=1))
    assert result.value == Deep(meetings=[], count=3)
    assert result.dropped == {"meetings[0].place": "Value error, Geneva is not allowed"}
    assert set(result.evidence) == {"count"}


def test_a_reply_that_cannot_fit_names_the_field_and_the_reason(doc: Document) -> None:
    replies = [Reply.json({"place": cited("Lausanne", 1)})] * 2
    with FakeOpenAI(replies) as server, pytest.raises(OutputValidationError) as caught:
        newsqa.extract(doc, Required, client=fake_client(server, max_reasks=1))
    assert str(caught.value).splitlines()[0] == (
        "no reply fits Required after 2 tries: place: not stated, and Required requires it"
    )


PESKOV_SAID = document_from_text(
    "Kremlin spokesperson Dmitry Peskov acknowledged Trump's intent to prioritize peace, "
    "though he noted Trump’s timeline for achieving it was likely exaggerated. Since 2022, "
    "the U.S. has committed over 64.1 billion dollars in military aid to Ukraine.",
    id="peskov",
)


class PlainStrings(BaseModel):
    aid_amount: str | None = None
    spokesperson: str | None = Field(None, description="name of the Kremlin spokesperson")


@pytest.mark.parametrize("amount", ["$64.1bn", "64.1 billion USD", "US$64,100,000,000"])
def test_an_amount_written_another_way_is_stated_by_its_sentence(amount: str) -> None:
    reply = {"aid_amount": cited(amount, 2), "spokesperson": cited("Dmitry Peskov", 1)}
    with FakeOpenAI([Reply.json(reply)]) as server:
        result = newsqa.extract(PESKOV_SAID, PlainStrings, client=fake_client(server))
        assert len(server.requests) == 1
    assert result.value == PlainStrings(aid_amount=amount, spokesperson="Dmitry Peskov")
    assert [e.sentence_id for e in result.evidence["aid_amount"]] == [2]
    assert result.dropped == {}


def test_an_amount_in_another_currency_or_figure_is_not_stated() -> None:
    leaf = ex.Leaf("text", str, "aid amount")
    sentence = [PESKOV_SAID.sentences[1].text]
    assert ex.unstated(leaf, "64.1 billion euros", sentence) is not None
    assert ex.unstated(leaf, "$46.1bn", sentence) is not None


def test_a_value_that_copies_its_whole_sentence_is_reasked_for_the_shortest_answer() -> None:
    sentence = PESKOV_SAID.sentences[0].text
    copied = {"aid_amount": cited(None), "spokesperson": cited(sentence, 1)}
    short = {"aid_amount": cited(None), "spokesperson": cited("Dmitry Peskov", 1)}
    with FakeOpenAI([Reply.json(copied), Reply.json(short)]) as server:
        result = newsqa.extract(PESKOV_SAID, PlainStrings, client=fake_client(server))
        reask = _user(server.requests[1])
    assert result.value.spokesperson == "Dmitry Peskov" and result.usage.calls == 2
    assert "values that copy their whole sentence:\n- spokesperson = " in reask
    assert "write only the shortest words that answer each field" in reask
    with FakeOpenAI([Reply.json(copied)] * 2) as server:
        kept = newsqa.extract(PESKOV_SAID, PlainStrings, client=fake_client(server, max_reasks=1))
    assert kept.value.spokesperson == sentence  # stated: kept when the model insists
