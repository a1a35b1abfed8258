"""Worked examples for extract (``examples=``, ``--examples FILE``): shown to the model
as earlier turns of the conversation, each asked as the article is and answered as the
model answers, each value checked against its own text before any request, and a value
copied from one that the article does not write never kept."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from pydantic import BaseModel, Field

import newsqa
from newsqa import document_from_text
from newsqa.cli import main
from tests.conftest import fake_client
from tests.support.fake_openai import FakeOpenAI, Reply


class Talks(BaseModel):
    venue: str | None = Field(None, description="where the envoys met")
    delegations: int | None = None
    signed: bool | None = None


EXAMPLE = (
    "Four delegations met at the Geneva palace and signed nothing.",
    Talks(venue="Geneva palace", delegations=4, signed=False),
)
ARTICLE = "The envoys met in the old palace. It stands in Geneva. Two delegations came."


def _cited(value: Any, *sentences: int) -> dict[str, Any]:
    return {"sentences": list(sentences), "value": value}


def _reply(venue: str | None, *cited: int) -> Reply:
    return Reply.json(
        {
            "venue": _cited(venue, *cited),
            "delegations": _cited(2, 3),
            "signed": _cited(None),
        }
    )


def _prompt(server: FakeOpenAI) -> str:
    """Everything the first request shows the model."""
    return "\n".join(str(m["content"]) for m in server.requests[0]["messages"])


def test_examples_are_earlier_turns_asked_as_the_article_is_and_only_when_given() -> None:
    doc = document_from_text(ARTICLE, id="a")
    with FakeOpenAI([_reply("old palace", 1), _reply("old palace", 1)]) as server:
        client = fake_client(server)
        newsqa.extract(doc, Talks, client=client, instructions="Be brief.")
        plain = server.requests[0]["messages"]
        server.requests.clear()
        newsqa.extract(doc, Talks, client=client, instructions="Be brief.", examples=[EXAMPLE])
        shown = server.requests[0]["messages"]
    assert [m["role"] for m in plain] == ["system", "user"]
    assert [m["role"] for m in shown] == ["system", "user", "assistant", "user"]
    assert shown[0] == plain[0] and shown[-1] == plain[-1]  # the article's turn is unchanged
    asked = shown[1]["content"]
    document = f'<document id="example-1">\n[1] {EXAMPLE[0]}\n</document>'
    assert asked.startswith(document)
    after = plain[-1]["content"].split("</document>", 1)[1]
    assert asked.split("</document>", 1)[1] == after  # the same instructions and fields
    assert "<instructions>Be brief.</instructions>" in after
    assert shown[2]["content"] == (
        '{"venue":{"sentences":[1],"value":"Geneva palace"},'
        '"delegations":{"sentences":[1],"value":4},"signed":{"sentences":[1],"value":false}}'
    )  # as the model writes one


@pytest.mark.parametrize(
    ("example", "words"),
    [
        (("Four delegations met in Doha.", Talks(venue="Geneva palace")), "venue"),
        (("Four delegations met in Doha.", Talks(delegations=5)), "delegations = 5"),
        (("Four delegations met.", {"delegations": "many"}), "delegations"),
        (("", Talks(delegations=4)), "non-empty"),
        ("just a text", "(text, value)"),
    ],
)
def test_an_example_its_own_text_does_not_state_is_refused_before_any_request(
    example: Any, words: str
) -> None:
    doc = document_from_text(ARTICLE, id="a")
    with FakeOpenAI([]) as server, pytest.raises(ValueError) as caught:
        newsqa.extract(doc, Talks, client=fake_client(server), examples=[EXAMPLE, example])
    assert server.requests == []
    assert "example 2" in str(caught.value) and words in str(caught.value)


def test_a_value_copied_from_an_example_the_article_does_not_write_is_not_kept() -> None:
    doc = document_from_text(ARTICLE, id="a")
    # "Geneva palace" is stated by sentences 1 and 2 together, written in neither
    with FakeOpenAI([_reply("Geneva palace", 1, 2)]) as server:
        alone = newsqa.extract(doc, Talks, client=fake_client(server))
    assert alone.value.venue == "Geneva palace"
    assert alone.spans["venue"].alignment == "sentence"
    with FakeOpenAI([_reply("Geneva palace", 1, 2)] * 4) as server:
        shown = newsqa.extract(doc, Talks, client=fake_client(server), examples=[EXAMPLE])
        reasks = [r["messages"][-1]["content"] for r in server.requests[1:]]
    assert shown.value.venue is None and "venue" not in shown.evidence
    assert "an example's value" in shown.dropped["venue"]
    assert reasks and "an example's value" in reasks[0]  # the model was told first
    assert shown.value.delegations == 2  # the rest is kept


def test_a_value_the_article_writes_is_kept_even_if_an_example_has_it() -> None:
    doc = document_from_text("Four delegations met at the Geneva palace.", id="b")
    reply = {"venue": _cited("Geneva palace", 1), "delegations": _cited(4, 1)}
    with FakeOpenAI([Reply.json({**reply, "signed": _cited(None)})]) as server:
        result = newsqa.extract(doc, Talks, client=fake_client(server), examples=[EXAMPLE])
    assert result.value.venue == "Geneva palace"
    assert result.spans["venue"].alignment == "exact"


def test_the_task_keys_its_examples_and_writes_them_only_when_given() -> None:
    plain = newsqa.Extract(Talks)
    shown = newsqa.Extract(Talks, examples=[EXAMPLE])
    assert "examples" not in plain.job()
    assert shown.job()["examples"] == [
        {"text": EXAMPLE[0], "value": {"venue": "Geneva palace", "delegations": 4, "signed": False}}
    ]
    assert plain.key_fields() != shown.key_fields()
    assert "examples_shown" not in plain.key_fields()  # no examples: keys as before
    assert shown.key_fields()["examples_shown"] == "earlier turns"
    with pytest.raises(ValueError, match="example 1"):
        newsqa.Extract(Talks, examples=[("Nothing here.", Talks(delegations=4))])


def _schema(tmp_path: Path) -> Path:
    path = tmp_path / "talks.json"
    path.write_text(
        json.dumps(
            {
                "title": "Talks",
                "type": "object",
                "properties": {
                    "venue": {"type": "string", "description": "where the envoys met"},
                    "delegations": {"type": "integer"},
                },
            }
        )
    )
    return path


def test_cli_examples_file_reaches_the_model_and_a_bad_one_exits_2_first(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    article = tmp_path / "a.txt"
    article.write_text(ARTICLE)
    good = tmp_path / "good.json"
    good.write_text(json.dumps([{"text": EXAMPLE[0], "value": {"delegations": 4}}]))
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps([{"text": EXAMPLE[0], "value": {"delegations": 7}}]))
    base = ["extract", str(article), "--schema", str(_schema(tmp_path))]
    with FakeOpenAI([_reply("old palace", 1)]) as server:
        endpoint = ["--base-url", server.base_url, "--model", "f", "-q", "--no-cache"]
        assert main([*base, "--examples", str(bad), *endpoint]) == 2
        assert server.requests == []
        err = capsys.readouterr().err
        assert str(bad) in err and "example 1: delegations = 7" in err
        assert "Traceback" not in err
        for broken in ("nope.json", str(article)):
            assert main([*base, "--examples", broken, *endpoint]) == 2
        assert server.requests == []
        assert main([*base, "--examples", str(good), *endpoint]) == 0
        assert '"delegations":{"sentences":[1],"value":4}' in _prompt(server)


def test_an_example_answer_cites_the_sentences_of_its_own_text_that_state_each_value() -> None:
    text = "Talks began at noon. Five delegations met in the Doha palace."
    example = (text, Talks(venue="Doha palace", delegations=5))
    doc = document_from_text(ARTICLE, id="a")
    with FakeOpenAI([_reply("old palace", 1)]) as server:
        newsqa.extract(doc, Talks, client=fake_client(server), examples=[example])
    shown = _prompt(server)
    assert "[1] Talks began at noon.\n[2] Five delegations met" in shown
    assert '"venue":{"sentences":[2],"value":"Doha palace"}' in shown
    assert '"delegations":{"sentences":[2],"value":5}' in shown
    assert '"signed":{"sentences":[],"value":null}' in shown
