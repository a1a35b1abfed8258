"""The extraction page (``newsqa.extraction_page``, ``newsqa extract --html``): read
back with a WHATWG parser (html5lib), it parses without an error, holds the whole
article unchanged, highlights every stated value where it is written, and nothing
from the article or the model becomes markup."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import html5lib
import pytest
from pydantic import BaseModel, Field

import newsqa
from examples.peace_talks import PeaceTalksFacts
from newsqa import Extraction, document_from_text
from newsqa.cli import main
from newsqa.types import Document
from tests.conftest import SEED, fake_client
from tests.support.fake_openai import FakeOpenAI, Reply

SCHEMA = Path(__file__).resolve().parents[2] / "examples" / "peace_talks.schema.json"

NS = "{http://www.w3.org/1999/xhtml}"
HOSTILE = (
    'Envoys met in <b>Geneva</b> & "Doha" on 12 March 2024. '
    "The <script>alert(1)</script> talks cost $12bn, officials said. "
    'A note read <img src=x onerror="alert(2)"> and &amp; nothing more.'
)
MARKUP = {"html", "head", "meta", "title", "style", "body", "h1", "section", "div", "b"}
MARKUP |= {"code", "span", "mark", "table", "thead", "tbody", "tr", "th", "td", "i", "p"}


class Facts(BaseModel):
    place: str | None = Field(None, description="where the envoys met")
    cost_usd: float | None = None
    note: str | None = None
    cities: list[str] = []


def _cited(value: Any, *sentences: int) -> dict[str, Any]:
    return {"sentences": list(sentences), "value": value}


REPLY = {
    "place": _cited("<b>Geneva</b>", 1),
    "cost_usd": _cited(12e9, 2),
    "note": _cited('<img src=x onerror="alert(2)">', 3),
    "cities": [_cited("Geneva", 1), _cited('"Doha"', 1)],
}


def _parse(page: str) -> Any:
    """The page's tree; html5lib in strict mode raises on any parse error."""
    return html5lib.HTMLParser(strict=True, namespaceHTMLElements=True).parse(page)


def _text_and_marks(node: Any) -> tuple[str, list[tuple[int, int, set[str]]]]:
    """The text of ``node`` and each mark in it: its offsets in that text, its fields."""
    text: list[str] = []
    marks: list[tuple[int, int, set[str]]] = []

    def walk(element: Any) -> None:
        text.append(element.text or "")
        for child in element:
            start = sum(map(len, text))
            walk(child)
            if child.tag == f"{NS}mark":
                fields = set(child.get("data-fields", "").split())
                marks.append((start, sum(map(len, text)), fields))
            text.append(child.tail or "")

    walk(node)
    return "".join(text), marks


def _article(tree: Any) -> Any:
    (article,) = [div for div in tree.iter(f"{NS}div") if div.get("class") == "newsqa-article"]
    return article


def _check_page(page: str, results: list[Extraction[Any]], docs: list[Document]) -> None:
    tree = _parse(page)
    tags = {el.tag.removeprefix(NS) for el in tree.iter() if isinstance(el.tag, str)}
    assert tags <= MARKUP, tags - MARKUP  # nothing written became an element
    assert not [
        name for el in tree.iter() for name in el.attrib if name.startswith("on")
    ]  # nor an event handler
    articles = [div for div in tree.iter(f"{NS}div") if div.get("class") == "newsqa-article"]
    assert len(articles) == len(results)
    for article, result, doc in zip(articles, results, docs, strict=True):
        text, marks = _text_and_marks(article)
        assert text == doc.text  # the whole article, character for character
        assert result.spans
        for path, span in result.spans.items():
            covered = [m for m in marks if path in m[2]]
            assert covered, path
            assert min(m[0] for m in covered) == span.start
            assert max(m[1] for m in covered) == span.end
            inside = sum(m[1] - m[0] for m in covered)
            assert inside == span.end - span.start  # every character of the value


def test_the_page_holds_the_article_with_every_value_highlighted_and_escaped() -> None:
    doc = document_from_text(HOSTILE, id="d<1>", title="<i>Talks</i>")
    with FakeOpenAI([Reply.json(REPLY)]) as server:
        result = newsqa.extract(doc, Facts, client=fake_client(server))
    assert set(result.spans) == {"place", "cost_usd", "note", "cities[0]", "cities[1]"}
    page = newsqa.extraction_page([result], title="<script>x</script>")
    _check_page(page, [result], [doc])
    assert "<script>" not in page and "<b>Geneva" not in page and "<img" not in page
    legend = [d for d in _parse(page).iter(f"{NS}div") if d.get("class") == "newsqa-legend"]
    fields = [c.text for c in legend[0].iter(f"{NS}code")]
    assert fields == ["place", "cost_usd", "note", "cities[]"]  # one colour per field


def test_the_notebook_shows_the_article_highlighted_and_without_it_the_sentences() -> None:
    doc = document_from_text(HOSTILE, id="d")
    with FakeOpenAI([Reply.json(REPLY)]) as server:
        result = newsqa.extract(doc, Facts, client=fake_client(server))
    html = result._repr_html_()
    assert 'class="newsqa-article"' in html and "<script>" not in html
    parsed = Extraction[Facts].model_validate_json(result.to_json())
    assert parsed.document is None
    html = parsed._repr_html_()
    assert 'class="newsqa-article"' not in html and 'class="newsqa-sentences"' in html
    tree = html5lib.parse(html, namespaceHTMLElements=True)
    (sentences,) = [d for d in tree.iter(f"{NS}div") if d.get("class") == "newsqa-sentences"]
    text, marks = _text_and_marks(sentences)
    assert text.startswith("[1] Envoys met in <b>Geneva</b>")
    assert {f for m in marks for f in m[2]} == set(result.spans)


SEED_DRAFT = {
    "military_aid_billions": {"sentences": [14], "value": 64.1},
    "aid_since_year": {"sentences": [14], "value": 2022},
    "speakers": [{"sentences": [2], "value": "Putin"}, {"sentences": [13], "value": "Joe Biden"}],
    "claimed_deadline": {"sentences": [7], "value": "within 24 hours"},
}


def test_extract_html_writes_the_seed_page(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "seed.html"
    with FakeOpenAI([Reply.json(SEED_DRAFT)]) as server:
        args = ["extract", str(SEED), "--schema", str(SCHEMA), "--html", str(out), "--json"]
        assert main([*args, "--base-url", server.base_url, "--model", "f", "-q", "--no-cache"]) == 0
    line = json.loads(capsys.readouterr().out)
    result = Extraction[PeaceTalksFacts].model_validate(line)
    assert len(result.spans) == 5
    _check_page(out.read_text(encoding="utf-8"), [result], [newsqa.load_document(SEED)])


def test_extract_html_into_a_missing_folder_exits_2_before_any_request(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with FakeOpenAI([]) as server:
        args = ["extract", str(SEED), "--schema", str(SCHEMA)]
        args += ["--html", str(tmp_path / "nowhere" / "p.html")]
        code = main([*args, "--base-url", server.base_url, "--model", "f", "-q", "--no-cache"])
        assert server.requests == []
    assert code == 2
    err = capsys.readouterr().err
    assert "nowhere" in err and "does not exist" in err and "Traceback" not in err
