"""Corpus mode end to end: real SQLite retrieval, recorded model answers."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from newsqa import Corpus, LLMClient, load_document
from newsqa.tasks.stances import READ_TOKENS
from newsqa.types import Document

DATA = Path(__file__).resolve().parent.parent / "data"
AID = "How much military aid has the U.S. committed to Ukraine?"


@pytest.fixture
def corpus(tmp_path: Path, seed: Document) -> Corpus:
    corpus = Corpus(tmp_path / "news.sqlite")
    corpus.add([seed, load_document(DATA / "fisheries.txt"), load_document(DATA / "injection.txt")])
    return corpus


@pytest.mark.vcr
def test_corpus_answers_from_retrieved_passages(
    corpus: Corpus, seed: Document, replay_client: LLMClient
) -> None:
    answer = corpus.ask(AID, client=replay_client, until=dt.date(2024, 11, 8))
    assert answer.answerable and answer.answer and "64.1" in answer.answer
    for c in answer.citations:
        assert c.doc == seed.id
        assert seed.text[c.start : c.end] == c.text
    # one small prompt: only the retrieved passages (the seed alone is ≈ 600 tokens)
    assert 0 < answer.usage.prompt_tokens < 800


@pytest.mark.vcr
def test_corpus_question_before_the_article_date_abstains(
    corpus: Corpus, replay_client: LLMClient
) -> None:
    answer = corpus.ask(AID, client=replay_client, until=dt.date(2024, 11, 1))
    assert not answer.answerable and answer.citations == []


@pytest.mark.vcr
def test_corpus_stances_cite_dated_sentences_of_the_articles(
    corpus: Corpus, seed: Document, replay_client: LLMClient
) -> None:
    report = corpus.stances("peace talks to end the war in Ukraine", client=replay_client)
    docs = {d.id: d for d in (corpus.document(i) for i in corpus.ids())}
    assert "Russia" in {s.actor for s in report.stances}
    cited = set()
    for stance in report.stances:
        assert stance.evidence
        dates = []
        for ev in stance.evidence:
            doc = docs[ev.doc]
            assert doc.text[ev.start : ev.end] == ev.text == doc.sentence(ev.sentence_id).text
            assert ev.date is not None and ev.date == doc.date and ev.title == doc.title
            dates.append(ev.date)
            cited.add(ev.doc)
        assert dates == sorted(dates)
    assert seed.id in cited
    # one call naming actors, one small call per actor (plus any re-asks); each shows
    # the retrieved sentences (at most READ_TOKENS) and its task, never whole articles
    assert len(report.stances) < report.usage.calls <= 1 + 5 * 3
    assert report.usage.prompt_tokens < (READ_TOKENS + 400) * report.usage.calls
