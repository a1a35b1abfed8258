"""The result types: one Evidence and one Stance for every task, a versioned JSON contract."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from pydantic import BaseModel

import newsqa
from newsqa import types
from newsqa.grounding import Passage
from newsqa.types import (
    SCHEMA_VERSION,
    Answer,
    ClaimCheck,
    CorpusStanceReport,
    Evidence,
    Extraction,
    Period,
    Stance,
    StanceReport,
    StanceTimeline,
    Summary,
    TargetStance,
)

OLD = dt.date(2022, 2, 9)
NEW = dt.date(2024, 6, 1)


def _ev(doc: str, date: dt.date | None, sentence_id: int = 1) -> Evidence:
    return Evidence(
        doc=doc, date=date, text="Kyiv said no.", start=0, end=13, sentence_id=sentence_id
    )


class _Value(BaseModel):
    city: str | None = None


@pytest.mark.parametrize(
    "result",
    [
        Summary(headline="H", summary="S", key_points=[]),
        StanceReport(topic="t", stances=[]),
        Answer(question="Q?", answer=None, answerable=False, citations=[]),
        ClaimCheck(claim="c", label="unrelated", evidence=[]),
        TargetStance(target="Russia", label="neutral", evidence=[]),
        StanceTimeline(topic="t", actors={}),
        CorpusStanceReport(topic="t", since=None, until=None, stances=[]),
        Extraction[_Value](doc="d", value=_Value()),
    ],
    ids=lambda r: type(r).__name__,
)
def test_every_result_opens_its_json_with_the_schema_version(result: BaseModel) -> None:
    data = json.loads(result.model_dump_json())
    assert next(iter(data)) == "schema_version" and data["schema_version"] == SCHEMA_VERSION == 2
    assert type(result).model_validate(data) == result
    with pytest.raises(ValueError, match="schema_version"):
        type(result).model_validate({**data, "schema_version": 1})


def test_a_stances_period_spans_its_dated_evidence() -> None:
    stance = Stance(
        actor="Ukraine",
        label="opposes",
        position="No.",
        evidence=[_ev("a", OLD), _ev("b", None), _ev("c", NEW), _ev("d", OLD, 2)],
    )
    assert stance.period == Period(since=OLD, until=NEW)
    period = stance.model_dump(mode="json")["period"]
    assert period == {"since": "2022-02-09", "until": "2024-06-01"}
    undated = Stance(actor="Ukraine", label="opposes", position="No.", evidence=[_ev("b", None)])
    assert undated.period is None and undated.model_dump()["period"] is None
    one = Stance(actor="Ukraine", label="opposes", position="No.", evidence=[_ev("a", NEW)])
    assert one.period == Period(since=NEW, until=NEW)


def test_evidence_names_its_document_title_and_date() -> None:
    dated = newsqa.document_from_text("Kyiv said no. Moscow waited.", id="a", title="T", date=OLD)
    undated = newsqa.document_from_text("Paris spoke.", id="b")
    passage = Passage.of([dated, undated])
    assert passage.evidence([3, 2]) == [
        Evidence(
            doc="a", title="T", date=OLD, text="Moscow waited.", start=14, end=28, sentence_id=2
        ),
        Evidence(doc="b", text="Paris spoke.", start=0, end=12, sentence_id=1),
    ]


def test_a_corpus_timeline_keeps_each_articles_evidence() -> None:
    report = CorpusStanceReport(
        topic="t",
        since=None,
        until=None,
        stances=[
            Stance(
                actor="Ukraine",
                label="opposes",
                position="No.",
                evidence=[_ev("a", OLD), _ev("b", NEW), _ev("a", OLD, 2)],
            )
        ],
    )
    points = report.timeline().actors["Ukraine"]
    assert [(p.doc, p.date, p.evidence) for p in points] == [
        ("a", OLD, [_ev("a", OLD), _ev("a", OLD, 2)]),
        ("b", NEW, [_ev("b", NEW)]),
    ]


@pytest.mark.parametrize(
    ("old", "new"), [("Citation", Evidence), ("CorpusEvidence", Evidence), ("CorpusStance", Stance)]
)
def test_the_replaced_names_still_import_with_a_deprecation_warning(old: str, new: type) -> None:
    for module in (newsqa, types):
        message = f"{old} is deprecated: use newsqa.{new.__name__}"
        with pytest.warns(DeprecationWarning, match=message):
            assert getattr(module, old) is new
    assert old not in newsqa.__all__
    with pytest.raises(AttributeError):
        newsqa.NoSuchName  # noqa: B018
