"""A persistent corpus on SQLite: documents, sentences with offsets, an FTS5 index.

Passages are windows of up to three sentences (overlapping by one) indexed with FTS5
and ranked by BM25. The database runs in WAL mode, so readers keep working while
another process indexes; each document is checked and written in one
transaction, so concurrent writers on overlapping inputs store every document
once. A file that is not a newsqa corpus is never written to; one this process cannot
write (a read-only mount) is opened read-only, for queries. User queries never
reach FTS5 syntax: they are reduced to quoted words joined with OR, the rarest ones
only when the common ones would make a query score most of the corpus (:data:`ROW_BUDGET`).
"""

from __future__ import annotations

import datetime as dt
import sqlite3
from collections.abc import Callable, Iterable
from pathlib import Path

from newsqa.errors import DocumentError
from newsqa.retrieval.base import Hit, IndexStats
from newsqa.retrieval.passages import content_hash, query_words, windows
from newsqa.sqlite_files import connect, locked, use_wal, writable
from newsqa.types import Document, Sentence

__all__ = ["IndexStats", "SQLiteIndex", "fts_query", "query_words"]

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS documents (
    id TEXT PRIMARY KEY, title TEXT, date TEXT, source TEXT, hash TEXT NOT NULL,
    text TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS sentences (
    doc_id TEXT NOT NULL REFERENCES documents(id) ON DELETE CASCADE,
    sid INTEGER NOT NULL, start INTEGER NOT NULL, "end" INTEGER NOT NULL,
    PRIMARY KEY (doc_id, sid)
) WITHOUT ROWID;
CREATE VIRTUAL TABLE IF NOT EXISTS passages USING fts5(
    text, doc_id UNINDEXED, first_sid UNINDEXED, last_sid UNINDEXED,
    tokenize = 'porter unicode61'
);
CREATE INDEX IF NOT EXISTS documents_date ON documents(date);
"""
_FORMAT = "newsqa-corpus-1"
ROW_BUDGET = 20_000
"""Most passages a query scores: BM25 over an OR of every question word scores every
passage holding any of them, so the cost grew with the corpus. The rarest words are
kept while the passages holding them add up to at most this (common words weigh
little in BM25 anyway); at least :data:`MIN_TERMS` words are always kept."""
MIN_TERMS = 1


def fts_query(text: str) -> str | None:
    """A safe FTS5 query for free text: its content words, each quoted, joined by OR.

    Quotes, ``AND``/``OR``/``NEAR``, ``*``, ``:`` and parentheses in ``text`` lose
    their FTS5 meaning. Returns ``None`` when no searchable word is left.
    """
    words = query_words(text)
    return " OR ".join(f'"{w}"' for w in words) if words else None


class SQLiteIndex:
    """A corpus in one SQLite file.

    Args:
        path: the database file.
        create: create it when missing; otherwise a missing file is an error.

    Attributes:
        read_only: the file cannot be written here (a read-only mount or an
            immutable file): searches work, :meth:`add` raises.

    Raises:
        DocumentError: missing file (``create=False``) or a file that is not a
            newsqa corpus.
    """

    def __init__(self, path: str | Path, *, create: bool = True) -> None:
        self.path = Path(path)
        self.read_only = self.path.is_file() and not writable(self.path)
        if not create and not self.path.is_file():
            raise DocumentError(
                f"{self.path}: no such corpus; build it with `newsqa index`",
                reason="not_found",
                source=str(self.path),
            )
        if create and not self.read_only:
            self.path.parent.mkdir(parents=True, exist_ok=True)
        try:
            self._db = connect(self.path, read_only=self.read_only)
        except sqlite3.Error as e:
            raise DocumentError(
                f"{self.path}: cannot open ({e})", reason="format", source=str(self.path)
            ) from e
        try:
            self._open(create)
        except sqlite3.DatabaseError as e:
            self._db.close()
            if locked(e):
                raise DocumentError(
                    f"{self.path}: another process kept the corpus locked too long; "
                    "try again when it is done",
                    reason="busy",
                    source=str(self.path),
                ) from e
            raise DocumentError(
                f"{self.path}: not a newsqa corpus ({e})", reason="format", source=str(self.path)
            ) from e
        except DocumentError:
            self._db.close()
            raise

    def _open(self, create: bool) -> None:
        """Check the file is a newsqa corpus (or empty, when creating) and set it up.

        The check and the schema run in one write transaction, so concurrent creators
        of a new corpus do not trip over each other.
        """
        if self.read_only:
            self._check_format(self._tables(), create=False)
            return
        self._db.execute("PRAGMA foreign_keys=ON")
        with self._db:
            self._db.execute("BEGIN IMMEDIATE")
            if not self._check_format(self._tables(), create=create):
                for statement in _SCHEMA.split(";"):
                    if statement.strip():
                        self._db.execute(statement)
                self._db.execute("INSERT INTO meta VALUES ('format', ?)", (_FORMAT,))
        use_wal(self._db)  # only once the file is known to be ours

    def _tables(self) -> set[str]:
        return {r[0] for r in self._db.execute("SELECT name FROM sqlite_master")}

    def _check_format(self, tables: set[str], *, create: bool) -> bool:
        """Whether the file is a newsqa corpus already (``False``: an empty file to set
        up, when creating).

        Raises:
            DocumentError: a file holding other tables or another corpus format.
        """
        row = (
            self._db.execute("SELECT value FROM meta WHERE key='format'").fetchone()
            if "meta" in tables
            else None
        )
        if row is None and (tables or not create):
            raise DocumentError(
                f"{self.path}: not a newsqa corpus (it holds other tables); choose another file",
                reason="format",
                source=str(self.path),
            )
        if row is not None and row[0] != _FORMAT:
            raise DocumentError(
                f"{self.path}: corpus format {row[0]!r} is not supported",
                reason="format",
                source=str(self.path),
            )
        return row is not None

    def close(self) -> None:
        """Close the database."""
        self._db.close()

    def __len__(self) -> int:
        return int(self._db.execute("SELECT COUNT(*) FROM documents").fetchone()[0])

    def undated(self) -> int:
        """How many stored documents have no date (a ``since``/``until`` bound leaves
        them out of a search)."""
        return int(
            self._db.execute("SELECT COUNT(*) FROM documents WHERE date IS NULL").fetchone()[0]
        )

    def ids(self) -> set[str]:
        """Ids of every stored document."""
        return {r[0] for r in self._db.execute("SELECT id FROM documents")}

    def add(
        self,
        docs: Iterable[Document],
        *,
        prune: bool = False,
        on_done: Callable[[Document, str], None] | None = None,
    ) -> IndexStats:
        """Store documents: unchanged ones (same text, title and date) are skipped (a
        new ``source`` is recorded), changed ones replaced.

        Args:
            docs: the documents.
            prune: remove stored documents that are not in ``docs``.
            on_done: called with each document and ``added``/``replaced``/``unchanged``.

        Raises:
            DocumentError: two documents with one id, or a read-only corpus.
        """
        if self.read_only:
            raise DocumentError(
                f"{self.path}: read-only here (a read-only mount or an immutable file); "
                "it can be searched, not added to",
                reason="read_only",
                source=str(self.path),
            )
        added = replaced = unchanged = 0
        seen: set[str] = set()
        for doc in docs:
            if doc.id in seen:
                raise DocumentError(
                    f"two documents share the id {doc.id!r}", reason="format", source=doc.source
                )
            seen.add(doc.id)
            digest = content_hash(doc)
            outcome = "unchanged"
            if self._stored(doc.id) != (digest, doc.source):  # read first: unchanged, no lock
                with self._db:
                    self._db.execute("BEGIN IMMEDIATE")
                    stored = self._stored(doc.id)  # again, now that no one else writes
                    if stored is not None and stored[0] == digest:
                        self._db.execute(
                            "UPDATE documents SET source = ? WHERE id = ?", (doc.source, doc.id)
                        )
                    elif stored is None:
                        self._insert(doc, digest)
                        outcome = "added"
                    else:
                        self._delete(doc.id)
                        self._insert(doc, digest)
                        outcome = "replaced"
            if outcome == "added":
                added += 1
            elif outcome == "replaced":
                replaced += 1
            else:
                unchanged += 1
            if on_done:
                on_done(doc, outcome)
        pruned = 0
        if prune:
            stale = self.ids() - seen
            with self._db:
                self._db.execute("BEGIN IMMEDIATE")
                for doc_id in stale:
                    self._delete(doc_id)
            pruned = len(stale)
        return IndexStats(added=added, replaced=replaced, unchanged=unchanged, pruned=pruned)

    def _stored(self, doc_id: str) -> tuple[str, str | None] | None:
        """The stored document's hash and source."""
        row = self._db.execute(
            "SELECT hash, source FROM documents WHERE id = ?", (doc_id,)
        ).fetchone()
        return None if row is None else (str(row[0]), row[1])

    def _delete(self, doc_id: str) -> None:
        self._db.execute("DELETE FROM passages WHERE doc_id = ?", (doc_id,))
        self._db.execute("DELETE FROM sentences WHERE doc_id = ?", (doc_id,))
        self._db.execute("DELETE FROM documents WHERE id = ?", (doc_id,))

    def _insert(self, doc: Document, digest: str) -> None:
        self._db.execute(
            "INSERT INTO documents VALUES (?, ?, ?, ?, ?, ?)",
            (
                doc.id,
                doc.title,
                doc.date.isoformat() if doc.date else None,
                doc.source,
                digest,
                doc.text,
            ),
        )
        self._db.executemany(
            "INSERT INTO sentences VALUES (?, ?, ?, ?)",
            [(doc.id, s.id, s.start, s.end) for s in doc.sentences],
        )
        rows = [(w.text, doc.id, w.first, w.last) for w in windows(doc)]
        self._db.executemany("INSERT INTO passages VALUES (?, ?, ?, ?)", rows)

    def search(
        self,
        query: str,
        k: int = 8,
        *,
        since: dt.date | None = None,
        until: dt.date | None = None,
    ) -> list[Hit]:
        """The ``k`` best passages by BM25 among documents dated within the bounds
        (with a bound, undated documents are left out: count them with :meth:`undated`)."""
        if k < 1:
            return []
        match = self._match(query)
        if match is None:
            return []
        rows = self._ranked(match, k, since, until)
        texts: dict[str, str] = {}  # each document's text read once, not once per hit
        hits = []
        for doc_id, first, last, score, title, date in rows:
            spans = self._db.execute(
                'SELECT MIN(start), MAX("end") FROM sentences '
                "WHERE doc_id = ? AND sid BETWEEN ? AND ?",
                (doc_id, first, last),
            ).fetchone()
            if doc_id not in texts:
                texts[doc_id] = self._db.execute(
                    "SELECT text FROM documents WHERE id = ?", (doc_id,)
                ).fetchone()[0]
            hits.append(
                Hit(
                    doc_id=doc_id,
                    title=title,
                    date=dt.date.fromisoformat(date) if date else None,
                    sentence_ids=tuple(range(int(first), int(last) + 1)),
                    start=int(spans[0]),
                    end=int(spans[1]),
                    text=texts[doc_id][spans[0] : spans[1]],
                    score=-float(score),
                )
            )
        return hits

    def _ranked(
        self, match: str, k: int, since: dt.date | None, until: dt.date | None
    ) -> list[tuple[str, int, int, float, str | None, str | None]]:
        """The ``k`` best passages for ``match`` within the dates, best first.

        FTS5 ranks the matches alone (no join per match); only the best ``fetch`` are
        joined with their documents' dates. When the dates leave fewer than ``k`` and
        more matches exist, ``fetch`` grows fourfold.
        """
        sql = (
            "SELECT p.doc_id, p.first_sid, p.last_sid, p.score, d.title, d.date FROM ("
            "SELECT doc_id, first_sid, last_sid, rank AS score FROM passages "
            "WHERE passages MATCH ? ORDER BY rank LIMIT ?"
            ") p JOIN documents d ON d.id = p.doc_id"
        )
        filters: list[object] = []
        if since is not None:
            sql += " WHERE d.date IS NOT NULL AND d.date >= ?"
            filters.append(since.isoformat())
        if until is not None:
            sql += " AND" if filters else " WHERE"
            sql += " d.date IS NOT NULL AND d.date <= ?"
            filters.append(until.isoformat())
        sql += " ORDER BY p.score LIMIT ?"
        fetch = k if not filters else max(4 * k, 32)
        while True:
            rows = self._db.execute(sql, [match, fetch, *filters, k]).fetchall()
            if len(rows) >= k or not filters:
                return rows
            fetched = self._db.execute(
                "SELECT count(*) FROM (SELECT 1 FROM passages WHERE passages MATCH ? LIMIT ?)",
                (match, fetch),
            ).fetchone()[0]
            if fetched < fetch:  # every match was ranked
                return rows
            fetch *= 4

    def _passages_with(self, word: str, cap: int) -> int:
        """How many passages contain ``word``, counting no further than ``cap``."""
        row = self._db.execute(
            "SELECT count(*) FROM (SELECT 1 FROM passages WHERE passages MATCH ? LIMIT ?)",
            (f'"{word}"', cap),
        ).fetchone()
        return int(row[0])

    def _match(self, query: str) -> str | None:
        """The FTS5 query for ``query``: its rarest words, OR-ed (see :data:`ROW_BUDGET`).

        Words are counted up to the budget only, so counting stays cheap on a large
        corpus; only when every word exceeds it are they counted in full, to keep the
        rarest. Words that match no passage are left out; ``None`` when none matches.
        """
        words = query_words(query)
        counts = {w: self._passages_with(w, ROW_BUDGET + 1) for w in words}
        if counts and min(counts.values()) > ROW_BUDGET:
            counts = {w: self._passages_with(w, -1) for w in words}  # -1: no limit
        present = [w for w in words if counts[w]]
        keep: set[str] = set()
        total = 0
        for i, word in enumerate(sorted(present, key=counts.__getitem__)):
            if i >= MIN_TERMS and total + counts[word] > ROW_BUDGET:
                break
            keep.add(word)
            total += counts[word]
        return " OR ".join(f'"{w}"' for w in present if w in keep) or None

    def document(self, doc_id: str) -> Document:
        """The stored document with its sentences.

        Raises:
            KeyError: no such document.
        """
        row = self._db.execute(
            "SELECT id, title, date, source, text FROM documents WHERE id = ?", (doc_id,)
        ).fetchone()
        if row is None:
            raise KeyError(doc_id)
        text = row[4]
        sentences = tuple(
            Sentence(id=sid, start=start, end=end, text=text[start:end])
            for sid, start, end in self._db.execute(
                'SELECT sid, start, "end" FROM sentences WHERE doc_id = ? ORDER BY sid', (doc_id,)
            )
        )
        return Document(
            id=row[0],
            title=row[1],
            date=dt.date.fromisoformat(row[2]) if row[2] else None,
            source=row[3],
            text=text,
            sentences=sentences,
        )
