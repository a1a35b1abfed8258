"""No request exceeds its budget, against a scripted loopback model: long unpunctuated text,
megabytes of it."""

from __future__ import annotations

import json
from typing import Any

from newsqa import (
    analyze_stances,
    ask,
    check_claim,
    document_from_text,
    stance_toward,
    summarize,
)
from newsqa.config import Settings
from newsqa.documents.chunking import count_tokens
from tests.conftest import fake_client
from tests.support.fake_openai import FakeOpenAI, schema_reply
from tests.support.text import unpunctuated

PROMPT_ALLOWANCE = 900
"""Tokens of a request besides the document: templates, task, schema."""


def _request_tokens(request: dict[str, Any]) -> int:
    return sum(count_tokens(m["content"]) for m in request["messages"])


def test_no_task_sends_more_than_the_budget_on_unpunctuated_text() -> None:
    doc = document_from_text(unpunctuated(40_000))
    with FakeOpenAI([], responder=schema_reply, max_requests=200) as server:
        client = fake_client(server)
        for task in (
            lambda: summarize(doc, client=client),
            lambda: ask(doc, "What did the envoy say about grain?", client=client),
            lambda: analyze_stances(doc, client=client),
            lambda: check_claim(doc, "The army left the port.", client=client),
            lambda: stance_toward(doc, "Russia", client=client),
        ):
            task()
    assert len(server.requests) >= 5
    budget = Settings().context_tokens
    assert max(_request_tokens(r) for r in server.requests) <= budget + PROMPT_ALLOWANCE


def test_five_megabytes_without_punctuation_go_out_within_the_budget() -> None:
    doc = document_from_text(unpunctuated(5_000_000))
    with FakeOpenAI([], responder=schema_reply) as server:
        ask(doc, "What did the envoy say about grain?", client=fake_client(server))
    sizes = [len(json.dumps(r)) for r in server.requests]
    assert server.requests and max(sizes) < 40_000  # was one 5.2 MB request
    budget = Settings().context_tokens
    assert max(_request_tokens(r) for r in server.requests) <= budget + PROMPT_ALLOWANCE
