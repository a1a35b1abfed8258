"""Merging what several readings of one article found (its chunks, its passes).

A *reading* is the grounded values one call found before they are built into the
caller's model: a tree of plain data (a model as a mapping of its fields or as an
instance, a list, a value), the evidence of each value by field path and what was
dropped. Readings merge field by field: lists are joined without duplicates (two
items are the same when their values are, in any case or spacing), and where
readings state different values for one field the value more sentences state is
kept (the first stated, on a tie) and the others are reported with the reason.
A value without evidence is a default, not a statement: it yields to any stated one.
"""

from __future__ import annotations

import datetime as dt
import enum
import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from pydantic import BaseModel

from newsqa.types import Evidence

__all__ = ["Reading", "join_evidence", "merge", "same_value_key"]


@dataclass
class Reading:
    """What one call found: its data tree, evidence by path, and what it dropped."""

    data: dict[str, Any]
    evidence: dict[str, list[Evidence]] = field(default_factory=dict)
    dropped: dict[str, str] = field(default_factory=dict)


_ABSENT = object()


def merge(readings: Sequence[Reading]) -> Reading:
    """One reading holding what ``readings`` found (see the module's docstring).

    Each reading's own ``dropped`` is kept, prefixed with the reading's number when
    there are several (its paths are those of its own reply)."""
    out = Reading({})
    for number, reading in enumerate(readings, 1):
        for path, reason in reading.dropped.items():
            label = f"reading {number}: {reason}" if len(readings) > 1 else reason
            out.dropped[path] = f"{out.dropped[path]}; {label}" if path in out.dropped else label
    merged = _merge([(r.data, "", r) for r in readings], "", out)
    out.data = merged if isinstance(merged, dict) else {}
    return out


def _fields(node: Any) -> dict[str, Any] | None:
    """A model node as a mapping of its fields (``None`` for a list or a value)."""
    if isinstance(node, BaseModel):
        return {name: getattr(node, name) for name in type(node).model_fields}
    return node if isinstance(node, dict) else None


def _stated(reading: Reading, path: str) -> list[Evidence]:
    """The evidence of everything at or under ``path`` in ``reading``."""
    return [
        ev
        for key, cited in reading.evidence.items()
        if key == path or key.startswith((f"{path}.", f"{path}["))
        for ev in cited
    ]


def _move(reading: Reading, source: str, target: str, out: Reading) -> None:
    """The evidence of ``source`` (and under it) in ``reading``, as ``target``'s in
    ``out`` (joined with what is there, each sentence once)."""
    for key, cited in reading.evidence.items():
        if key == source or key.startswith((f"{source}.", f"{source}[")):
            join_evidence(out.evidence.setdefault(target + key[len(source) :], []), cited)


def join_evidence(have: list[Evidence], more: Sequence[Evidence]) -> None:
    """Add ``more`` to ``have`` in place: each sentence once, in the text's order."""
    seen = {(e.doc, e.sentence_id) for e in have}
    have.extend(e for e in more if (e.doc, e.sentence_id) not in seen)
    have.sort(key=lambda e: e.start)


def _merge(nodes: list[tuple[Any, str, Reading]], path: str, out: Reading) -> Any:
    present = [(n, p, r) for n, p, r in nodes if n is not _ABSENT]
    if not present:
        return _ABSENT
    groups = [(_fields(n), p, r) for n, p, r in present]
    if any(g is not None for g, _, _ in groups):
        merged: dict[str, Any] = {}
        names = dict.fromkeys(k for g, _, _ in groups if g is not None for k in g)
        for name in names:
            children = [
                (g.get(name, _ABSENT), f"{p}.{name}" if p else name, r)
                for g, p, r in groups
                if g is not None
            ]
            value = _merge(children, f"{path}.{name}" if path else name, out)
            if value is not _ABSENT:
                merged[name] = value
        return merged
    if any(isinstance(n, list) for n, _, _ in present):
        return _items([(n, p, r) for n, p, r in present if isinstance(n, list)], path, out)
    return _scalar(present, path, out)


def _items(lists: list[tuple[list[Any], str, Reading]], path: str, out: Reading) -> list[Any]:
    items: list[Any] = []
    index: dict[str, int] = {}
    for values, source, reading in lists:
        for i, item in enumerate(values):
            key = same_value_key(item)
            if key not in index:
                index[key] = len(items)
                items.append(item)
            _move(reading, f"{source}[{i}]", f"{path}[{index[key]}]", out)
    return items


def _scalar(nodes: list[tuple[Any, str, Reading]], path: str, out: Reading) -> Any:
    stated = [(n, _stated(r, p), p, r) for n, p, r in nodes if _stated(r, p)]
    if not stated:
        return nodes[0][0]  # a default (or None) every reading agrees to leave
    by_value: dict[str, list[tuple[Any, list[Evidence], str, Reading]]] = {}
    for item in stated:
        by_value.setdefault(same_value_key(item[0]), []).append(item)

    def weight(key: str) -> tuple[int, int]:
        sentences = {(e.doc, e.sentence_id) for _, cited, _, _ in by_value[key] for e in cited}
        first = min(e.start for _, cited, _, _ in by_value[key] for e in cited)
        return len(sentences), -first

    ranked = sorted(by_value, key=weight, reverse=True)
    kept = by_value[ranked[0]]
    for _, _, source, reading in kept:
        _move(reading, source, path, out)
    losers = []
    for key in ranked[1:]:
        value = by_value[key][0][0]
        ids = sorted({e.sentence_id for _, cited, _, _ in by_value[key] for e in cited})
        losers.append(f"{_shown(value)} (sentences {ids})")
    if losers:
        count = weight(ranked[0])[0]
        why = "more sentences state" if count > weight(ranked[1])[0] else "is stated first"
        out.dropped[path] = f"{'; '.join(losers)}: conflicts with {_shown(kept[0][0])}, which {why}"
    return kept[0][0]


def _shown(value: Any) -> str:
    return json.dumps(_plain(value), ensure_ascii=False)


def _plain(value: Any) -> Any:
    """``value`` as JSON data (a model by its fields, an enum by its value)."""
    fields = _fields(value)
    if fields is not None:
        return {k: _plain(v) for k, v in fields.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    if isinstance(value, enum.Enum):
        return _plain(value.value)
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return float(value)
    return value


def same_value_key(value: Any) -> str:
    """What two values must share to be the same: text in any case and spacing,
    numbers by value, models field by field."""

    def norm(data: Any) -> Any:
        if isinstance(data, str):
            return " ".join(data.casefold().split()).strip(".,;:!?\"'“”‘’")
        if isinstance(data, bool) or data is None:
            return data
        if isinstance(data, int | float):
            return float(data)
        if isinstance(data, dict):
            return {k: norm(v) for k, v in data.items()}
        if isinstance(data, list):
            return [norm(v) for v in data]
        return data

    return json.dumps(norm(_plain(value)), sort_keys=True, default=str)
