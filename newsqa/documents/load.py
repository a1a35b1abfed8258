"""Load documents from strings, text files, folders and JSONL records.

Bad input never gets through silently: empty or whitespace-only text, binary
data, invalid UTF-8 and oversized files raise :class:`~newsqa.errors.DocumentError`.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

from newsqa.documents.sentences import split_sentences
from newsqa.errors import DocumentError
from newsqa.types import Document

__all__ = [
    "DEFAULT_MAX_BYTES",
    "document_from_text",
    "iter_inputs",
    "iter_jsonl",
    "load_document",
    "load_documents",
]

DEFAULT_MAX_BYTES = 8 * 1024 * 1024
TEXT_SUFFIXES = frozenset({".txt", ".md", ".text"})
_DATE_PREFIX = re.compile(r"\A\s*date\s+(\d{4}-\d{2}-\d{2})[ \t]*\n?[ \t]*")
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0e-\x1f\x7f]")


def _parse_date(value: Any, source: str) -> dt.date | None:
    if value in (None, ""):
        return None
    if isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(str(value)[:10])
    except ValueError as e:
        raise DocumentError(
            f"{source}: invalid date {value!r}", reason="format", source=source
        ) from e


def _check_text(text: str, source: str) -> None:
    if not text.strip():
        raise DocumentError(f"{source}: document is empty", reason="empty", source=source)
    sample = text[:65536]
    if "\x00" in sample or len(_CONTROL.findall(sample)) > max(8, len(sample) // 100):
        raise DocumentError(
            f"{source}: looks like binary data, not text", reason="binary", source=source
        )


def document_from_text(
    text: str,
    *,
    id: str = "doc",
    date: dt.date | str | None = None,
    title: str | None = None,
    source: str | None = None,
    parse_date_prefix: bool = True,
) -> Document:
    """Build a :class:`Document` from a string and split it into sentences.

    Args:
        text: the article text.
        id: identifier used in citations.
        date: publication date; when absent and ``parse_date_prefix`` is set, a
            leading ``date YYYY-MM-DD`` marker (the seed format) is parsed and removed.
        title: headline, when known.
        source: where the text came from.
        parse_date_prefix: recognise the ``date YYYY-MM-DD`` prefix.

    Raises:
        DocumentError: empty, whitespace-only or binary text.
    """
    label = source or id
    _check_text(text, label)
    parsed_date = _parse_date(date, label)
    if parse_date_prefix:
        match = _DATE_PREFIX.match(text)
        if match:
            if parsed_date is None:
                parsed_date = _parse_date(match.group(1), label)
            text = text[match.end() :]
    text = text.strip()
    _check_text(text, label)
    return Document(
        id=id,
        text=text,
        date=parsed_date,
        title=title,
        source=source,
        sentences=tuple(split_sentences(text)),
    )


def _read_text(path: Path, max_bytes: int) -> str:
    label = str(path)
    if not path.exists():
        raise DocumentError(f"{label}: no such file", reason="not_found", source=label)
    if not path.is_file():
        raise DocumentError(f"{label}: not a file", reason="not_found", source=label)
    size = path.stat().st_size
    if size > max_bytes:
        raise DocumentError(
            f"{label}: file is {size:,} bytes, over the {max_bytes:,}-byte limit",
            reason="too_large",
            source=label,
        )
    data = path.read_bytes()
    if b"\x00" in data[:65536]:
        raise DocumentError(
            f"{label}: looks like binary data, not text", reason="binary", source=label
        )
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as e:
        raise DocumentError(
            f"{label}: not valid UTF-8 (byte {e.start}); re-encode the file as UTF-8",
            reason="encoding",
            source=label,
        ) from e


def iter_jsonl(path: Path, *, max_bytes: int = DEFAULT_MAX_BYTES) -> Iterator[Document]:
    """Yield documents from a JSONL file of ``{"id", "text", "date"?, "title"?, "source"?}``.

    Raises:
        DocumentError: unreadable file, a line that is not a JSON object, a record
            without ``id``/``text``, or bad text in a record.
    """
    label = str(path)
    if not path.is_file():
        raise DocumentError(f"{label}: no such file", reason="not_found", source=label)
    with path.open("rb") as fh:
        for lineno, raw in enumerate(fh, start=1):
            yield from _record_document(raw, f"{label}:{lineno}", max_bytes)


def _record_document(raw: bytes, where: str, max_bytes: int) -> Iterator[Document]:
    if len(raw) > max_bytes:
        raise DocumentError(
            f"{where}: record is over the {max_bytes:,}-byte limit",
            reason="too_large",
            source=where,
        )
    try:
        line = raw.decode("utf-8-sig")
    except UnicodeDecodeError as e:
        raise DocumentError(
            f"{where}: not valid UTF-8 (byte {e.start})", reason="encoding", source=where
        ) from e
    if not line.strip():
        return
    try:
        record = json.loads(line)
    except json.JSONDecodeError as e:
        raise DocumentError(
            f"{where}: not valid JSON ({e.msg})", reason="format", source=where
        ) from e
    if not isinstance(record, dict) or "text" not in record or "id" not in record:
        raise DocumentError(
            f"{where}: a record needs 'id' and 'text'", reason="format", source=where
        )
    for key in ("text", "title", "source", "date"):
        value = record.get(key)
        if value is not None and not isinstance(value, str):
            raise DocumentError(f"{where}: '{key}' must be a string", reason="format", source=where)
    yield document_from_text(
        record["text"],
        id=str(record["id"]),
        date=record.get("date"),
        title=record.get("title"),
        source=record.get("source") or where,
    )


def iter_inputs(
    path: str | Path, *, max_bytes: int = DEFAULT_MAX_BYTES
) -> Iterator[Document | DocumentError]:
    """Yield each document of a folder of text files or a ``.jsonl`` file, or the
    :class:`DocumentError` of an input that cannot be loaded, without stopping.

    Used by batch runs, where one bad file or record must not lose the others.

    Raises:
        DocumentError: ``path`` itself is missing or holds no inputs.
    """
    path = Path(path)
    if path.is_dir():
        files = sorted(p for p in path.iterdir() if p.suffix.lower() in TEXT_SUFFIXES)
        if not files:
            raise DocumentError(
                f"{path}: no .txt or .md files", reason="not_found", source=str(path)
            )
        for file in files:
            try:
                yield load_document(file, max_bytes=max_bytes)
            except DocumentError as e:
                yield e
        return
    if path.suffix.lower() != ".jsonl":
        raise DocumentError(
            f"{path}: expected a folder or a .jsonl file", reason="format", source=str(path)
        )
    if not path.is_file():
        raise DocumentError(f"{path}: no such file", reason="not_found", source=str(path))
    with path.open("rb") as fh:
        for lineno, raw in enumerate(fh, start=1):
            try:
                yield from _record_document(raw, f"{path}:{lineno}", max_bytes)
            except DocumentError as e:
                yield e


def load_document(path: str | Path, *, max_bytes: int = DEFAULT_MAX_BYTES) -> Document:
    """Load one plain-text article; its id is the file stem.

    Raises:
        DocumentError: missing, oversized, binary, non-UTF-8 or empty file.
    """
    path = Path(path)
    text = _read_text(path, max_bytes)
    return document_from_text(text, id=path.stem, source=str(path))


def load_documents(
    paths: Iterable[str | Path], *, max_bytes: int = DEFAULT_MAX_BYTES
) -> list[Document]:
    """Load text files, ``.jsonl`` record files and folders of text files, in order.

    Raises:
        DocumentError: for the first input that cannot be loaded.
    """
    docs: list[Document] = []
    for item in paths:
        path = Path(item)
        if path.is_dir():
            files = sorted(
                p
                for p in path.iterdir()
                if p.suffix.lower() in TEXT_SUFFIXES or p.suffix.lower() == ".jsonl"
            )
            if not files:
                raise DocumentError(
                    f"{path}: no .txt, .md or .jsonl files", reason="not_found", source=str(path)
                )
            docs.extend(load_documents(files, max_bytes=max_bytes))
        elif path.suffix.lower() == ".jsonl":
            docs.extend(iter_jsonl(path, max_bytes=max_bytes))
        else:
            docs.append(load_document(path, max_bytes=max_bytes))
    return docs
