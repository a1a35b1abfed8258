"""HTML renderers for Jupyter (``_repr_html_``): escaped, no I/O.

Results render themselves in a notebook: a stance table with evidence, a summary
with its key points, an answer with its citations highlighted in context.
"""

from __future__ import annotations

from html import escape

from newsqa.types import Answer, Evidence, StanceReport, Summary

__all__ = ["answer_html", "stances_html", "summary_html"]

_LABEL_COLOURS = {
    "supports": "#1a7f37",
    "opposes": "#cf222e",
    "conditional": "#9a6700",
    "neutral": "#57606a",
    "unclear": "#8c959f",
}


def _evidence(items: list[Evidence]) -> str:
    return "".join(
        f'<div style="margin:2px 0;color:#444"><code>[{ev.sentence_id}] {ev.start}-{ev.end}'
        f"</code> “{escape(ev.text)}”</div>"
        for ev in items
    )


def summary_html(summary: Summary) -> str:
    """A summary: headline, text, key points each with its evidence."""
    points = "".join(
        f"<li>{escape(kp.text)}{_evidence(kp.evidence)}</li>" for kp in summary.key_points
    )
    return (
        f"<div><h3>{escape(summary.headline)}</h3><p>{escape(summary.summary)}</p>"
        f"<b>Key points</b><ul>{points}</ul></div>"
    )


def stances_html(report: StanceReport) -> str:
    """A stance table: actor, coloured label, position, evidence."""
    rows = "".join(
        "<tr>"
        f"<td><b>{escape(s.actor)}</b></td>"
        f'<td style="color:{_LABEL_COLOURS.get(s.label, "#000")}"><b>{escape(s.label)}</b></td>'
        f"<td>{escape(s.position)}{_evidence(s.evidence)}</td>"
        "</tr>"
        for s in report.stances
    )
    return (
        f"<div><b>Topic:</b> {escape(report.topic)}<table>"
        "<thead><tr><th>Actor</th><th>Label</th><th>Position and evidence</th></tr></thead>"
        f"<tbody>{rows}</tbody></table></div>"
    )


def answer_html(answer: Answer) -> str:
    """An answer (or the abstention) with its citations highlighted."""
    if not answer.answerable:
        body = "<i>Not answered: the documents do not say.</i>"
    else:
        cites = "".join(
            f"<li><code>{escape(c.doc)} {c.start}-{c.end}</code> <mark>{escape(c.text)}</mark></li>"
            for c in answer.citations
        )
        body = f"<p><b>{escape(answer.answer or '')}</b></p><ul>{cites}</ul>"
    return f"<div><p>Q: {escape(answer.question)}</p>{body}</div>"
