"""Property tests: offsets always slice back; chunking loses and duplicates nothing."""

from __future__ import annotations

import itertools

from hypothesis import given, settings
from hypothesis import strategies as st

from newsqa.documents import chunk_document, document_from_text, split_sentences
from newsqa.documents.chunking import sentence_costs

_words = st.sampled_from(
    [
        "Putin",
        "said",
        "U.S.",
        "aid",
        "Mr.",
        "3.5",
        "“yes.”",
        "Kyiv!",
        "no?",
        "talks",
        "peace",
        "\n\n",
        "\n",
        " ",
        "...",
        "Dr.",
        "(a.)",
        "'quote.'",
        "Zelensky.",
        "x",
    ]
)
_texts = st.lists(_words, min_size=1, max_size=80).map(" ".join)


@given(_texts)
@settings(max_examples=300, deadline=None)
def test_sentences_slice_back_in_order(text: str) -> None:
    sentences = split_sentences(text)
    previous_end = 0
    for number, s in enumerate(sentences, start=1):
        assert s.id == number
        assert text[s.start : s.end] == s.text
        assert s.text == s.text.strip() and s.text
        assert s.start >= previous_end
        previous_end = s.end
    # nothing but whitespace falls between sentences
    gaps = [text[a.end : b.start] for a, b in itertools.pairwise(sentences)]
    assert all(not g.strip() for g in gaps)
    if sentences:
        assert not text[: sentences[0].start].strip()
        assert not text[sentences[-1].end :].strip()
    else:
        assert not text.strip()


@given(_texts.filter(lambda t: t.strip() != ""), st.integers(5, 120), st.integers(0, 60))
@settings(max_examples=200, deadline=None)
def test_chunks_cover_every_sentence_once_plus_overlap(
    text: str, budget: int, overlap: int
) -> None:
    overlap = min(overlap, budget - 1)
    doc = document_from_text(text, parse_date_prefix=False)
    chunks = chunk_document(doc, max_tokens=budget, overlap_tokens=overlap)
    costs = sentence_costs(doc)
    ids = [i for c in chunks for i in c.sentence_ids]
    assert sorted(set(ids)) == [s.id for s in doc.sentences]
    for a, b in itertools.pairwise(chunks):
        assert b.sentence_ids[0] > a.sentence_ids[0]  # always progresses
        repeated = set(a.sentence_ids) & set(b.sentence_ids)
        assert sum(costs[i - 1] for i in repeated) <= overlap
        if not overlap:
            assert not repeated
    for c in chunks:
        assert c.tokens <= budget or len(c.sentence_ids) == 1
        assert doc.text[c.start : c.end].startswith(doc.sentence(c.sentence_ids[0]).text)


_any_texts = st.lists(
    st.one_of(
        _words, st.text(st.characters(exclude_categories=("Cc", "Cs")), min_size=1, max_size=12)
    ),
    min_size=1,
    max_size=60,
).map(" ".join)


@given(_any_texts.filter(lambda t: t.strip() != ""), st.integers(0, 400))
@settings(max_examples=300, deadline=None)
def test_the_fits_shortcut_agrees_with_counting_tokens(text: str, budget: int) -> None:
    from newsqa.grounding import Passage

    passage = Passage.of([document_from_text(text, id="d", parse_date_prefix=False)])
    assert passage.fits(budget) == (passage.tokens() <= budget)
