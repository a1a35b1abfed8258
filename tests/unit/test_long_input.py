"""Long input: a sentence over the limit is cut at word boundaries with exact offsets, and
focused reading and search take each sentence and each document once."""

from __future__ import annotations

import itertools
from pathlib import Path

import pytest

from newsqa import document_from_text
from newsqa.documents import chunking
from newsqa.documents.chunking import count_tokens
from newsqa.documents.sentences import MAX_SENTENCE_TOKENS, split_sentences
from newsqa.grounding import Passage
from newsqa.grounding import focus as focus_module
from newsqa.grounding import passage as passage_module
from newsqa.retrieval.sqlite_index import SQLiteIndex
from tests.support.text import unpunctuated


def test_a_sentence_over_the_limit_is_cut_at_word_boundaries_with_exact_offsets() -> None:
    text = "Short one.\n\n" + unpunctuated(40_000) + "\n\nTail."
    sentences = split_sentences(text)
    assert len(sentences) > 30
    for s in sentences:
        assert text[s.start : s.end] == s.text
        assert count_tokens(s.text) <= MAX_SENTENCE_TOKENS
    inner = sentences[1:-1]
    for a, b in itertools.pairwise(inner):
        assert text[a.end] == " " and text[b.start - 1] == " "  # never inside a word
    assert [s.text for s in sentences[:1] + sentences[-1:]] == ["Short one.", "Tail."]


def test_one_word_longer_than_the_limit_is_cut_too() -> None:
    text = "x" * 20_000
    sentences = split_sentences(text)
    assert "".join(s.text for s in sentences) == text
    assert all(count_tokens(s.text) <= MAX_SENTENCE_TOKENS for s in sentences)


def test_focus_counts_each_sentence_once(monkeypatch: pytest.MonkeyPatch) -> None:
    doc = document_from_text(
        " ".join(f"The envoy met minister {i} about grain near port {i}." for i in range(600))
    )
    passage = Passage.of([doc])
    calls = 0
    real = count_tokens

    def counting(text: str) -> int:
        nonlocal calls
        calls += 1
        return real(text)

    monkeypatch.setattr(passage_module, "count_tokens", counting)  # what Passage costs use
    shown = focus_module.focus(passage, "grain envoy minister", 3000)
    assert 0 < shown.tokens() <= 3000
    assert calls <= 4 * len(passage.units)  # was one recount per hit: ~ units² / 2


def test_search_reads_each_document_text_once(tmp_path: Path) -> None:
    doc = document_from_text(" ".join(f"Grain left port {i} today." for i in range(400)))
    index = SQLiteIndex(tmp_path / "c.sqlite")
    index.add([doc])
    statements: list[str] = []
    index._db.set_trace_callback(statements.append)
    hits = index.search("grain port", k=150)
    index.close()
    assert len(hits) == 150 and all(doc.text[h.start : h.end] == h.text for h in hits)
    assert sum(1 for s in statements if "FROM documents WHERE id" in s) == 1


def test_the_tokenizer_writes_no_cache_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import tiktoken.registry

    cache = tmp_path / "tiktoken"
    monkeypatch.setenv("TIKTOKEN_CACHE_DIR", str(cache))
    monkeypatch.setattr(tiktoken.registry, "ENCODINGS", {})
    chunking.encoding.cache_clear()
    try:
        assert count_tokens("Kyiv said no.") == 5
    finally:
        chunking.encoding.cache_clear()
    assert not cache.exists() or not any(cache.iterdir())
