"""Focused reading: the sentences of a long passage most relevant to a query.

When documents do not fit the context budget, reading every window (map-reduce)
costs one call per window; ranking sentence windows by BM25 against the question
and reading only the best ones that fit costs one call. The ranking uses the same
SQLite FTS5 index as corpus mode, in memory.
"""

from __future__ import annotations

from newsqa.grounding.passage import DOC_TOKENS, Passage
from newsqa.retrieval.sqlite_index import SQLiteIndex

__all__ = ["focus"]


def focus(passage: Passage, query: str, max_tokens: int) -> Passage:
    """The sentences of ``passage`` from the windows that best match ``query``
    (BM25, best first) that fit within ``max_tokens``, kept in passage order.

    Falls back to the passage's first sentences when no window shares a word with
    ``query``.
    """
    if passage.fits(max_tokens):
        return passage
    index = SQLiteIndex(":memory:")
    try:
        index.add(passage.docs)
        hits = index.search(query, k=len(passage.units))
    finally:
        index.close()
    number = {(u.doc.id, u.sentence.id): u.number for u in passage.units}
    cost = dict(zip((u.number for u in passage.units), passage.costs(), strict=True))
    doc_of = {u.number: u.doc.id for u in passage.units}
    chosen: set[int] = set()
    shown_docs: set[str] = set()
    total = 0  # tokens of passage.subset(chosen), kept as hits are added (no recount)
    for hit in hits:
        new = {number[(hit.doc_id, s)] for s in hit.sentence_ids if (hit.doc_id, s) in number}
        new -= chosen
        if not new:
            continue
        docs = {doc_of[n] for n in new} - shown_docs
        more = sum(cost[n] for n in new) + DOC_TOKENS * len(docs)
        if total + more <= max_tokens:
            chosen |= new
            shown_docs |= docs
            total += more
    if not chosen:
        return passage.windows(max_tokens)[0]
    return passage.subset(chosen)
