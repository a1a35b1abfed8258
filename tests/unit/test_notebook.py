from __future__ import annotations

from newsqa.types import Answer, Citation, Evidence, KeyPoint, Stance, StanceReport, Summary

EV = Evidence(text="Kyiv <b>said</b> no.", start=0, end=20, sentence_id=1)


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
        citations=[Citation(doc="d", text="Kyiv said no.", start=0, end=13)],
    )
    assert "<mark>Kyiv said no.</mark>" in answer._repr_html_()
    abstained = Answer(question="Q?", answer=None, answerable=False, citations=[])
    assert "Not answered" in abstained._repr_html_()
