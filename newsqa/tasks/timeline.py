"""Stance timelines: each actor's stance across dated documents, with changes flagged."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping, Sequence

from newsqa.llm.client import LLMClient
from newsqa.tasks.stances import DEFAULT_TOPIC, analyze_stances
from newsqa.types import Document, StanceChange, StanceTimeline, Usage

__all__ = ["stance_timeline"]


def stance_timeline(
    docs: Sequence[Document],
    topic: str = DEFAULT_TOPIC,
    *,
    client: LLMClient,
    max_actors: int = 5,
    actors: Mapping[str, Sequence[str]] | None = None,
    on_done: Callable[[Document], None] | None = None,
) -> StanceTimeline:
    """Analyse stances in every document, then order each actor's points by date.

    Undated documents come last, in input order. A point is ``changed`` when its label
    differs from the same actor's previous point; each point keeps its own evidence
    (verbatim spans of that document).
    """

    def when(doc: Document) -> tuple[bool, dt.date]:
        return (doc.date is None, doc.date or dt.date.max)

    ordered = sorted(docs, key=when)  # stable: same-date documents keep input order
    points_of: dict[str, list[StanceChange]] = {}
    usage = Usage()
    for doc in ordered:
        report = analyze_stances(doc, topic, client=client, max_actors=max_actors, actors=actors)
        usage += report.usage
        for stance in report.stances:
            points = points_of.setdefault(stance.actor, [])
            changed = bool(points) and points[-1].label != stance.label
            points.append(
                StanceChange(
                    date=doc.date,
                    doc=doc.id,
                    label=stance.label,
                    label_source=stance.label_source,
                    position=stance.position,
                    evidence=stance.evidence,
                    changed=changed,
                )
            )
        if on_done:
            on_done(doc)
    return StanceTimeline(topic=topic, actors=points_of, usage=usage)
