"""Table-driven tests of the rules a silent bug would bend: which statuses are retried,
backoff bounds, what the cache key sees, usage == HTTP requests, mode fallback, re-ask
shape, numbering over several documents, sentences that start with a digit."""

from __future__ import annotations

import random
from pathlib import Path
from typing import Any, Literal

import pytest
from pydantic import BaseModel

from newsqa import LLMClient, ProviderError, Settings
from newsqa.documents import document_from_text, split_sentences
from newsqa.errors import LLMError, OutputValidationError
from newsqa.grounding import Passage, supported_by
from newsqa.llm.cache import ResponseCache
from newsqa.llm.retry import backoff, retrying
from newsqa.llm.structured import generate
from tests.conftest import track
from tests.support.fake_openai import FakeOpenAI, Reply, completion

MESSAGES = [{"role": "system", "content": "sys"}, {"role": "user", "content": "task"}]
ERROR = {"error": {"message": "boom"}}
OK = Reply(body=completion("ok"))


def _client(server: FakeOpenAI, sleeps: list[float] | None = None, **over: Any) -> LLMClient:
    fields = {"model": "fake", "timeout": 5.0, "max_retries": 3, **over}
    settings = Settings(base_url=server.base_url, api_key="sk-test-dummy", **fields)
    return track(LLMClient(settings, sleep=(sleeps if sleeps is not None else []).append))


# -- which statuses are retried ------------------------------------------------------

RETRIED = [408, 409, 429, 500, 501, 502, 503, 504, 529]
NOT_RETRIED = [400, 401, 403, 404, 409 + 13, 410, 413]  # 422 among them


@pytest.mark.parametrize("status", RETRIED)
def test_transient_statuses_are_retried(status: int) -> None:
    with FakeOpenAI([Reply(status=status, body=ERROR), OK]) as server:
        assert _client(server).chat(MESSAGES, max_tokens=5).text == "ok"
        assert len(server.requests) == 2


@pytest.mark.parametrize("status", NOT_RETRIED)
def test_client_errors_fail_at_once_with_their_status(status: int) -> None:
    with FakeOpenAI([Reply(status=status, body=ERROR), OK]) as server:
        with pytest.raises(ProviderError) as info:
            _client(server).chat(MESSAGES, max_tokens=5)
        assert len(server.requests) == 1
    assert info.value.status_code == status


# -- backoff bounds --------------------------------------------------------------------


class _Top(random.Random):
    """A generator that always draws the top of the range."""

    def uniform(self, a: float, b: float) -> float:
        return b


def test_backoff_doubles_from_half_a_second_up_to_the_cap() -> None:
    waits = [backoff(n, initial=0.5, cap=8.0, rng=_Top()) for n in range(1, 9)]
    assert waits == [0.5, 1.0, 2.0, 4.0, 8.0, 8.0, 8.0, 8.0]


def test_seeded_backoff_stays_within_its_bounds_and_is_jittered() -> None:
    rng = random.Random(15)
    waits = [backoff(n, initial=0.5, cap=8.0, rng=rng) for n in range(1, 41)]
    bounds = [min(8.0, 0.5 * 2 ** (n - 1)) for n in range(1, 41)]
    assert all(0.0 <= w <= b for w, b in zip(waits, bounds, strict=True))
    assert len(set(waits)) == len(waits)  # jittered: no two equal
    assert max(waits) > 4.0  # the cap is reached, not a lower ceiling
    again = random.Random(15)
    assert waits == [backoff(n, initial=0.5, cap=8.0, rng=again) for n in range(1, 41)]


def test_the_retry_policy_sleeps_its_backoff_between_tries() -> None:
    sleeps: list[float] = []
    calls = 0

    def flaky() -> str:
        nonlocal calls
        calls += 1
        if calls <= 6:
            raise OSError("down")
        return "up"

    policy = retrying(
        max_retries=6,
        is_transient=lambda e: isinstance(e, OSError),
        retry_after=lambda e: None,
        max_wait=60.0,
        sleep=sleeps.append,
        rng=_Top(),
    )
    assert policy(flaky) == "up"
    assert sleeps == [0.5, 1.0, 2.0, 4.0, 8.0, 8.0]


def test_the_client_backs_off_within_the_bounds() -> None:
    sleeps: list[float] = []
    with FakeOpenAI([Reply(status=503, body=ERROR)] * 5 + [OK]) as server:
        _client(server, sleeps, max_retries=5).chat(MESSAGES, max_tokens=5)
    assert len(sleeps) == 5
    assert all(0.0 <= s <= min(8.0, 0.5 * 2**i) for i, s in enumerate(sleeps))


# -- what the cache key sees --------------------------------------------------------

SCHEMA_A = {"type": "json_object", "schema": {"type": "object"}}
SCHEMA_B = {"type": "json_object", "schema": {"type": "array"}}
CHANGES: list[tuple[str, dict[str, Any]]] = [
    ("messages", {"messages": [{"role": "user", "content": "other"}]}),
    ("max_tokens", {"max_tokens": 6}),
    ("temperature", {"temperature": 0.7}),
    ("response_format added", {"response_format": SCHEMA_A}),
    ("response_format changed", {"response_format": SCHEMA_B, "base": SCHEMA_A}),
    ("response_format type", {"response_format": {"type": "json_object"}, "base": SCHEMA_A}),
]


@pytest.mark.parametrize(("field", "change"), CHANGES, ids=[c[0] for c in CHANGES])
def test_each_request_field_is_in_the_cache_key(
    tmp_path: Path, field: str, change: dict[str, Any]
) -> None:
    base_format = change.pop("base", None)
    request: dict[str, Any] = {"messages": MESSAGES, "max_tokens": 5}
    if base_format is not None:
        request["response_format"] = base_format
    with FakeOpenAI([OK, OK, OK]) as server:
        client = _client(server)
        client.cache = ResponseCache(tmp_path / "c.sqlite")
        client.chat(**request)
        client.chat(**request)  # the same request: served from the cache
        assert len(server.requests) == 1
        client.chat(**{**request, **change})
        assert len(server.requests) == 2, f"a change of {field} was served from the cache"


@pytest.mark.parametrize("setting", [{"model": "other"}, {"temperature": 0.9}])
def test_client_settings_are_in_the_cache_key(tmp_path: Path, setting: dict[str, Any]) -> None:
    with FakeOpenAI([OK, OK]) as server:
        first = _client(server)
        first.cache = ResponseCache(tmp_path / "c.sqlite")
        first.chat(MESSAGES, max_tokens=5)
        second = _client(server, **setting)
        second.cache = ResponseCache(tmp_path / "c.sqlite")
        second.chat(MESSAGES, max_tokens=5)
        assert len(server.requests) == 2


def test_the_endpoint_is_in_the_cache_key(tmp_path: Path) -> None:
    with FakeOpenAI([OK]) as one, FakeOpenAI([OK]) as two:
        for server in (one, two):
            client = _client(server)
            client.cache = ResponseCache(tmp_path / "c.sqlite")
            client.chat(MESSAGES, max_tokens=5)
        assert (len(one.requests), len(two.requests)) == (1, 1)


# -- usage == HTTP requests ----------------------------------------------------------

USAGE_SCRIPTS: list[tuple[str, list[Reply], bool]] = [
    ("ok", [OK], True),
    ("one 500", [Reply(status=500, body=ERROR), OK], True),
    ("two 429", [Reply(status=429, body=ERROR)] * 2 + [OK], True),
    ("408 then 504", [Reply(status=408, body=ERROR), Reply(status=504, body=ERROR), OK], True),
    ("drop", [Reply(drop=True), OK], True),
    ("400", [Reply(status=400, body=ERROR)], False),
    ("budget spent", [Reply(status=503, body=ERROR)] * 4, False),
    ("not a completion", [Reply(body={"nothing": 1})], False),
]


@pytest.mark.parametrize(
    ("script", "ok"), [s[1:] for s in USAGE_SCRIPTS], ids=[s[0] for s in USAGE_SCRIPTS]
)
def test_usage_counts_every_http_request(script: list[Reply], ok: bool) -> None:
    with FakeOpenAI(script) as server:
        client = _client(server)
        try:
            done = client.chat(MESSAGES, max_tokens=5)
            assert ok and done.usage.calls == len(server.requests)
        except LLMError as e:
            assert not ok and e.usage is not None and e.usage.calls == len(server.requests)
        assert client.usage.calls == len(server.requests)


class Out(BaseModel):
    label: Literal["yes", "no"]


def _rejected(status: int, kind: str) -> Reply:
    return Reply(status=status, body={"error": {"message": f"response_format {kind} unsupported"}})


STRUCTURED_SCRIPTS: list[tuple[str, list[Reply]]] = [
    ("first try", [Reply.json({"label": "yes"})]),
    ("one re-ask", [Reply.text("nope"), Reply.json({"label": "no"})]),
    (
        "retry then re-ask",
        [Reply(status=502, body=ERROR), Reply.text("x"), Reply.json({"label": "no"})],
    ),
    ("400 fallback", [_rejected(400, "json_schema"), Reply.json({"label": "no"})]),
    ("422 fallback", [_rejected(422, "json_schema"), Reply.json({"label": "no"})]),
    ("never valid", [Reply.text("x")] * 3),
]


@pytest.mark.parametrize(
    "script", [s[1] for s in STRUCTURED_SCRIPTS], ids=[s[0] for s in STRUCTURED_SCRIPTS]
)
def test_structured_usage_counts_every_http_request(script: list[Reply]) -> None:
    with FakeOpenAI(script) as server:
        client = _client(server, max_reasks=2)
        try:
            result = generate(client, MESSAGES, Out, max_tokens=20)
            assert result.usage.calls == len(server.requests)
        except OutputValidationError as e:
            assert e.usage is not None and e.usage.calls == len(server.requests)
        assert client.usage.calls == len(server.requests)


# -- structured output: fallback and re-ask shape ----------------------------------------


@pytest.mark.parametrize("status", [400, 422])
def test_a_rejected_json_schema_falls_back_to_json_object_with_the_schema(status: int) -> None:
    with FakeOpenAI([_rejected(status, "json_schema"), Reply.json({"label": "no"})]) as server:
        client = _client(server)
        assert generate(client, MESSAGES, Out, max_tokens=20).value.label == "no"
        second = server.requests[1]
    assert second["response_format"] == {"type": "json_object"}
    assert '"label"' in second["messages"][-1]["content"]  # the schema travels in the prompt
    assert client.structured_mode == "json_object"


def test_each_re_ask_sends_the_original_conversation_plus_one_exchange() -> None:
    with FakeOpenAI([Reply.text(f"bad {i}") for i in range(4)]) as server:
        with pytest.raises(OutputValidationError):
            generate(_client(server), MESSAGES, Out, max_tokens=20, max_reasks=3)
        sent = [r["messages"] for r in server.requests]
    assert sent[0] == MESSAGES
    for i, messages in enumerate(sent[1:]):
        assert len(messages) == len(MESSAGES) + 2
        assert messages[: len(MESSAGES)] == MESSAGES
        assert messages[-2] == {"role": "assistant", "content": f"bad {i}"}


# -- the abstention gate -------------------------------------------------------------

SOURCE = "The U.S. committed 64.1 billion dollars in 2024, and 3 more ships."


@pytest.mark.parametrize(
    ("answer", "grounded"),
    [
        ("64.1 billion dollars", True),
        ("64.1 billion dollars in 2024", True),
        ("64.1 billion dollars in 2023", False),  # one number of two is not in the source
        ("65 billion dollars", False),
        ("3 ships", True),
        ("4 ships", False),
        ("billion dollars committed", True),
        ("trillion euros pledged", False),
    ],
)
def test_every_number_of_an_answer_must_be_in_the_cited_sentence(
    answer: str, grounded: bool
) -> None:
    assert supported_by(answer, [SOURCE]) is grounded


# -- numbering over several documents --------------------------------------------------


def test_numbering_runs_on_over_three_documents_and_maps_back() -> None:
    texts = [
        "Kyiv said no. Moscow said yes.",
        "Paris waited.",
        "Rome spoke. Bern agreed. Oslo left.",
    ]
    docs = [document_from_text(t, id=f"d{i}") for i, t in enumerate(texts)]
    passage = Passage.of(docs)
    assert sorted(passage.numbers) == [1, 2, 3, 4, 5, 6]
    expected = {
        1: ("d0", "Kyiv said no."),
        2: ("d0", "Moscow said yes."),
        3: ("d1", "Paris waited."),
        4: ("d2", "Rome spoke."),
        5: ("d2", "Bern agreed."),
        6: ("d2", "Oslo left."),
    }
    for number, (doc_id, text) in expected.items():
        [citation] = passage.evidence([number])
        assert (citation.doc, citation.text) == (doc_id, text)
        source = next(d for d in docs if d.id == doc_id).text
        assert source[citation.start : citation.end] == text
    rendered = passage.render()
    assert "[4] Rome spoke." in rendered and "[6] Oslo left." in rendered
    assert passage.lines([6, 3]) == "[6] Oslo left.\n[3] Paris waited."


# -- sentences that start with a digit -----------------------------------------------


@pytest.mark.parametrize(
    ("text", "sentences"),
    [
        ("The talks ended. 2024 was hard.", ["The talks ended.", "2024 was hard."]),
        (
            "It rained. 3 people died. 12 were hurt.",
            ["It rained.", "3 people died.", "12 were hurt."],
        ),
        ("He left at 5 p.m. on Monday.", ["He left at 5 p.m. on Monday."]),
        ("It cost 1.5 million. 40% agreed.", ["It cost 1.5 million.", "40% agreed."]),
        ("See item No. 5 below.", ["See item No. 5 below."]),
    ],
)
def test_sentences_starting_with_a_digit(text: str, sentences: list[str]) -> None:
    spans = split_sentences(text)
    assert [s.text for s in spans] == sentences
    assert all(text[s.start : s.end] == s.text for s in spans)
    assert [s.id for s in spans] == list(range(1, len(sentences) + 1))
