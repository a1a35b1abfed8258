"""Questions asked on a date (`as_of`, a corpus's `until`) through a scripted loopback model:
answers cited only from articles dated outside the question's window abstain."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from newsqa import Corpus, ask, document_from_text
from newsqa.types import Document
from tests.conftest import fake_client
from tests.support.fake_openai import FakeOpenAI, Reply

ASKED = dt.date(2024, 6, 14)


OLD = document_from_text(
    "The senate passed the budget bill on Tuesday after a long debate.",
    id="old",
    date=dt.date(2022, 3, 1),
)

RECENT = document_from_text(
    "The senate passed the budget bill on Tuesday after a long debate.",
    id="recent",
    date=dt.date(2024, 6, 11),
)

QUESTION = "Which bill did the senate pass this week?"


@pytest.mark.parametrize(
    ("doc", "as_of", "kept"),
    [(OLD, ASKED, False), (OLD, None, True), (RECENT, ASKED, True)],
)
def test_ask_abstains_when_only_an_old_article_says_it(
    doc: Document, as_of: dt.date | None, kept: bool
) -> None:
    draft = Reply.json({"sentences": [1], "answer": "the budget bill"})
    with FakeOpenAI([draft]) as server:
        answer = ask(doc, QUESTION, client=fake_client(server), as_of=as_of)
    assert answer.answerable is kept
    assert (answer.answer == "the budget bill") is kept
    assert [c.doc for c in answer.citations] == ([doc.id] if kept else [])


@pytest.mark.parametrize(("doc", "kept"), [(OLD, False), (RECENT, True)])
def test_a_multiple_choice_answer_needs_a_timely_citation_too(doc: Document, kept: bool) -> None:
    draft = Reply.json({"sentences": [1], "choice": "B"})
    with FakeOpenAI([draft]) as server:
        answer = ask(
            doc,
            QUESTION,
            client=fake_client(server),
            choices=["the farm bill", "the budget bill"],
            as_of=ASKED,
        )
    assert answer.answerable is kept
    assert answer.choice == (1 if kept else None)


def test_a_corpus_question_is_asked_on_its_until_date(tmp_path: Path) -> None:
    draft = Reply.json({"sentences": [1], "answer": "the budget bill"})
    with Corpus(tmp_path / "news.sqlite") as corpus:
        corpus.add([OLD])
        with FakeOpenAI([draft, draft]) as server:
            client = fake_client(server)
            late = corpus.ask(QUESTION, client=client, until=ASKED)
            then = corpus.ask(QUESTION, client=client, until=dt.date(2022, 3, 4))
    assert not late.answerable
    assert then.answerable and then.answer == "the budget bill"
