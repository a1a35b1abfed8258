from __future__ import annotations

from pydantic import BaseModel

import newsqa.notebook  # noqa: F401  (registers the renderers; run alone, nothing else does)
from newsqa.types import (
    Answer,
    CorpusStanceReport,
    Evidence,
    Extraction,
    KeyPoint,
    Stance,
    StanceReport,
    Summary,
    ValueSpan,
)

EV = Evidence(doc="d", text="Kyiv <b>said</b> no.", start=0, end=20, sentence_id=1)


def test_stance_table_is_escaped_and_flattens_to_records() -> None:
    report = StanceReport(
        topic="talks & <peace>",
        stances=[Stance(actor="Ukraine", label="opposes", position="Rejects <it>.", evidence=[EV])],
    )
    html = report._repr_html_()
    assert "<b>said</b>" not in html and "&lt;b&gt;said&lt;/b&gt;" in html
    assert "talks &amp; &lt;peace&gt;" in html and "opposes" in html
    assert report.records() == [
        {
            "topic": "talks & <peace>",
            "actor": "Ukraine",
            "label": "opposes",
            "label_source": "model",
            "position": "Rejects <it>.",
            "evidence": "Kyiv <b>said</b> no.",
            "sentence_ids": [1],
        }
    ]


def test_summary_and_answer_render() -> None:
    summary = Summary(headline="H", summary="S", key_points=[KeyPoint(text="p", evidence=[EV])])
    assert "<h3>H</h3>" in summary._repr_html_()
    answer = Answer(
        question="Q?",
        answer="no",
        answerable=True,
        citations=[Evidence(doc="d", text="Kyiv said no.", start=0, end=13, sentence_id=1)],
    )
    assert "<mark>Kyiv said no.</mark>" in answer._repr_html_()
    abstained = Answer(question="Q?", answer=None, answerable=False, citations=[])
    assert "Not answered" in abstained._repr_html_()


def test_every_result_type_renders_escaped_html() -> None:
    import datetime as dt

    from newsqa.types import (
        ClaimCheck,
        CorpusStanceReport,
        StanceChange,
        StanceTimeline,
        TargetStance,
    )

    day = dt.date(2024, 11, 8)
    corpus_ev = Evidence(
        doc="d<1>", title="T", date=day, text="Kyiv <b>said</b> no.", start=0, end=20, sentence_id=1
    )
    results = [
        ClaimCheck(claim="Kyiv & Moscow agree", label="disagrees", evidence=[EV]),
        TargetStance(target="Russia <x>", label="opposes", evidence=[EV]),
        StanceTimeline(
            topic="talks",
            actors={
                "Ukraine <u>": [
                    StanceChange(
                        date=day,
                        doc="d1",
                        label="opposes",
                        position="No.",
                        evidence=[EV],
                        changed=True,
                    )
                ]
            },
        ),
        CorpusStanceReport(
            topic="talks",
            since=None,
            until=day,
            stances=[
                Stance(actor="Ukraine", label="opposes", position="No.", evidence=[corpus_ev])
            ],
        ),
    ]
    for result in results:
        html = result._repr_html_()
        assert html.startswith("<div>"), type(result).__name__
        assert "<b>said</b>" not in html and "&lt;b&gt;said&lt;/b&gt;" in html
        assert type(result).__name__ + "(" not in html  # not the repr fallback
    claim, target, timeline, corpus = (r._repr_html_() for r in results)
    assert "Kyiv &amp; Moscow agree" in claim and "disagrees" in claim
    assert "Russia &lt;x&gt;" in target and "opposes" in target
    assert "Ukraine &lt;u&gt;" in timeline and "CHANGED" in timeline and "2024-11-08" in timeline
    assert "d&lt;1&gt;" in corpus and "2024-11-08" in corpus


class _Place(BaseModel):
    city: str | None = None


class _Talks(BaseModel):
    speaker: str | None = None
    casualties: int | None = None
    rounds: int = 1
    places: list[_Place] = []
    aliases: list[str] = []


def _extraction() -> Extraction[_Talks]:
    hostile = Evidence(
        doc="d<1>", text="Kyiv <b>said</b> “no” & left.", start=40, end=68, sentence_id=3
    )
    place = Evidence(doc="d<1>", text="They met in <Geneva>.", start=70, end=91, sentence_id=4)
    return Extraction[_Talks](
        doc="d<1>",
        value=_Talks(speaker="Kyiv <b>", places=[_Place(city="<Geneva>")]),
        evidence={"speaker": [hostile], "places[0].city": [place]},
    )


def test_extraction_renders_each_field_with_its_cited_sentence_escaped() -> None:
    result = _extraction()
    html = result._repr_html_()
    assert html.startswith("<div>") and "Extraction[" not in html  # not the repr fallback
    assert "<b>said</b>" not in html and "&lt;b&gt;said&lt;/b&gt;" in html
    assert "Kyiv &lt;b&gt;" in html and "<Geneva>" not in html and "d&lt;1&gt;" in html
    rows = html.split("<tr>")[2:]  # after the header row
    assert len(rows) == 5
    speaker, casualties, rounds, city, aliases = rows
    assert "<code>speaker</code>" in speaker and "[3] 40-68" in speaker
    assert "Kyiv &lt;b&gt;said&lt;/b&gt; “no” &amp; left." in speaker  # no span: plain
    assert "<code>casualties</code>" in casualties and "not stated" in casualties
    assert "<mark>" not in casualties
    assert "1 <i>(default; not stated)</i>" in rounds
    assert "<code>places[0].city</code>" in city and "[4] 70-91" in city
    assert "&lt;Geneva&gt;" in city
    assert "<code>aliases</code>" in aliases and "not stated" in aliases


def test_only_the_cited_sentence_that_writes_a_value_has_it_marked() -> None:
    """A value cited with two sentences is marked inside the one its span lies in; the
    other is shown plain (also for a value only a sentence as a whole states)."""
    first = Evidence(doc="d", text="Envoys met.", start=0, end=11, sentence_id=1)
    second = Evidence(doc="d", text="They met in Oslo.", start=12, end=29, sentence_id=2)
    result = Extraction[_Talks](
        doc="d",
        value=_Talks(speaker="Oslo", places=[_Place(city="Oslo")]),
        evidence={"speaker": [first, second], "places[0].city": [second, first]},
        spans={
            "places[0].city": ValueSpan(
                text="Oslo", start=24, end=28, sentence_id=2, alignment="exact"
            ),
            "speaker": ValueSpan(
                text="They met in Oslo.", start=12, end=29, sentence_id=2, alignment="sentence"
            ),
        },
    )
    speaker, _, _, city, _ = result._repr_html_().split("<tr>")[2:]
    assert "[1] 0-11</code> Envoys met.</div>" in city  # no span inside: plain
    assert "They met in <mark" in city and ">Oslo</mark>.</div>" in city
    assert "[1] 0-11</code> Envoys met.</div>" in speaker  # not the sentence that states it
    assert '[2] 12-29</code> <span style="border-bottom:2px dashed' in speaker
    assert speaker.count("dashed") == 1


def test_extraction_shows_where_each_value_is_written_escaped() -> None:
    spans = {
        "places[0].city": ValueSpan(
            text="<Geneva>", start=82, end=90, sentence_id=4, alignment="exact"
        ),
        "speaker": ValueSpan(
            text="Kyiv <b>said</b> “no” & left.",
            start=40,
            end=68,
            sentence_id=3,
            alignment="sentence",
        ),
    }
    html = _extraction().model_copy(update={"spans": spans})._repr_html_()
    speaker, _, _, city, _ = html.split("<tr>")[2:]
    colour = 'style="background:#ffd8a8"'  # the field's colour, in the legend and the text
    assert f"<mark {colour}>&lt;Geneva&gt;</mark> <code>82-90</code> <i>exact</i>" in city
    assert f"[4] 70-91</code> They met in <mark {colour}>&lt;Geneva&gt;</mark>.</div>" in city
    assert "<i>sentence [3] as a whole</i>" in speaker
    assert '<span style="border-bottom:2px dashed' in speaker  # its sentence, underlined
    assert "<th>Written</th>" in html


def test_extraction_records_keep_a_row_for_an_empty_list() -> None:
    rows = {r["field"]: r for r in _extraction().records()}
    assert list(rows) == ["speaker", "casualties", "rounds", "places[0].city", "aliases"]
    assert rows["aliases"]["value"] == [] and rows["aliases"]["sentence_ids"] == []
    assert rows["places[0].city"]["sentence_ids"] == [4]


def test_extraction_lists_each_dropped_value_with_its_reason_escaped() -> None:
    result = _extraction().model_copy(update={"dropped": {"places[1]": "city: <not stated>"}})
    rows = result._repr_html_().split("<tr>")[2:]
    assert len(rows) == 6
    assert "<code>places[1]</code>" in rows[-1]
    assert "dropped: city: &lt;not stated&gt;" in rows[-1]


def test_a_label_a_rule_set_names_the_rule_in_every_view() -> None:
    from newsqa.cli.text import format_stances, format_timeline

    ruled = Stance(
        actor="Russia",
        label="conditional",
        label_source="own_condition",
        position="Talks only if <sanctions> go.",
        evidence=[EV],
    )
    own = Stance(actor="Ukraine", label="opposes", position="Rejects it.", evidence=[EV])
    report = StanceReport(topic="talks", stances=[ruled, own])
    html = report._repr_html_()
    assert html.count("(rule ") == 1 and "(rule own_condition)" in html
    text = format_stances(report)
    assert text.count("label set by rule") == 1
    assert "(label set by rule own_condition)" in text.split("Ukraine")[0]
    assert [r["label_source"] for r in report.records()] == ["own_condition", "model"]
    corpus = CorpusStanceReport(topic="talks", since=None, until=None, stances=[ruled, own])
    assert [r["label_source"] for r in corpus.records()] == ["own_condition", "model"]
    timeline = corpus.timeline()
    assert timeline.actors["Russia"][0].label_source == "own_condition"
    assert "(label set by rule own_condition)" in format_timeline(timeline)
    assert "(rule own_condition)" in timeline._repr_html_()
    assert "(rule " not in StanceReport(topic="t", stances=[own])._repr_html_()
