"""Speculative decoding writes the greedy replies token for token (slow: the real
embedded model on recorded requests, each run with drafting off and on).

The requests are those recorded in the cassettes for the seed's summary, its stances
(actors, then one call per actor), a question, an extraction and a part of a long
document; they are run in that order in each mode, so both reuse the same prefixes.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
import yaml

from newsqa import Settings
from tests.conftest import CASSETTES

pytestmark = pytest.mark.slow

RECORDED = [
    ("test_tasks_replay/test_summarize_seed.yaml", 0),
    ("test_tasks_replay/test_stances_seed_finds_the_three_countries.yaml", 0),
    ("test_tasks_replay/test_stances_seed_finds_the_three_countries.yaml", 1),
    ("test_tasks_replay/test_stances_seed_finds_the_three_countries.yaml", 2),
    ("test_tasks_replay/test_stances_seed_finds_the_three_countries.yaml", 3),
    ("test_tasks_replay/test_ask_answers_the_aid_figure_with_a_citation.yaml", 0),
    ("test_tasks_replay/test_extract_fills_a_user_model_from_the_seed.yaml", 0),
    ("test_tasks_replay/test_long_document_is_map_reduced.yaml", 0),
]


def _request(cassette: str, index: int) -> dict[str, Any]:
    interactions = yaml.safe_load((CASSETTES / cassette).read_text())["interactions"]
    body: dict[str, Any] = json.loads(interactions[index]["request"]["body"])
    return body


@pytest.fixture(scope="module")
def llama() -> Iterator[Any]:
    pytest.importorskip("llama_cpp")
    from newsqa.errors import ConfigError
    from newsqa.llm import local
    from newsqa.llm.model_files import ensure_model

    settings = Settings()
    try:
        ensure_model(settings.cache_dir)
    except ConfigError as e:
        pytest.skip(f"embedded model not installed: {e}")
    yield local.EmbeddedModel(settings)._llama()


def test_drafted_replies_are_the_greedy_replies(llama: Any) -> None:
    from newsqa.llm.checked_greedy import CheckedLlama
    from newsqa.llm.local import llama_arguments
    from newsqa.llm.prompt_lookup import DecodeStats

    requests = [llama_arguments(_request(*where)) for where in RECORDED]
    tokens: list[int] = []
    generate = CheckedLlama.generate

    def spy(self: CheckedLlama, *args: Any, **kwargs: Any) -> Any:
        tokens.clear()
        replying = generate(self, *args, **kwargs)
        try:
            for token in replying:
                tokens.append(token)
                yield token
        finally:
            replying.close()

    replies: dict[bool, list[tuple[str, list[int]]]] = {}
    stats: dict[bool, DecodeStats] = {}
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(CheckedLlama, "generate", spy)
        for speculate in (False, True):
            llama.speculate = speculate
            llama.reset()
            before = llama.stats
            replies[speculate] = []
            for kwargs in requests:
                reply = llama.create_chat_completion(**kwargs)
                replies[speculate].append((reply["choices"][0]["message"]["content"], tokens[:]))
            stats[speculate] = llama.stats - before
    llama.speculate = True
    for (greedy, greedy_tokens), (drafted, drafted_tokens) in zip(
        replies[False], replies[True], strict=True
    ):
        assert drafted == greedy
        assert drafted_tokens == greedy_tokens
    off, on = stats[False], stats[True]
    assert off.drafted == off.accepted == 0
    assert on.requests == off.requests == len(RECORDED)
    assert on.generated == off.generated
    assert on.prompt_tokens == off.prompt_tokens
    assert on.accepted > 50  # drafting really ran, and saved steps
    assert on.steps < off.steps
