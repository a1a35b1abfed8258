"""A shared corpus on PostgreSQL: the same passages as the SQLite corpus, searched with
PostgreSQL's own full-text machinery (``tsvector`` + GIN, ``websearch_to_tsquery``).

Tables are named ``newsqa_*``; ``newsqa_meta`` holds the corpus format, and a database
holding tables of anything else is refused. Each passage row carries its document's
date, and the passages are partitioned by month (undated ones in a partition of their
own), so an as-of search reads only the months up to its date. A search tries every
query word together first (AND, few matches, cheap) and only when that finds fewer
than ``k`` passages adds those holding any of its rarest words (OR), ranking at most
:data:`ROW_BUDGET` candidates: ``ts_rank`` scores every row it is given, so an OR of
common words would otherwise score most of the corpus. Indexing is idempotent under
concurrency: each document is checked and written under a transaction-level advisory
lock on its id, so two indexers of overlapping inputs store every document once.

Needs the ``postgres`` extra (psycopg 3).
"""

from __future__ import annotations

import datetime as dt
import math
import re
from collections.abc import Callable, Iterable, Iterator, Sequence
from itertools import islice
from typing import TYPE_CHECKING, Any

from newsqa.errors import DocumentError
from newsqa.retrieval.base import Hit, IndexStats
from newsqa.retrieval.passages import content_hash, query_words, windows
from newsqa.types import Document, Sentence

if TYPE_CHECKING:
    import psycopg

__all__ = ["FORMAT", "ROW_BUDGET", "PostgresIndex", "connect", "is_database_url", "redact"]

FORMAT = "newsqa-pg-corpus-2"
ROW_BUDGET = 20_000
"""Most passages one search ranks (AND matches first, then the OR of the rarest words)."""
CHUNK = 200
"""Documents checked and written per transaction while indexing."""
REANALYZE = 0.1
"""An ``add`` analyzes the passages again when it wrote more than this share of the
passages the statistics last counted (autovacuum's own ``analyze_scale_factor``).
ANALYZE samples every month's partition, over a minute at a million articles, and
autovacuum never analyzes a partitioned table itself."""
STATISTICS = 1000
"""ANALYZE's statistics target for the passages' words: the table statistics then list
the 10,000 most common words with their frequencies (100 by default: 1,000), so a
search counts by scanning only words rarer than those."""
_CONFIG = "english"
"""The text search configuration (stemming and stop words) of every tsvector."""
_SCHEMA = f"""
CREATE TABLE newsqa_meta (key text PRIMARY KEY, value text NOT NULL);
CREATE TABLE newsqa_documents (
    id text PRIMARY KEY, title text, date date, source text, hash text NOT NULL,
    text text NOT NULL, starts integer[] NOT NULL, ends integer[] NOT NULL
);
CREATE TABLE newsqa_passages (
    doc_id text NOT NULL REFERENCES newsqa_documents(id) ON DELETE CASCADE,
    first_sid integer NOT NULL, last_sid integer NOT NULL,
    start integer NOT NULL, "end" integer NOT NULL, date date,
    tsv tsvector NOT NULL
) PARTITION BY RANGE (date);
CREATE TABLE newsqa_passages_undated PARTITION OF newsqa_passages
    (CONSTRAINT newsqa_passages_undated_only CHECK (date IS NULL)) DEFAULT;
ALTER TABLE newsqa_passages ALTER COLUMN tsv SET STATISTICS {STATISTICS};
CREATE INDEX newsqa_passages_tsv ON newsqa_passages USING gin (tsv);
CREATE INDEX newsqa_passages_date ON newsqa_passages (date);
CREATE INDEX newsqa_passages_doc ON newsqa_passages (doc_id);
CREATE INDEX newsqa_documents_date ON newsqa_documents (date);
INSERT INTO newsqa_meta VALUES ('format', '{FORMAT}'), ('config', '{_CONFIG}');
"""
_URL = re.compile(r"^(postgres|postgresql)://", re.I)


def is_database_url(target: object) -> bool:
    """Whether ``target`` names a PostgreSQL database (``postgresql://…``)."""
    return isinstance(target, str) and bool(_URL.match(target))


def redact(url: str) -> str:
    """``url`` without its password (for messages)."""
    url = re.sub(r"(://[^:/@?]*):[^@/?]*@", r"\1:***@", url)
    return re.sub(r"(?i)(password=)[^&\s]*", r"\1***", url)


CONNECT_TIMEOUT = 10
"""Seconds to wait for a server that does not answer (unless the URL says otherwise)."""


def connect(pg: Any, url: str) -> psycopg.Connection[Any]:
    """An autocommit connection to ``url`` that gives up on a silent server."""
    options = {} if "connect_timeout" in url else {"connect_timeout": CONNECT_TIMEOUT}
    connection: psycopg.Connection[Any] = pg.connect(url, autocommit=True, **options)
    return connection


def _psycopg() -> Any:
    try:
        import psycopg
    except ImportError:
        raise DocumentError(
            "a PostgreSQL corpus needs the postgres extra: pip install 'newsqa[postgres]'",
            reason="format",
        ) from None
    return psycopg


def _lock_ids(conn: psycopg.Connection[Any], ids: Sequence[str]) -> None:
    """Take the transaction's advisory lock of each id (in one order: no deadlock)."""
    conn.execute(
        "SELECT pg_advisory_xact_lock(hashtextextended(i, 0)) "
        "FROM (SELECT unnest(%s::text[]) AS i ORDER BY 1) AS ids",
        (sorted(ids),),
    )


class PostgresIndex:
    """A corpus in one PostgreSQL database.

    Args:
        url: a libpq URL, e.g. ``postgresql:///news?host=/run/postgresql``.
        create: set the corpus up in an empty database; otherwise a database without
            one is an error.

    Raises:
        DocumentError: the postgres extra is missing, the server cannot be reached
            (``reason="unreachable"``), no corpus there (``create=False``), or a
            database that holds other tables or another corpus format.
    """

    read_only = False
    """A PostgreSQL corpus is written through the server (its roles decide)."""

    def __init__(self, url: str, *, create: bool = True) -> None:
        pg = _psycopg()
        self.url = url
        self._months: set[str] = set()
        self._written = 0
        self._stats: tuple[str | None, dict[str, float]] = (None, {})
        self.where = redact(url)
        try:
            self._db: psycopg.Connection[Any] = connect(pg, url)
        except pg.Error as e:
            raise DocumentError(
                f"{self.where}: cannot reach the database ({_first_line(e)})",
                reason="unreachable",
                source=self.where,
            ) from None
        try:
            self._db.execute("SET jit = off")  # compiling a search's plan costs more than it runs
            self._open(create)
        except pg.Error as e:
            self._db.close()
            raise DocumentError(
                f"{self.where}: cannot use the database ({_first_line(e)})",
                reason="format",
                source=self.where,
            ) from None
        except DocumentError:
            self._db.close()
            raise

    def _open(self, create: bool) -> None:
        """Check the database is a newsqa corpus (or empty, when creating) and set it up,
        in one transaction under an advisory lock (concurrent creators wait)."""
        with self._db.transaction():
            self._db.execute("SELECT pg_advisory_xact_lock(hashtextextended('newsqa_meta', 0))")
            tables = {
                r[0]
                for r in self._db.execute(
                    "SELECT tablename FROM pg_tables WHERE schemaname = current_schema()"
                )
            }
            row = (
                self._db.execute("SELECT value FROM newsqa_meta WHERE key = 'format'").fetchone()
                if "newsqa_meta" in tables
                else None
            )
            if row is not None:
                if row[0] != FORMAT:
                    raise DocumentError(
                        f"{self.where}: corpus format {row[0]!r} is not supported "
                        f"(this newsqa reads {FORMAT!r}); index the articles into a new "
                        "database",
                        reason="format",
                        source=self.where,
                    )
                return
            others = sorted(t for t in tables if not t.startswith("procrastinate_"))
            if others:
                raise DocumentError(
                    f"{self.where}: not a newsqa corpus (it holds other tables: "
                    f"{', '.join(others[:5])}); use another database",
                    reason="format",
                    source=self.where,
                )
            if not create:
                raise DocumentError(
                    f"{self.where}: no newsqa corpus in this database; build it with "
                    "`newsqa index`",
                    reason="not_found",
                    source=self.where,
                )
            self._db.execute(_SCHEMA)

    def close(self) -> None:
        """Close the connection."""
        self._db.close()

    def _scalar(self, sql: str, params: Sequence[object] = ()) -> Any:
        row = self._db.execute(sql, params).fetchone()
        assert row is not None
        return row[0]

    def __len__(self) -> int:
        return int(self._scalar("SELECT count(*) FROM newsqa_documents"))

    def undated(self) -> int:
        """How many stored documents have no date (a ``since``/``until`` bound leaves
        them out of a search)."""
        return int(self._scalar("SELECT count(*) FROM newsqa_documents WHERE date IS NULL"))

    def ids(self) -> set[str]:
        """Ids of every stored document."""
        return {r[0] for r in self._db.execute("SELECT id FROM newsqa_documents")}

    def add(
        self,
        docs: Iterable[Document],
        *,
        prune: bool = False,
        on_done: Callable[[Document, str], None] | None = None,
    ) -> IndexStats:
        """Store documents: unchanged ones (same text, title and date) are skipped (a
        new ``source`` is recorded), changed ones replaced (as
        :meth:`~newsqa.retrieval.SQLiteIndex.add`).

        Raises:
            DocumentError: two documents with one id.
        """
        counts = {"added": 0, "replaced": 0, "unchanged": 0}
        seen: set[str] = set()
        self._written = 0
        for chunk in _chunks(self._unique(docs, seen), CHUNK):
            for doc, outcome in self._add_chunk(chunk):
                counts[outcome] += 1
                if on_done:
                    on_done(doc, outcome)
        if self._written > REANALYZE * self._counted():  # never analyzed: -1
            self._db.execute("ANALYZE newsqa_passages")  # the statistics _counts reads
        pruned = 0
        if prune:
            stale = sorted(self.ids() - seen)
            with self._db.transaction():
                _lock_ids(self._db, stale)
                self._db.execute("DELETE FROM newsqa_documents WHERE id = ANY(%s)", (stale,))
            pruned = len(stale)
        return IndexStats(**counts, pruned=pruned)

    @staticmethod
    def _unique(docs: Iterable[Document], seen: set[str]) -> Iterator[Document]:
        for doc in docs:
            if doc.id in seen:
                raise DocumentError(
                    f"two documents share the id {doc.id!r}", reason="format", source=doc.source
                )
            seen.add(doc.id)
            yield doc

    def _stored(self, ids: Sequence[str]) -> dict[str, tuple[str, str | None]]:
        rows = self._db.execute(
            "SELECT id, hash, source FROM newsqa_documents WHERE id = ANY(%s)", (list(ids),)
        )
        return {r[0]: (r[1], r[2]) for r in rows}

    def _add_chunk(self, chunk: list[Document]) -> list[tuple[Document, str]]:
        """Each document's outcome; only those that differ from the stored ones are
        written, under their ids' locks, after reading them again."""
        digests = {doc.id: content_hash(doc) for doc in chunk}
        before = self._stored(list(digests))  # read first: unchanged, no lock
        todo = [d for d in chunk if before.get(d.id) != (digests[d.id], d.source)]
        outcomes = {d.id: "unchanged" for d in chunk}
        if todo:
            self._partition({d.date for d in todo if d.date is not None})
            with self._db.transaction():
                _lock_ids(self._db, [d.id for d in todo])
                stored = self._stored([d.id for d in todo])  # now that no one else writes
                fresh: list[Document] = []
                for doc in todo:
                    old = stored.get(doc.id)
                    if old is not None and old[0] == digests[doc.id]:
                        if old[1] != doc.source:
                            self._db.execute(
                                "UPDATE newsqa_documents SET source = %s WHERE id = %s",
                                (doc.source, doc.id),
                            )
                        continue
                    outcomes[doc.id] = "added" if old is None else "replaced"
                    fresh.append(doc)
                replaced = [d.id for d in fresh if outcomes[d.id] == "replaced"]
                if replaced:
                    self._db.execute("DELETE FROM newsqa_documents WHERE id = ANY(%s)", (replaced,))
                self._insert(fresh, digests)
        return [(doc, outcomes[doc.id]) for doc in chunk]

    def _partition(self, dates: set[dt.date]) -> None:
        """Create the month partitions of ``dates`` that do not exist yet, in a
        transaction of their own (creating one locks the whole table, so not for the
        length of a chunk's writes) under an advisory lock (concurrent indexers wait)."""
        if {_month(d) for d in dates} <= self._months:
            return
        from psycopg import sql

        with self._db.transaction():
            self._db.execute("SELECT pg_advisory_xact_lock(hashtextextended('newsqa_months', 0))")
            self._months = {
                r[0]
                for r in self._db.execute(
                    "SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid "
                    "WHERE i.inhparent = 'newsqa_passages'::regclass"
                )
            }
            for first in sorted({d.replace(day=1) for d in dates}):
                name = _month(first)
                if name in self._months:
                    continue
                after = _next_month(first)
                self._db.execute(
                    sql.SQL(
                        "CREATE TABLE {} PARTITION OF newsqa_passages FOR VALUES FROM ({}) TO ({})"
                    ).format(
                        sql.Identifier(name),
                        sql.Literal(first),
                        sql.SQL("MAXVALUE") if after is None else sql.Literal(after),
                    )
                )
                self._months.add(name)

    def _insert(self, docs: list[Document], digests: dict[str, str]) -> None:
        if not docs:
            return
        with self._db.cursor() as cur:
            cur.executemany(
                "INSERT INTO newsqa_documents VALUES (%s, %s, %s, %s, %s, %s, %s, %s)",
                [
                    (
                        d.id,
                        d.title,
                        d.date,
                        d.source,
                        digests[d.id],
                        d.text,
                        [s.start for s in d.sentences],
                        [s.end for s in d.sentences],
                    )
                    for d in docs
                ],
            )
            passages = [
                (d.id, w.first, w.last, w.start, w.end, d.date, w.text)
                for d in docs
                for w in windows(d)
            ]
            cur.executemany(
                "INSERT INTO newsqa_passages VALUES "
                f"(%s, %s, %s, %s, %s, %s, to_tsvector('{_CONFIG}', %s))",
                passages,
            )
        self._written += len(passages)

    def search(
        self,
        query: str,
        k: int = 8,
        *,
        since: dt.date | None = None,
        until: dt.date | None = None,
    ) -> list[Hit]:
        """The ``k`` best passages among documents dated within the bounds (with a bound,
        undated documents are left out: count them with :meth:`undated`).

        A passage scores the inverse document frequency of each query word it holds
        (rare words weigh most, as in BM25), plus its ``ts_rank``. Passages holding every
        query word are looked up first; only when fewer than ``k`` do, the passages
        holding any of the rarest words (:data:`ROW_BUDGET`) are ranked too."""
        words = query_words(query)
        if k < 1 or not words:
            return []
        counts = self._counts(words)
        present = [w for w in words if counts[w]]
        if not present:
            return []
        passages = max(self._passages(), *counts.values())
        weights = [math.log(1 + passages / counts[w]) for w in present]
        dates, params = _date_filter(since, until)
        rows = self._ranked(present, weights, "AND", k, dates, params)
        if len(rows) < k and len(present) > 1:
            rare = set(_rarest(present, counts))
            kept = [(w, x) for w, x in zip(present, weights, strict=True) if w in rare]
            scan = sum(counts[w] for w, _ in kept) > math.sqrt(ROW_BUDGET * passages)
            more = self._ranked(
                [w for w, _ in kept], [x for _, x in kept], "OR", k, dates, params, scan=scan
            )
            have = {(r[0], r[1]) for r in rows}
            rows += [r for r in more if (r[0], r[1]) not in have][: k - len(rows)]
        return [
            Hit(
                doc_id=doc_id,
                title=title,
                date=date,
                sentence_ids=tuple(range(first, last + 1)),
                start=start,
                end=end,
                text=text,
                score=float(score),
            )
            for doc_id, first, last, start, end, score, title, date, text in rows
        ]

    def _ranked(
        self,
        words: list[str],
        weights: list[float],
        join: str,
        k: int,
        dates: str,
        params: list[object],
        *,
        scan: bool = False,
    ) -> list[tuple[Any, ...]]:
        """The ``k`` best of at most :data:`ROW_BUDGET` passages holding all (``AND``) or
        any (``OR``) of ``words`` within the dates, best first.

        The candidates come from the GIN index (a bitmap of every passage holding the
        words, then the first of them), or with ``scan`` from reading the table until
        enough hold them: a bitmap builds one entry per passage holding the words and
        a scan reads ``ROW_BUDGET / share`` rows, at about the same cost a row (0.2 µs
        here), so a word in more than ``sqrt(ROW_BUDGET * passages)`` passages is
        cheaper scanned for (:meth:`search` decides; the planner cannot, since it
        prices a ``tsvector`` match far below its cost and picks a scan for words a
        bitmap finds faster)."""
        websearch = f" {'or ' if join == 'OR' else ''}".join(f'"{w}"' for w in words)
        sql = f"""
            WITH terms AS MATERIALIZED (
                SELECT websearch_to_tsquery('{_CONFIG}', '"' || t || '"') AS tq, w
                FROM unnest(%s::text[], %s::float8[]) AS x(t, w)
            ),
            q AS MATERIALIZED (SELECT websearch_to_tsquery('{_CONFIG}', %s) AS q),
            hits AS (
                SELECT p.doc_id, p.first_sid, p.last_sid, p.start, p."end",
                       (SELECT sum(terms.w) FROM terms WHERE p.tsv @@ terms.tq)
                       + ts_rank(p.tsv, q.q, 1) AS score
                FROM newsqa_passages p, q WHERE p.tsv @@ q.q{dates} LIMIT %s
            ),
            best AS (SELECT * FROM hits ORDER BY score DESC, doc_id, first_sid LIMIT %s)
            SELECT b.doc_id, b.first_sid, b.last_sid, b.start, b."end", b.score,
                   d.title, d.date, substr(d.text, b.start + 1, b."end" - b.start)
            FROM best b JOIN newsqa_documents d ON d.id = b.doc_id
            ORDER BY b.score DESC, b.doc_id, b.first_sid
        """
        args = [words, weights, websearch, *params, ROW_BUDGET, k]
        if not scan:
            return list(self._db.execute(sql, args).fetchall())
        with self._db.transaction():
            self._db.execute("SET LOCAL enable_bitmapscan = off")  # a date index may serve
            return list(self._db.execute(sql, args).fetchall())

    def _counts(self, words: list[str]) -> dict[str, int]:
        """How many passages hold each word. A common word's count is the table
        statistics' estimate (``most_common_elems``, which ANALYZE keeps for a tsvector
        column): no scan; only the others, rare once the table is analyzed, are counted,
        no further than :data:`ROW_BUDGET` + 1."""
        passages = self._passages()
        rows = self._db.execute(
            f"""
            SELECT t, tsvector_to_array(to_tsvector('{_CONFIG}', t)),
                (SELECT greatest(last_analyze, last_autoanalyze)::text FROM pg_stat_user_tables
                 WHERE relid = 'newsqa_passages'::regclass)
            FROM unnest(%s::text[]) AS t
            """,
            (words,),
        ).fetchall()
        common = self._common(rows[0][2] if rows else None)
        counts: dict[str, int] = {}
        for word, lexemes, _ in rows:
            freq = max((common[x] for x in lexemes if x in common), default=None)
            if freq is not None:
                counts[word] = max(round(freq * passages), 1)
            else:
                counts[word] = int(
                    self._scalar(
                        "SELECT count(*) FROM (SELECT 1 FROM newsqa_passages WHERE tsv @@ "
                        f"websearch_to_tsquery('{_CONFIG}', %s) LIMIT %s) AS m",
                        (f'"{word}"', ROW_BUDGET + 1),
                    )
                )
        return counts

    def _common(self, analyzed: str | None) -> dict[str, float]:
        """The table statistics' most common words (lexeme: share of passages), read
        again only when the table was analyzed since (``analyzed``, its last ANALYZE):
        the list of 10,000 takes tens of milliseconds to read, more than a search."""
        if self._stats[0] != analyzed or analyzed is None:
            rows = self._db.execute(
                """
                SELECT e.lexeme, e.freq FROM pg_stats s,
                    unnest(s.most_common_elems::text::text[],
                           s.most_common_elem_freqs[1:array_length(s.most_common_elems, 1)])
                    AS e(lexeme, freq)
                WHERE s.schemaname = current_schema() AND s.tablename = 'newsqa_passages'
                    AND s.attname = 'tsv'
                """
            ).fetchall()
            self._stats = (analyzed, {lexeme: float(freq) for lexeme, freq in rows})
        return self._stats[1]

    def _passages(self) -> int:
        """About how many passages the corpus holds: the planner's estimate (kept by
        autovacuum, no scan), counted only before the table was first analyzed."""
        estimate = self._counted()
        if not estimate or estimate <= 0:
            estimate = self._scalar("SELECT count(*) FROM newsqa_passages")
        return max(int(estimate), 1)

    def _counted(self) -> float:
        """The passages the last ANALYZE counted (``reltuples``; -1 before the first)."""
        return float(
            self._scalar("SELECT reltuples FROM pg_class WHERE oid = 'newsqa_passages'::regclass")
        )

    def document(self, doc_id: str) -> Document:
        """The stored document with its sentences.

        Raises:
            KeyError: no such document.
        """
        row = self._db.execute(
            "SELECT id, title, date, source, text, starts, ends FROM newsqa_documents "
            "WHERE id = %s",
            (doc_id,),
        ).fetchone()
        if row is None:
            raise KeyError(doc_id)
        text = row[4]
        sentences = tuple(
            Sentence(id=i, start=start, end=end, text=text[start:end])
            for i, (start, end) in enumerate(zip(row[5], row[6], strict=True), start=1)
        )
        return Document(
            id=row[0], title=row[1], date=row[2], source=row[3], text=text, sentences=sentences
        )


def _rarest(words: list[str], counts: dict[str, int]) -> list[str]:
    """The rarest of ``words`` whose passages add up to at most :data:`ROW_BUDGET`
    (at least one)."""
    keep: list[str] = []
    total = 0
    for word in sorted(words, key=counts.__getitem__):
        if keep and total + counts[word] > ROW_BUDGET:
            break
        keep.append(word)
        total += counts[word]
    return keep


def _month(date: dt.date) -> str:
    """The name of the partition that holds the passages dated ``date``."""
    return f"newsqa_passages_{date.year:04d}_{date.month:02d}"


def _next_month(first: dt.date) -> dt.date | None:
    """The first day of the month after ``first``'s (``None`` after December 9999)."""
    if first.month < 12:
        return first.replace(month=first.month + 1)
    return None if first.year == dt.MAXYEAR else first.replace(year=first.year + 1, month=1)


def _date_filter(since: dt.date | None, until: dt.date | None) -> tuple[str, list[object]]:
    sql, params = "", list[object]()
    if since is not None:
        sql += " AND p.date >= %s"
        params.append(since)
    if until is not None:
        sql += " AND p.date <= %s"
        params.append(until)
    return sql, params


def _chunks(items: Iterable[Document], size: int) -> Iterator[list[Document]]:
    it = iter(items)
    while chunk := list(islice(it, size)):
        yield chunk


def _first_line(error: Exception) -> str:
    return (str(error).strip().splitlines() or [type(error).__name__])[0]
