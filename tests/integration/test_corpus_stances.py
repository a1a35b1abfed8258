"""Stances across a corpus: real SQLite retrieval, a scripted loopback model.

The model's replies are scripted, so these tests check what the library does with
them (which sentences it shows, how numbers map back to dated articles); the
recorded test in tests/replay checks the real model.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from pathlib import Path

import pytest

from newsqa import Corpus, document_from_text
from newsqa.corpus import diversify, stances_retriever
from newsqa.documents.actors import find_actors_in
from newsqa.grounding import Passage
from newsqa.retrieval import Hit
from newsqa.tasks.stances import MAX_CANDIDATES, actor_sentences
from newsqa.types import Document, Sentence
from tests.conftest import fake_client
from tests.support.fake_openai import FakeOpenAI, Reply

TOPIC = "peace talks on the war"

JAN = document_from_text(
    "Kyiv said on Monday it would join peace talks if Russian troops withdrew first. "
    "Moscow called the condition unacceptable. Fishing fleets stayed in port.",
    id="jan",
    date="2024-01-10",
    title="Kyiv sets terms for talks",
)
MAR = document_from_text(
    "The Kremlin said it was ready for peace talks on the war without preconditions. "
    "Kyiv rejected the offer as a stalling tactic.",
    id="mar",
    date="2024-03-05",
    title="Moscow offers talks",
)
UNDATED = document_from_text(
    "Ukraine's foreign minister said peace talks on the war must include Europe.",
    id="undated",
)
LATER = document_from_text(
    "Kyiv and Moscow began peace talks on the war in Geneva.", id="later", date="2024-06-01"
)
OFFTOPIC = document_from_text(
    "Norway set its mackerel quota for the season.", id="fish", date="2024-02-01"
)


def _user(request: dict[str, object]) -> str:
    messages = request["messages"]
    assert isinstance(messages, list)
    return str(messages[-1]["content"])


def _stance(numbers: list[int], label: str = "supports") -> Reply:
    return Reply.json({"sentences": numbers, "says": "A position.", "label": label})


NAMES = Reply.json({"actors": []})


@pytest.fixture
def corpus(tmp_path: Path) -> Corpus:
    corpus = Corpus(tmp_path / "news.sqlite")
    corpus.add([JAN, MAR, UNDATED, LATER, OFFTOPIC])
    return corpus


def _shown(prompt: str) -> dict[str, list[int]]:
    """Sentence numbers shown in a prompt's documents, by document id."""
    shown: dict[str, list[int]] = {}
    doc = ""
    for line in prompt.splitlines():
        if line.startswith("<document id="):
            doc = line.split('"')[1]
        elif line.startswith("</document>"):
            doc = ""
        elif line.startswith("[") and doc:
            shown.setdefault(doc, []).append(int(line[1 : line.index("]")]))
    return shown


def _candidates(prompt: str) -> list[int]:
    """The actor's own sentence numbers listed at the end of a stance prompt."""
    tail = prompt[prompt.index("Its sentences, most relevant first:") :].splitlines()[0]
    return [int(n) for n in re.findall(r"\[(\d+)\]", tail)]


def _numbered(passage: Passage) -> list[Sentence]:
    return [u.sentence.model_copy(update={"id": u.number}) for u in passage.units]


def test_find_actors_in_counts_sentences_across_documents() -> None:
    sentences = _numbered(Passage.of([JAN, MAR]))
    found = {m.name: m for m in find_actors_in(sentences)}
    # passage numbers, not per-document ids: JAN has 3 sentences, MAR's first is 4
    assert found["Ukraine"].sentence_ids == (1, 5)
    assert found["Russia"].sentence_ids == (1, 2, 4)
    assert [m.name for m in find_actors_in(sentences, limit=1)] == ["Russia"]


def test_actor_sentences_let_every_article_speak() -> None:
    busy = document_from_text(
        " ".join(f"Kyiv said peace talks on the war were item {i}." for i in range(1, 13)),
        id="busy",
        date="2024-01-01",
    )
    quiet = document_from_text("Kyiv said nothing. It gave no reason.", id="quiet")
    passage = Passage.of([busy, quiet])
    (actor,) = find_actors_in(_numbered(passage))
    assert actor.name == "Ukraine"
    chosen = actor_sentences(passage, actor, TOPIC)
    assert len(chosen) == MAX_CANDIDATES
    # the quiet article's sentence (no topic words) still gets the second turn
    assert chosen[:2] == [1, 13]


def test_diversify_prefers_several_articles_then_tops_up() -> None:
    def hit(doc: str, score: float) -> Hit:
        return Hit(doc, None, None, (1,), 0, 1, "x", score)

    hits = [hit("a", 9), hit("a", 8), hit("a", 7), hit("b", 6), hit("a", 5)]
    assert [h.score for h in diversify(hits, 3)] == [9, 8, 6]
    assert [h.score for h in diversify(hits, 4)] == [9, 8, 7, 6]
    assert diversify(hits, 10) == hits


def test_one_call_per_actor_over_dated_sentences_of_several_articles(corpus: Corpus) -> None:
    until = dt.date(2024, 3, 31)
    with FakeOpenAI([NAMES, _stance([]), _stance([])]) as server:
        client = fake_client(server)
        corpus.stances(TOPIC, client=client, until=until, max_actors=2)
        first = [_user(r) for r in server.requests]
        russia = _candidates(next(p for p in first if "Actor: <actor>Russia</actor>" in p))
        shown = _shown(first[0])
        server.requests.clear()
        by_doc = {n: doc for doc, ns in shown.items() for n in ns}
        pick = [next(n for n in russia if by_doc[n] == d) for d in ("mar", "jan")]
        server.script = [
            NAMES,
            *(
                _stance(pick, "conditional") if "Actor: <actor>Russia</actor>" in p else _stance([])
                for p in first[1:]
            ),
        ]
        report = corpus.stances(TOPIC, client=client, until=until, max_actors=2)
        prompts = [_user(r) for r in server.requests][1:]
    assert len(prompts) == 2
    actors = [line for p in prompts for line in p.splitlines() if line.startswith("Actor:")]
    assert sorted(a.split(" (")[0] for a in actors) == [
        "Actor: <actor>Russia</actor>",
        "Actor: <actor>Ukraine</actor>",
    ]
    for prompt in prompts:  # articles oldest first, each with its date
        assert 0 < prompt.index('date="2024-01-10"') < prompt.index('date="2024-03-05"')
        assert "Geneva" not in prompt  # dated after --until
        assert "mackerel" not in prompt  # not retrieved for the topic
    assert [s.actor for s in report.stances] == ["Russia"]
    stance = report.stances[0]
    assert stance.label == "conditional"
    # oldest first, each with its article's metadata and verbatim offsets
    assert [(e.doc, e.date, e.title) for e in stance.evidence] == [
        ("jan", dt.date(2024, 1, 10), "Kyiv sets terms for talks"),
        ("mar", dt.date(2024, 3, 5), "Moscow offers talks"),
    ]
    docs = {"jan": JAN, "mar": MAR}
    for e in stance.evidence:
        assert docs[e.doc].text[e.start : e.end] == e.text
        assert docs[e.doc].sentence(e.sentence_id).text == e.text
    assert report.until == until and report.since is None
    assert report.usage.calls == 3


def test_numbers_not_shown_for_the_actor_are_re_asked(corpus: Corpus) -> None:
    with FakeOpenAI([NAMES, _stance([999]), _stance([])]) as server:
        report = corpus.stances(TOPIC, client=fake_client(server), max_actors=1)
        assert len(server.requests) == 3
        assert "[999] do not exist" in json.dumps(server.requests[2]["messages"])
    assert report.stances == [] and report.usage.calls == 3


def test_json_contract_and_timeline(corpus: Corpus) -> None:
    with FakeOpenAI([NAMES, _stance([]), _stance([])]) as server:
        client = fake_client(server)
        corpus.stances(TOPIC, client=client, max_actors=2)
        prompts = [_user(r) for r in server.requests]
        # cite one of Ukraine's sentences in each of three articles, one undated
        doc_of = {n: d for d, ns in _shown(prompts[0]).items() for n in ns}

        def one_each(p: str) -> list[int]:
            firsts = {doc_of[n]: n for n in reversed(_candidates(p))}
            return [firsts[d] for d in ("undated", "mar", "jan")]

        server.script = [NAMES] + [
            _stance(one_each(p), "opposes") if "Actor: <actor>Ukraine</actor>" in p else _stance([])
            for p in prompts[1:]
        ]
        report = corpus.stances(TOPIC, client=client, max_actors=2)
    data = json.loads(report.to_json())
    assert set(data) == {"schema_version", "topic", "since", "until", "stances"}
    (stance,) = data["stances"]
    assert set(stance) == {"actor", "label", "label_source", "position", "evidence", "period"}
    assert stance["period"] == {"since": "2024-01-10", "until": "2024-03-05"}
    assert all(
        set(e) == {"doc", "title", "date", "text", "start", "end", "sentence_id"}
        for e in stance["evidence"]
    )
    assert [e["doc"] for e in stance["evidence"]] == ["jan", "mar", "undated"]
    points = report.timeline().actors["Ukraine"]
    assert [(p.doc, p.date) for p in points] == [
        ("jan", dt.date(2024, 1, 10)),
        ("mar", dt.date(2024, 3, 5)),
        ("undated", None),
    ]
    # the model said opposes; Kyiv's own sentences on talks set conditions ("if Russian
    # troops withdrew first", "must include Europe")
    assert all(p.label == "conditional" and not p.changed and len(p.evidence) == 1 for p in points)
    assert points[0].evidence[0].text == JAN.sentences[0].text
    assert len(report.records()) == 3


def test_nothing_retrieved_means_no_model_call(corpus: Corpus) -> None:
    with FakeOpenAI([]) as server:
        report = corpus.stances(TOPIC, client=fake_client(server), since=dt.date(2025, 1, 1))
        assert server.requests == []
    assert report.stances == [] and report.since == dt.date(2025, 1, 1)


def test_bad_arguments(corpus: Corpus) -> None:
    with FakeOpenAI([]) as server:
        client = fake_client(server)
        with pytest.raises(ValueError, match="topic is empty"):
            corpus.stances("  ", client=client)
        with pytest.raises(ValueError, match="k must be"):
            corpus.stances(TOPIC, client=client, k=0)
        with pytest.raises(ValueError, match="max_actors"):
            corpus.stances(TOPIC, client=client, max_actors=0)
        assert server.requests == []


class ListRetriever:
    """Another search engine: keyword overlap over documents held in memory."""

    def __init__(self, docs: list[Document]) -> None:
        self.docs = {d.id: d for d in docs}

    def search(
        self,
        query: str,
        k: int = 8,
        *,
        since: dt.date | None = None,
        until: dt.date | None = None,
    ) -> list[Hit]:
        words = set(query.lower().split())
        hits = []
        for doc in self.docs.values():
            for s in doc.sentences:
                score = len(words & set(s.text.lower().split()))
                if score:
                    hits.append(
                        Hit(doc.id, doc.title, doc.date, (s.id,), s.start, s.end, s.text, score)
                    )
        return sorted(hits, key=lambda h: -h.score)[:k]

    def document(self, doc_id: str) -> Document:
        return self.docs[doc_id]


def test_any_retriever_can_serve_stances() -> None:
    acme = document_from_text(
        "The Acme Union backed the ceasefire on Monday.", id="acme", date="2024-05-02"
    )
    script = [
        Reply.json({"actors": ["Acme Union"]}),  # the gazetteer knows nobody here
        _stance([1]),
    ]  # a model-named actor gets its call
    with FakeOpenAI(script) as server:
        report = stances_retriever(
            ListRetriever([acme]), "the ceasefire", client=fake_client(server)
        )
        assert len(server.requests) == 2
    assert [s.actor for s in report.stances] == ["Acme Union"]
    ev = report.stances[0].evidence[0]
    assert (ev.doc, ev.date, ev.text) == ("acme", dt.date(2024, 5, 2), acme.sentences[0].text)
