"""Plain-text renderers for the terminal (the twin of :mod:`newsqa.notebook`'s HTML):
each result with the sentences that ground it, wrapped to the terminal's width."""

from __future__ import annotations

import json
import shutil
import textwrap
from collections.abc import Callable, Sequence
from typing import Any

from newsqa import (
    Answer,
    ClaimCheck,
    CorpusStanceReport,
    Evidence,
    Extraction,
    StanceReport,
    StanceTimeline,
    Summary,
    TargetStance,
    ValueSpan,
)

__all__ = [
    "format_answer",
    "format_claim",
    "format_corpus_stances",
    "format_extraction",
    "format_stances",
    "format_summary",
    "format_target_stances",
    "format_timeline",
]


def _width() -> int:
    return max(60, shutil.get_terminal_size((100, 24)).columns)


def _quote(ev: Evidence) -> str:
    return f'[{ev.sentence_id}] "{ev.text}" ({ev.start}-{ev.end})'


def _wrap(text: str, indent: str, width: int | None = None) -> str:
    return textwrap.fill(
        text, width=width or min(_width(), 100), initial_indent=indent, subsequent_indent=indent
    )


def format_summary(result: Summary) -> str:
    """Human-readable summary with evidence under each key point."""
    lines = [
        result.headline,
        "=" * min(len(result.headline), 100),
        _wrap(result.summary, ""),
        "",
        "Key points:",
    ]
    for kp in result.key_points:
        lines.append(_wrap("- " + kp.text, "  "))
        lines.extend(_wrap(_quote(ev), "      ") for ev in kp.evidence)
    return "\n".join(lines)


def _table_rows(actor: str, label: str, position: str, width: int) -> list[str]:
    """One ACTOR / LABEL / POSITION row, the position wrapped to the terminal width."""
    indent = " " * (width + 15)
    wrapped = textwrap.wrap(position, width=max(20, _width() - len(indent))) or [""]
    first = f"{actor:<{width}}  {label:<11}  {wrapped[0]}"
    return [first, *(indent + line for line in wrapped[1:])]


def _rule_line(label_source: str, indent: str) -> list[str]:
    """The line under a label a rule set (none under the model's own label)."""
    return [] if label_source == "model" else [f"{indent}(label set by rule {label_source})"]


def _stance_table(title: str, stances: Sequence[Any], evidence: Callable[[Any], str]) -> str:
    """ACTOR / LABEL / POSITION rows under ``title``, each stance's evidence lines (as
    ``evidence`` writes one) under its row."""
    width = max(len(s.actor) for s in stances)
    lines = [
        title,
        "",
        f"{'ACTOR':<{width}}  {'LABEL':<11}  POSITION",
        f"{'-' * width}  {'-' * 11}  {'-' * 40}",
    ]
    for s in stances:
        lines.extend(_table_rows(s.actor, s.label, s.position, width))
        lines.extend(_rule_line(s.label_source, " " * (width + 2)))
        lines.extend(_wrap(evidence(ev), " " * (width + 15), _width()) for ev in s.evidence)
    return "\n".join(lines)


def format_stances(result: StanceReport) -> str:
    """Human-readable table of stances, evidence under each row."""
    if not result.stances:
        return f"Topic: {result.topic}\nNo actor takes a position in this text."
    return _stance_table(
        f"Topic: {result.topic}", result.stances, lambda ev: "evidence " + _quote(ev)
    )


def format_answer(result: Answer) -> str:
    """Human-readable answer with its citations, or the abstention."""
    if not result.answerable:
        return f"Q: {result.question}\nA: (not answered: the documents do not say)"
    lines = [f"Q: {result.question}", f"A: {result.answer}", "", "Citations:"]
    lines.extend(_wrap(f'{c.doc} {c.start}-{c.end}: "{c.text}"', "  ") for c in result.citations)
    return "\n".join(lines)


def format_claim(result: ClaimCheck) -> str:
    """Human-readable verdict on a claim with its evidence."""
    lines = [f"Claim: {result.claim}", f"Verdict: {result.label}"]
    lines.extend(_wrap("evidence " + _quote(ev), "  ") for ev in result.evidence)
    return "\n".join(lines)


def format_target_stances(results: Sequence[TargetStance]) -> str:
    """Human-readable attitude toward each target, evidence under each."""
    lines = []
    for r in results:
        lines.append(f"{r.target}: {r.label}")
        lines.extend(_wrap("evidence " + _quote(ev), "  ") for ev in r.evidence)
    return "\n".join(lines)


def _leaf(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)


def _span(span: ValueSpan) -> str:
    """Where a value is written: its text and offsets, or its whole sentence."""
    if span.alignment == "sentence":
        return f"written: sentence [{span.sentence_id}] as a whole (sentence)"
    return f'written: "{span.text}" ({span.start}-{span.end}, {span.alignment})'


def format_extraction(result: Extraction[Any]) -> str:
    """Human-readable extraction: one line per field path with its value, where it is
    written (its span and alignment) and the cited sentences (id, text, offsets) under
    it; a field without evidence is "not stated"; then each value dropped from the
    model's reply, with the reason."""
    lines = [f"{type(result.value).__name__} from {result.doc}"]
    for row in result.records():
        path, value = row["field"], row["value"]
        cited = result.evidence.get(path, [])
        if cited:
            lines.append(_wrap(f"{path}: {_leaf(value)}", "  "))
            span = result.spans.get(path)
            if span is not None:
                lines.append(_wrap(_span(span), "      "))
            lines.extend(_wrap(_quote(ev), "      ") for ev in cited)
        elif value is None or value == []:
            lines.append(f"  {path}: not stated")
        else:
            lines.append(_wrap(f"{path}: {_leaf(value)} (default; not stated)", "  "))
    lines.extend(_wrap(f"{path}: dropped: {why}", "  ") for path, why in result.dropped.items())
    return "\n".join(lines)


def format_timeline(result: StanceTimeline) -> str:
    """Human-readable timeline: per actor, its dated points with evidence; a point whose
    label differs from the actor's previous one is marked CHANGED."""
    if not result.actors:
        return f"Topic: {result.topic}\nNo actor takes a position in these documents."
    lines = [f"Topic: {result.topic}"]
    for actor, points in result.actors.items():
        changes = sum(p.changed for p in points)
        lines += ["", f"{actor}: {len(points)} point(s), {changes} change(s)"]
        for p in points:
            when = p.date.isoformat() if p.date else "undated"
            flag = "CHANGED" if p.changed else ""
            row = f"  {when:<10}  {p.label:<11}  {flag:<7}  {p.doc}: {p.position}"
            lines.append(textwrap.fill(row, width=_width(), subsequent_indent=" " * 36))
            lines.extend(_rule_line(p.label_source, " " * 14))
            lines.extend(_wrap("evidence " + _quote(ev), " " * 14) for ev in p.evidence)
    return "\n".join(lines)


def format_corpus_stances(result: CorpusStanceReport) -> str:
    """Human-readable stances across articles: each evidence line dated and sourced."""
    period = ""
    if result.since or result.until:
        period = f" ({result.since or '…'} to {result.until or '…'})"
    if not result.stances:
        return (
            f"Topic: {result.topic}{period}\nNo actor takes a position in the retrieved articles."
        )
    return _stance_table(
        f"Topic: {result.topic}{period}",
        result.stances,
        lambda ev: (
            f'{ev.date or "undated"} {ev.doc} [{ev.sentence_id}] "{ev.text}" ({ev.start}-{ev.end})'
        ),
    )
