"""Find the political actors a text names, with a gazetteer (no model involved).

A small model misses actors named only by their leaders or seats of government
(Putin, the Kremlin); matching a gazetteer first makes actor discovery reliable
and cheap. Each match keeps the sentence ids where the actor is named.

The gazetteer is the bundled, curated table (major countries with their leaders,
governments and seats; the EU, NATO, the UN, ...) extended with every country of
the ``countryinfo`` package: its common name, other spellings, capital and demonym.
An alias claimed by several countries goes to the curated entry, else to the most
populous country ("Dominican" is the Dominican Republic, not Dominica).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources

from newsqa.documents.attribution import alias_pattern
from newsqa.types import Document, Sentence

__all__ = ["ActorMention", "curated", "find_actors", "find_actors_in", "gazetteer"]


@dataclass(frozen=True)
class ActorMention:
    """An actor named in a document."""

    name: str
    aliases: tuple[str, ...]
    """The aliases that occur in the text, most frequent first."""
    sentence_ids: tuple[int, ...]
    """Sentences naming the actor, in order."""


_SKIPPED_ALIASES = frozenset({"Male", "Victoria", "Kingston", "Georgetown", "Avarua"})
"""Capitals that are common words or names elsewhere: not taken as aliases."""
_ALIAS = re.compile(r"^[A-Z](?=.*[a-z])[A-Za-z .'-]{2,}$")


@lru_cache(maxsize=1)
def curated() -> dict[str, tuple[str, ...]]:
    """The bundled, hand-checked table: canonical actor name → aliases."""
    raw = json.loads((resources.files("newsqa") / "data" / "actors.json").read_text("utf-8"))
    return {k: tuple(v) for k, v in raw.items() if not k.startswith("_")}


def _countries() -> list[tuple[str, int, list[str]]]:
    """(name, population, candidate aliases) of every country ``countryinfo`` knows."""
    from countryinfo import CountryInfo

    out = []
    for info in CountryInfo.all().values():
        name = str(info.get("name") or "").strip()
        if not name:
            continue
        names = [name, *(info.get("altSpellings") or []), info.get("capital") or ""]
        demonym = str(info.get("demonym") or "").strip()
        if demonym:
            names += [demonym, demonym + "s"]
        out.append((name, int(info.get("population") or 0), [str(n).strip() for n in names]))
    return out


@lru_cache(maxsize=1)
def gazetteer() -> dict[str, tuple[str, ...]]:
    """Canonical actor name → aliases: the curated table plus every country."""
    table = {k: list(v) for k, v in curated().items()}
    claimed = {a for aliases in table.values() for a in aliases}
    for name, _, aliases in sorted(_countries(), key=lambda c: -c[1]):
        if name in claimed:
            continue
        own = [
            a
            for a in dict.fromkeys(aliases)
            if _ALIAS.match(a) and a not in claimed and a not in _SKIPPED_ALIASES
        ]
        if own:
            table[name] = own
            claimed.update(own)
    return {k: tuple(v) for k, v in table.items()}


def _pattern(aliases: Sequence[str]) -> re.Pattern[str]:
    return alias_pattern(aliases)


def find_actors(
    doc: Document,
    *,
    extra: Mapping[str, Sequence[str]] | None = None,
    limit: int | None = None,
) -> list[ActorMention]:
    """Actors named in ``doc``, most mentioned first (ties: first mention first).

    Args:
        doc: the document to scan.
        extra: more actors (name → aliases); a bundled actor keeps its own aliases too.
        limit: keep at most this many actors.
    """
    return find_actors_in(doc.sentences, extra=extra, limit=limit)


def find_actors_in(
    sentences: Iterable[Sentence],
    *,
    extra: Mapping[str, Sequence[str]] | None = None,
    limit: int | None = None,
) -> list[ActorMention]:
    """Actors named in ``sentences`` (of one or several documents), ranked like
    :func:`find_actors`; ``sentence_ids`` are the given sentences' ids, which only
    need to be distinct (e.g. the numbers of a multi-document passage)."""
    table = dict(gazetteer())
    for name, aliases in (extra or {}).items():  # a known actor keeps its own names too
        table[name] = tuple(dict.fromkeys([*table.get(name, ()), name, *aliases]))
    scanned = list(sentences)
    found: list[tuple[int, int, ActorMention]] = []
    for name, aliases in table.items():
        pattern = _pattern(aliases)
        counts: dict[str, int] = {}
        ids: list[int] = []
        for sentence in scanned:
            hits = pattern.findall(sentence.text)
            if hits:
                ids.append(sentence.id)
                for hit in hits:
                    counts[hit] = counts.get(hit, 0) + 1
        if ids:
            names = tuple(sorted(counts, key=lambda a: -counts[a]))
            found.append((-len(ids), ids[0], ActorMention(name, names, tuple(ids))))
    found.sort(key=lambda item: (item[0], item[1]))
    mentions = [m for _, _, m in found]
    return mentions[:limit] if limit is not None else mentions
