"""The LLM client against a scripted loopback server: error hints, structured-output modes and
re-asks, meters and the cache."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Literal

import pytest
from pydantic import BaseModel, Field

from newsqa import (
    LLMClient,
    ProviderError,
)
from newsqa.llm.cache import ResponseCache
from newsqa.llm.client import Completion
from newsqa.llm.structured import generate
from newsqa.types import Usage
from tests.conftest import fake_client
from tests.support.fake_openai import FakeOpenAI, Reply

MESSAGES = [{"role": "system", "content": "sys"}, {"role": "user", "content": "task"}]


class Item(BaseModel):
    name: str = Field(max_length=3)


class Many(BaseModel):
    label: Literal["yes", "no"]
    items: list[Item] = Field(max_length=20)


@pytest.mark.parametrize(
    ("status", "hint"),
    [
        (401, "(check OPENAI_API_KEY: the key was refused by 127.0.0.1:"),
        (403, "(check OPENAI_API_KEY: the key was refused by 127.0.0.1:"),
        (404, "(is the model 'fake' served by 127.0.0.1:"),
        (400, None),
        (422, None),
    ],
)
def test_client_errors_say_what_to_check(status: int, hint: str | None) -> None:
    refused = Reply(status=status, body={"error": {"message": "no"}})
    with FakeOpenAI([refused]) as server, pytest.raises(ProviderError) as info:
        fake_client(server).chat(MESSAGES, max_tokens=5)
    message = str(info.value)
    assert message.startswith(f"HTTP {status}: Error code: {status} - no")
    if hint is None:
        assert message == f"HTTP {status}: Error code: {status} - no"
    else:
        assert hint in message
    if status == 404:
        assert message.endswith("set NEWSQA_MODEL or --model; the base URL usually ends in /v1)")


def test_json_object_mode_puts_the_compact_schema_in_the_last_message_only() -> None:
    rejected = Reply(status=400, body={"error": {"message": "json_schema unsupported"}})
    with FakeOpenAI([rejected, Reply.json({"label": "no", "items": []})]) as server:
        generate(fake_client(server), MESSAGES, Many, max_tokens=20)
        sent = server.requests[1]["messages"]
    assert sent[0] == MESSAGES[0] and len(sent) == 2
    assert sent[1]["role"] == "user" and sent[1]["content"].startswith("task\n\nReply with")
    schema = sent[1]["content"].split("JSON schema:\n", 1)[1]
    assert json.loads(schema)["properties"]["label"]["enum"] == ["yes", "no"]
    assert ", " not in schema and '": ' not in schema  # compact: fewer prompt tokens


def test_the_re_ask_lists_at_most_eight_errors_by_path_without_urls() -> None:
    bad: dict[str, Any] = {"label": "yes", "items": [{"name": "long name"}] * 12}
    with FakeOpenAI([Reply.json(bad), Reply.json({"label": "no", "items": []})]) as server:
        generate(fake_client(server), MESSAGES, Many, max_tokens=20)
        reask = server.requests[1]["messages"][-1]["content"]
    lines = [line for line in reask.splitlines() if line.startswith("- ")]
    assert len(lines) == 8
    assert lines[0].startswith("- items.0.name: ") and "pydantic.dev" not in reask


def test_a_reply_of_the_wrong_type_is_reported_at_the_root() -> None:
    with FakeOpenAI([Reply.json([1, 2]), Reply.json({"label": "no", "items": []})]) as server:
        generate(fake_client(server), MESSAGES, Many, max_tokens=20)
        reask = server.requests[1]["messages"][-1]["content"]
    assert "\n- (root): " in reask


@pytest.mark.parametrize(
    ("message", "switches"),
    [
        ("response_format is not supported", True),
        ("JSON_SCHEMA not supported", True),
        ("Unknown type json_object", True),
        ("context length exceeded", False),
    ],
)
def test_which_rejections_switch_the_output_mode(message: str, switches: bool) -> None:
    rejected = Reply(status=400, body={"error": {"message": message}})
    with FakeOpenAI([rejected, Reply.json({"label": "no", "items": []})]) as server:
        client = fake_client(server)
        if switches:
            generate(client, MESSAGES, Many, max_tokens=20)
        else:
            with pytest.raises(ProviderError):
                generate(client, MESSAGES, Many, max_tokens=20)
    assert (client.structured_mode == "json_object") is switches


def test_a_meter_counts_what_its_block_spent() -> None:
    with FakeOpenAI([Reply.json({"a": 1})] * 2) as server:
        llm = fake_client(server)
        llm.chat(MESSAGES, max_tokens=5)
        with llm.metered() as meter:
            llm.chat(MESSAGES, max_tokens=5)
    assert meter.usage == Usage(calls=1, prompt_tokens=50, completion_tokens=10)
    assert llm.usage.calls == 2


def test_without_a_cache_nothing_is_remembered_and_with_one_the_finish_reason_is(
    tmp_path: Path,
) -> None:
    completion = Completion(text="hi", usage=Usage(), finish_reason="length", cache_key="k")
    with FakeOpenAI([]) as server:
        fake_client(server).remember(completion)  # no cache: nothing to do
        cached = LLMClient(fake_client(server).settings, cache=ResponseCache(tmp_path / "c.sqlite"))
        cached.remember(completion)
        assert cached.cache is not None and cached.cache.get("k") == ("hi", "length", 0, 0)
        cached.close()
