"""A corpus this process cannot write (a read-only mount, an immutable file) is
searched, never reported as "not a newsqa corpus"."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from newsqa import Corpus, DocumentError
from newsqa.cli import main
from newsqa.types import Document


@contextmanager
def _unwritable(folder: Path) -> Iterator[None]:
    """``folder`` and its files made unwritable for this process: immutable
    (``chattr +i``, which stops root too, as a read-only mount does), or read-only
    permissions for another user."""
    targets = [*folder.iterdir(), folder]
    if os.geteuid() == 0:
        done = subprocess.run(["chattr", "+i", *map(str, targets)], capture_output=True)
        if done.returncode:
            pytest.skip(f"chattr +i unavailable here: {done.stderr.decode().strip()}")
        try:
            yield
        finally:
            subprocess.run(["chattr", "-i", *map(str, targets)], check=True)
        return
    for target in targets:
        target.chmod(0o555 if target.is_dir() else 0o444)
    try:
        yield
    finally:
        for target in targets:
            target.chmod(0o755 if target.is_dir() else 0o644)


@pytest.fixture
def frozen_corpus(tmp_path: Path, seed: Document) -> Iterator[Path]:
    path = tmp_path / "ro" / "news.sqlite"
    with Corpus(path) as corpus:
        corpus.add([seed])
    assert sorted(p.name for p in path.parent.iterdir()) == ["news.sqlite"]  # WAL closed
    with _unwritable(path.parent):
        yield path


def test_a_read_only_corpus_is_searched(frozen_corpus: Path, seed: Document) -> None:
    with Corpus(frozen_corpus, create=False) as corpus:
        assert corpus.read_only
        assert len(corpus) == 1
        hits = corpus.search("military aid to Ukraine", k=2)
        assert hits and hits[0].doc_id == seed.id
        assert corpus.document(seed.id).text == seed.text
    with Corpus(frozen_corpus) as corpus:  # the default (create) opens it too
        assert corpus.search("Peskov", k=1)


def test_adding_to_a_read_only_corpus_says_so(frozen_corpus: Path, seed: Document) -> None:
    with Corpus(frozen_corpus) as corpus, pytest.raises(DocumentError) as info:
        corpus.add([seed])
    assert info.value.reason == "read_only"
    assert str(info.value).startswith(f"{frozen_corpus}: read-only here")


def test_index_into_a_read_only_corpus_exits_2_naming_it(
    frozen_corpus: Path, seed: Document, capsys: pytest.CaptureFixture[str]
) -> None:
    assert seed.source
    assert main(["index", seed.source, "--db", str(frozen_corpus), "-q"]) == 2
    err = capsys.readouterr().err
    assert f"newsqa: error: {frozen_corpus}: read-only here" in err
    assert "not a newsqa corpus" not in err
