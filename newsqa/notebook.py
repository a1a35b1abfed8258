"""HTML renderers for Jupyter (``_repr_html_``): escaped, no I/O.

Every result type renders itself in a notebook once this module is imported (the
``newsqa`` package does so): a summary with its key points, stance tables with
evidence, an answer with its citations, a claim check, a target stance, a timeline,
corpus stances with each evidence line dated, and an extraction as its article with
every value highlighted and a table of field paths, values, spans and the sentences
that state them (also as a whole page: :func:`extraction_page`). The data models in
:mod:`newsqa.types` hold no screen code; they look up what is registered here.
"""

from __future__ import annotations

import itertools
import json
import re
from collections.abc import Callable, Sequence
from html import escape
from typing import Any

from newsqa.types import (
    Answer,
    ClaimCheck,
    CorpusStanceReport,
    Evidence,
    Extraction,
    Stance,
    StanceReport,
    StanceTimeline,
    Summary,
    TargetStance,
    ValueSpan,
    register_html,
)

__all__ = [
    "answer_html",
    "claim_html",
    "corpus_stances_html",
    "extraction_html",
    "extraction_page",
    "stances_html",
    "summary_html",
    "target_stance_html",
    "timeline_html",
]

_LABEL_COLOURS = {
    "supports": "#1a7f37",
    "agrees": "#1a7f37",
    "opposes": "#cf222e",
    "disagrees": "#cf222e",
    "conditional": "#9a6700",
    "discusses": "#9a6700",
    "neutral": "#57606a",
    "unclear": "#8c959f",
    "unrelated": "#8c959f",
}


def _label(label: str, source: str = "model") -> str:
    """A coloured label; one a rule set names the rule."""
    shown = f'<b style="color:{_LABEL_COLOURS.get(label, "#000")}">{escape(label)}</b>'
    if source == "model":
        return shown
    return f'{shown} <small style="color:#57606a">(rule {escape(source)})</small>'


def _evidence(items: list[Evidence]) -> str:
    return "".join(
        f'<div style="margin:2px 0;color:#444"><code>[{ev.sentence_id}] {ev.start}-{ev.end}'
        f"</code> “{escape(ev.text)}”</div>"
        for ev in items
    )


def _corpus_evidence(items: list[Evidence]) -> str:
    return "".join(
        f'<div style="margin:2px 0;color:#444"><code>{escape(str(ev.date or "undated"))} '
        f"{escape(ev.doc)} [{ev.sentence_id}] {ev.start}-{ev.end}</code> “{escape(ev.text)}”</div>"
        for ev in items
    )


def _table(head: list[str], rows: list[list[str]]) -> str:
    th = "".join(f"<th>{escape(h)}</th>" for h in head)
    body = "".join("<tr>" + "".join(f"<td>{c}</td>" for c in row) + "</tr>" for row in rows)
    return f"<table><thead><tr>{th}</tr></thead><tbody>{body}</tbody></table>"


@register_html(Summary)
def summary_html(summary: Summary) -> str:
    """A summary: headline, text, key points each with its evidence."""
    points = "".join(
        f"<li>{escape(kp.text)}{_evidence(kp.evidence)}</li>" for kp in summary.key_points
    )
    return (
        f"<div><h3>{escape(summary.headline)}</h3><p>{escape(summary.summary)}</p>"
        f"<b>Key points</b><ul>{points}</ul></div>"
    )


@register_html(StanceReport)
def stances_html(report: StanceReport) -> str:
    """A stance table: actor, coloured label, position, evidence."""
    table = _stance_table(report.stances, _evidence)
    return f"<div><b>Topic:</b> {escape(report.topic)}{table}</div>"


def _stance_table(stances: list[Stance], evidence: Callable[[list[Evidence]], str]) -> str:
    """Actor, coloured label and position, each stance's evidence as ``evidence`` shows it."""
    rows = [
        [
            f"<b>{escape(s.actor)}</b>",
            _label(s.label, s.label_source),
            escape(s.position) + evidence(s.evidence),
        ]
        for s in stances
    ]
    return _table(["Actor", "Label", "Position and evidence"], rows)


@register_html(Answer)
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


@register_html(ClaimCheck)
def claim_html(check: ClaimCheck) -> str:
    """A claim, the verdict and its evidence."""
    return (
        f"<div><p><b>Claim:</b> {escape(check.claim)}</p>"
        f"<p><b>Verdict:</b> {_label(check.label)}</p>{_evidence(check.evidence)}</div>"
    )


@register_html(TargetStance)
def target_stance_html(result: TargetStance) -> str:
    """The author's attitude toward one target, with evidence."""
    return (
        f"<div><p><b>{escape(result.target)}:</b> {_label(result.label)}</p>"
        f"{_evidence(result.evidence)}</div>"
    )


@register_html(StanceTimeline)
def timeline_html(timeline: StanceTimeline) -> str:
    """Per actor, its dated points; a changed label is flagged."""
    sections = []
    for actor, points in timeline.actors.items():
        rows = [
            [
                escape(p.date.isoformat() if p.date else "undated"),
                _label(p.label, p.label_source) + (" <b>CHANGED</b>" if p.changed else ""),
                f"<code>{escape(p.doc)}</code> {escape(p.position)}{_evidence(p.evidence)}",
            ]
            for p in points
        ]
        table = _table(["Date", "Label", "Document, position and evidence"], rows)
        sections.append(f"<h4>{escape(actor)}</h4>{table}")
    body = "".join(sections) or "<i>No actor takes a position in these documents.</i>"
    return f"<div><b>Topic:</b> {escape(timeline.topic)}{body}</div>"


@register_html(CorpusStanceReport)
def corpus_stances_html(report: CorpusStanceReport) -> str:
    """Stances across articles: each evidence line dated and sourced."""
    period = ""
    if report.since or report.until:
        period = f" ({escape(str(report.since or '…'))} to {escape(str(report.until or '…'))})"
    table = _stance_table(report.stances, _corpus_evidence)
    return f"<div><b>Topic:</b> {escape(report.topic)}{period}{table}</div>"


def _value(value: Any) -> str:
    """A leaf value as text: strings as they are, the rest as JSON."""
    return value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)


def _cited(items: list[Evidence], span: ValueSpan | None = None, colour: str = "") -> str:
    """The cited sentences (id, offsets, text), the value's span in each marked in
    its field's colour (a sentence that states it only as a whole: underlined)."""
    lines = []
    for ev in items:
        words = span is not None and span.alignment != "sentence"
        if span is not None and words and ev.start <= span.start and span.end <= ev.end:
            left, right = span.start - ev.start, span.end - ev.start
            text = (
                f'{escape(ev.text[:left])}<mark style="background:{colour}">'
                f"{escape(ev.text[left:right])}</mark>{escape(ev.text[right:])}"
            )
        elif span is not None and not words and span.sentence_id == ev.sentence_id:
            text = f'<span style="border-bottom:2px dashed {colour}">{escape(ev.text)}</span>'
        else:
            text = escape(ev.text)
        lines.append(
            f'<div style="margin:2px 0"><code>[{ev.sentence_id}] {ev.start}-{ev.end}</code> '
            f"{text}</div>"
        )
    return "".join(lines)


_FIELD_COLOURS = (
    "#ffd8a8",
    "#b2f2bb",
    "#a5d8ff",
    "#fcc2d7",
    "#d0bfff",
    "#ffec99",
    "#99e9f2",
    "#eebefa",
    "#c0eb75",
    "#ffc9c9",
    "#bac8ff",
    "#e9ecef",
)
"""Background of each field's values (a field's list items share its colour)."""
_ITEM = re.compile(r"\[\d+\]")


def _field_of(path: str) -> str:
    """The field a value path belongs to: ``speakers[2]`` → ``speakers[]``."""
    return _ITEM.sub("[]", path)


def _colours(result: Extraction[Any]) -> dict[str, str]:
    """A colour for each field that has a value, in field order."""
    fields = dict.fromkeys(_field_of(path) for path in result.spans)
    return {f: _FIELD_COLOURS[i % len(_FIELD_COLOURS)] for i, f in enumerate(fields)}


def _legend(colours: dict[str, str]) -> str:
    keys = "".join(
        f'<span style="background:{colour};padding:1px 6px;margin:0 6px 4px 0;'
        f'border-radius:3px;display:inline-block"><code>{escape(field)}</code></span>'
        for field, colour in colours.items()
    )
    return f'<div class="newsqa-legend" style="margin:6px 0">{keys}</div>'


def _highlighted(text: str, offset: int, result: Extraction[Any], colours: dict[str, str]) -> str:
    """``text`` (the document from ``offset``), escaped, each stretch inside value
    spans marked: the background of the shortest exact or fuzzy span over it, a dashed
    underline for a value its sentence states only as a whole, and every value over it
    named in ``data-fields`` and the tooltip."""
    spans = [
        (path, s)
        for path, s in result.spans.items()
        if s.start < offset + len(text) and s.end > offset and s.end > s.start
    ]
    cuts = sorted(
        {0, len(text)}
        | {min(max(p - offset, 0), len(text)) for _, s in spans for p in (s.start, s.end)}
    )
    pieces = []
    for left, right in itertools.pairwise(cuts):
        over = [(p, s) for p, s in spans if s.start <= offset + left and offset + right <= s.end]
        chunk = escape(text[left:right])
        if not over:
            pieces.append(chunk)
            continue
        style = []
        words = [(p, s) for p, s in over if s.alignment != "sentence"]
        if words:
            path, _ = min(words, key=lambda ps: ps[1].end - ps[1].start)
            style.append(f"background:{colours[_field_of(path)]}")
        else:
            style.append("background:transparent")
        whole = [p for p, s in over if s.alignment == "sentence"]
        if whole:
            style.append(f"border-bottom:2px dashed {colours[_field_of(whole[0])]}")
        fields = " ".join(p for p, _ in over)
        tip = "; ".join(f"{p} = {_value(_leaf(result, p))} ({s.alignment})" for p, s in over)
        pieces.append(
            f'<mark style="{";".join(style)}" data-fields="{escape(fields)}" '
            f'title="{escape(tip)}">{chunk}</mark>'
        )
    return "".join(pieces)


def _leaf(result: Extraction[Any], path: str) -> Any:
    """The value at ``path`` in the result's JSON form."""
    node: Any = result.value.model_dump(mode="json", by_alias=False)
    for name, index in re.findall(r"(\w+)|\[(\d+)\]", path):
        node = node[name] if name else node[int(index)]
    return node


def _text_view(result: Extraction[Any], colours: dict[str, str]) -> str:
    """The whole document with its values highlighted; for a result without its
    document (read from JSON), the sentences that hold a value."""
    style = "white-space:pre-wrap;line-height:1.6;border:1px solid #ddd;padding:8px"
    doc = result.document
    if doc is not None:
        body = _highlighted(doc.text, 0, result, colours)
        return f'<div class="newsqa-article" style="{style}">{body}</div>'
    seen: dict[int, Evidence] = {}
    for cited in result.evidence.values():
        for ev in cited:
            seen.setdefault(ev.sentence_id, ev)
    body = "\n".join(
        f"[{ev.sentence_id}] " + _highlighted(ev.text, ev.start, result, colours)
        for _, ev in sorted(seen.items())
    )
    note = (
        "<p><i>The document is not kept with this result: its sentences that hold a value.</i></p>"
    )
    return f'{note}<div class="newsqa-sentences" style="{style}">{body}</div>'


def _written(span: ValueSpan | None, colour: str) -> str:
    """Where a value is written: its text in its field's colour, offsets and alignment."""
    if span is None:
        return ""
    if span.alignment == "sentence":
        return f"<i>sentence [{span.sentence_id}] as a whole</i>"
    return (
        f'<mark style="background:{colour}">{escape(span.text)}</mark> '
        f"<code>{span.start}-{span.end}</code> <i>{escape(span.alignment)}</i>"
    )


@register_html(Extraction)
def extraction_html(result: Extraction[Any]) -> str:
    """The filled model as a table: field path, value, where it is written (span,
    offsets, alignment) and the cited sentences (id, offsets, highlighted text). A
    field without evidence is "not stated" (its default, if it has one other than
    empty, is shown next to it); a value dropped from the reply is listed with the
    reason."""
    colours = _colours(result)
    rows = []
    for row in result.records():
        path, value = row["field"], row["value"]
        cited = result.evidence.get(path, [])
        if cited:
            shown = escape(_value(value))
        elif value is None or value == []:
            shown = "<i>not stated</i>"
        else:
            shown = f"{escape(_value(value))} <i>(default; not stated)</i>"
        span, colour = result.spans.get(path), colours.get(_field_of(path), "")
        cells = [f"<code>{escape(path)}</code>", shown, _written(span, colour)]
        rows.append([*cells, _cited(cited, span, colour)])
    for path, reason in result.dropped.items():
        rows.append([f"<code>{escape(path)}</code>", f"<i>dropped: {escape(reason)}</i>", "", ""])
    table = _table(["Field", "Value", "Written", "Cited sentences"], rows)
    name = type(result.value).__name__
    view = ""
    if result.spans:
        view = _legend(colours) + _text_view(result, colours)
    return f"<div><b>{escape(name)}</b> from <code>{escape(result.doc)}</code>{view}{table}</div>"


_PAGE_STYLE = """
body{font-family:system-ui,sans-serif;max-width:60rem;margin:1.5rem auto;padding:0 1rem;color:#222}
table{border-collapse:collapse;margin:8px 0}td,th{border:1px solid #ccc;padding:3px 6px;
vertical-align:top;text-align:left}mark{color:inherit;padding:0}section{margin-bottom:2rem}
"""


def extraction_page(results: Sequence[Extraction[Any]], title: str = "newsqa extraction") -> str:
    """A self-contained HTML page (no script, nothing fetched) with each extraction's
    whole document, every value highlighted in its field's colour, a legend and the
    table of fields: what ``newsqa extract --html`` writes. Document and model text
    are escaped."""
    sections = "".join(f"<section>{extraction_html(r)}</section>" for r in results)
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        '<meta http-equiv="Content-Security-Policy" '
        "content=\"default-src 'none'; style-src 'unsafe-inline'\">"
        f"<title>{escape(title)}</title><style>{_PAGE_STYLE}</style></head>"
        f"<body><h1>{escape(title)}</h1>{sections}</body></html>\n"
    )
