"""Structured output: schema, validation, re-ask with the error, mode fallback."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Literal

import pytest
from pydantic import BaseModel, Field

from newsqa import OutputValidationError, ProviderError
from newsqa.grounding import SentenceIds, restrict_ids
from newsqa.llm.structured import generate, strict_schema
from tests.conftest import fake_client
from tests.support.fake_openai import FakeOpenAI, Reply, completion


class Inner(BaseModel):
    name: str = Field(max_length=20)


class Out(BaseModel):
    label: Literal["yes", "no"]
    items: list[Inner] = Field(max_length=3)
    sentences: SentenceIds(0, 2)  # type: ignore[valid-type]


GOOD = {"label": "yes", "items": [{"name": "a"}], "sentences": [2]}
CONTEXT = {"sentence_ids": frozenset({1, 2, 3})}
MESSAGES = [{"role": "system", "content": "sys"}, {"role": "user", "content": "task"}]


def test_strict_schema_inlines_refs_and_closes_objects() -> None:
    schema = strict_schema(Out)
    assert "$defs" not in json.dumps(schema)
    assert schema["additionalProperties"] is False
    assert schema["required"] == ["label", "items", "sentences"]
    item = schema["properties"]["items"]["items"]
    assert item["additionalProperties"] is False and item["required"] == ["name"]
    assert schema["properties"]["items"]["maxItems"] == 3


def test_restrict_ids_puts_an_enum_on_sentence_arrays() -> None:
    schema = restrict_ids([3, 1, 2])(strict_schema(Out))
    assert schema["properties"]["sentences"]["items"] == {"type": "integer", "enum": [1, 2, 3]}
    assert "x-sentence-ids" not in json.dumps(schema)


def test_valid_output_first_try_uses_json_schema() -> None:
    with FakeOpenAI([Reply.json(GOOD)]) as server:
        result = generate(fake_client(server), MESSAGES, Out, max_tokens=50, context=CONTEXT)
        sent = server.requests[0]
    assert result.value.sentences == [2] and result.attempts == 1
    assert sent["response_format"] == {
        "type": "json_schema",
        "json_schema": {"name": "Out", "schema": strict_schema(Out), "strict": True},
    }
    assert sent["max_tokens"] == 50


@pytest.mark.parametrize(
    ("bad", "why"),
    [
        ('{"label": "yes", "items": [{"name": "a"}], "sente', "not valid JSON"),  # truncated
        (json.dumps({**GOOD, "label": "maybe"}), "label"),  # violates the schema
        (json.dumps({**GOOD, "sentences": [9]}), "do not exist"),  # invented sentence id
        (json.dumps({**GOOD, "sentences": [1, 1]}), "repeated"),
        ("Sure! Here is the JSON you asked for.", "not valid JSON"),  # garbage
    ],
)
def test_invalid_output_is_reasked_with_the_error(bad: str, why: str) -> None:
    messages = [dict(m) for m in MESSAGES]
    before = json.dumps(messages)
    with FakeOpenAI([Reply.text(bad), Reply.json(GOOD)]) as server:
        result = generate(fake_client(server), messages, Out, max_tokens=50, context=CONTEXT)
        reask = server.requests[1]["messages"]
    assert result.value.label == "yes" and result.attempts == 2
    assert result.usage.calls == 2
    assert reask[:2] == MESSAGES
    assert reask[2] == {"role": "assistant", "content": bad}
    assert why in reask[3]["content"]
    assert json.dumps(messages) == before  # the caller's messages are untouched


def test_a_json_error_reads_as_one_phrase_with_its_place() -> None:
    with FakeOpenAI([Reply.text('{"label": "yes, and'), Reply.json(GOOD)]) as server:
        generate(fake_client(server), MESSAGES, Out, max_tokens=50, context=CONTEXT)
        reask = server.requests[1]["messages"][-1]["content"]
    assert "(Unterminated string starting at: line 1 column 11 (char 10))" in reask
    assert "at at" not in reask


def test_reask_budget_is_bounded_and_error_keeps_every_raw_output() -> None:
    bad = [json.dumps({**GOOD, "sentences": [i]}) for i in (7, 8, 9, 10)]
    with FakeOpenAI([Reply.text(b) for b in bad]) as server:
        client = fake_client(server, max_reasks=2)
        with pytest.raises(OutputValidationError) as info:
            generate(client, MESSAGES, Out, max_tokens=50, context=CONTEXT)
        assert len(server.requests) == 3
    error = info.value
    assert str(error).startswith(
        "model output failed validation after 3 tries:\n"
        "- sentences: Value error, sentence numbers [9]"
    )
    assert [a.raw for a in error.attempts] == bad[:3]
    assert all("do not exist" in a.error for a in error.attempts)
    assert error.raw_output == bad[2]
    assert error.usage.calls == 3 and error.usage.prompt_tokens == 150


def test_cut_off_output_says_so_in_the_reask() -> None:
    cut = Reply(body=completion('{"label": "yes", "items": [', finish_reason="length"))
    with FakeOpenAI([cut, Reply.json(GOOD)]) as server:
        generate(fake_client(server), MESSAGES, Out, max_tokens=50, context=CONTEXT)
        reask = server.requests[1]["messages"][-1]["content"]
    assert "\n- reply is not valid JSON" in reask  # the error, then the cut
    assert "\n- the reply was cut off at 50 tokens: be more concise\n" in reask


def test_fenced_json_is_accepted() -> None:
    with FakeOpenAI([Reply.text("```json\n" + json.dumps(GOOD) + "\n```")]) as server:
        result = generate(fake_client(server), MESSAGES, Out, max_tokens=50, context=CONTEXT)
    assert result.value.items[0].name == "a"


def _rejected(kind: str) -> Reply:
    body: dict[str, Any] = {"error": {"message": f"response_format type {kind} not supported"}}
    return Reply(status=400, body=body)


def test_falls_back_from_json_schema_to_json_mode_to_prompt() -> None:
    script = [
        _rejected("json_schema"),
        _rejected("json_object"),
        Reply.json(GOOD),
        Reply.json(GOOD),
    ]
    with FakeOpenAI(script) as server:
        client = fake_client(server)
        generate(client, MESSAGES, Out, max_tokens=50, context=CONTEXT)
        generate(client, MESSAGES, Out, max_tokens=50, context=CONTEXT)
        formats = [r.get("response_format", {}).get("type") for r in server.requests]
        last_prompt = server.requests[-1]["messages"][-1]["content"]
    assert formats == ["json_schema", "json_object", None, None]  # the mode is remembered
    assert client.structured_mode == "prompt"
    assert "JSON schema" in last_prompt and '"label"' in last_prompt


def test_a_422_naming_the_format_is_a_format_rejection() -> None:
    rejected = Reply(status=422, body={"error": {"message": "json_schema is not supported"}})
    with FakeOpenAI([rejected, Reply.json(GOOD)]) as server:
        client = fake_client(server)
        result = generate(client, MESSAGES, Out, max_tokens=50, context=CONTEXT)
    assert client.structured_mode == "json_object"
    assert result.usage.calls == 2  # the rejected request counts too


def test_a_reask_in_prompt_mode_keeps_the_conversation_and_puts_the_schema_last() -> None:
    with FakeOpenAI([Reply.json({"label": "maybe"}), Reply.json(GOOD)]) as server:
        client = fake_client(server)
        client.structured_mode = "prompt"
        generate(client, MESSAGES, Out, max_tokens=50, context=CONTEXT)
        sent = server.requests[1]["messages"]
    assert [(m["role"], m["content"][:24]) for m in sent] == [
        ("system", "sys"),
        ("user", "task"),
        ("assistant", '{"label": "maybe"}'),
        ("user", "Your reply was rejected:"),
    ]
    schema = json.dumps(strict_schema(Out), separators=(",", ":"))
    assert sent[3]["content"].endswith(
        "\nReply again with the corrected JSON object only.\n\nReply with one JSON object"
        f" only, no prose, matching this JSON schema:\n{schema}"
    )


def test_other_400s_are_not_taken_for_format_rejections() -> None:
    reply = Reply(status=400, body={"error": {"message": "context length exceeded"}})
    with FakeOpenAI([reply]) as server:
        client = fake_client(server)
        with pytest.raises(ProviderError, match="context length"):
            generate(client, MESSAGES, Out, max_tokens=50, context=CONTEXT)
    assert client.structured_mode == "json_schema"


def test_only_validated_replies_are_cached(tmp_path: Path) -> None:
    from newsqa.llm.cache import ResponseCache

    bad = json.dumps({**GOOD, "sentences": [9]})
    script = [Reply.text(bad), Reply.text(bad), Reply.json(GOOD), Reply.json(GOOD)]
    with FakeOpenAI(script) as server:
        client = fake_client(server, max_reasks=2)
        client.cache = ResponseCache(tmp_path / "c.sqlite")
        assert generate(client, MESSAGES, Out, max_tokens=50, context=CONTEXT).attempts == 3
        assert len(server.requests) == 3  # the second re-ask was not served from the cache
        assert len(client.cache) == 1
        again = generate(client, MESSAGES, Out, max_tokens=50, context=CONTEXT)
        assert len(server.requests) == 4  # the invalid first reply was not cached
    assert again.attempts == 1 and again.value.label == "yes"


def test_endpoint_failure_after_a_bad_reply_keeps_the_attempt() -> None:
    bad = json.dumps({**GOOD, "sentences": [9]})
    script = [Reply.text(bad), Reply(status=401, body={"error": {"message": "expired"}})]
    with FakeOpenAI(script) as server, pytest.raises(ProviderError) as info:
        generate(fake_client(server), MESSAGES, Out, max_tokens=50, context=CONTEXT)
    assert [a.raw for a in info.value.attempts] == [bad]
    # both requests were served: the refused one counts too (issue 18)
    assert info.value.usage is not None and info.value.usage.calls == 2
