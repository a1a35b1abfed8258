"""The real embedded model, end to end on the seed (slow: minutes on 2 CPU cores).

Runs whenever ``newsqa[local]`` is installed (llama-cpp-python and the model parts),
as it is by the README's test command; skipped otherwise. Nothing is recorded here:
these calls go to the model itself.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any, Literal

import pytest
import yaml
from pydantic import BaseModel

from newsqa import LLMClient, Settings, analyze_stances, ask, summarize
from newsqa.llm.structured import generate
from newsqa.types import Document
from tests.conftest import CASSETTES

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def embedded() -> Iterator[LLMClient]:
    pytest.importorskip("llama_cpp")
    from newsqa.errors import ConfigError
    from newsqa.llm.model_files import ensure_model

    settings = Settings()
    try:
        ensure_model(settings.cache_dir)
    except ConfigError as e:
        pytest.skip(f"embedded model not installed: {e}")
    client = LLMClient(settings)
    yield client
    client.close()


class Choice(BaseModel):
    label: Literal["yes", "no"]


def test_grammar_really_constrains_the_output(embedded: LLMClient) -> None:
    messages = [{"role": "user", "content": 'Reply with {"label": "banana"} exactly.'}]
    result = generate(embedded, messages, Choice, max_tokens=20, max_reasks=0)
    assert result.value.label in ("yes", "no")


def test_seed_end_to_end(embedded: LLMClient, seed: Document) -> None:
    summary = summarize(seed, client=embedded)
    assert summary.key_points
    for kp in summary.key_points:
        for ev in kp.evidence:
            assert seed.text[ev.start : ev.end] == ev.text

    report = analyze_stances(seed, client=embedded)
    assert {"Russia", "United States", "Ukraine"} <= {s.actor for s in report.stances}
    for stance in report.stances:
        for ev in stance.evidence:
            assert seed.text[ev.start : ev.end] == ev.text

    answer = ask(seed, "How much military aid has the U.S. committed to Ukraine?", client=embedded)
    assert answer.answerable and answer.answer and "64.1" in answer.answer
    abstained = ask(seed, "What is the population of Sochi?", client=embedded)
    assert not abstained.answerable
    assert embedded.usage.calls >= 6


def test_quickstart_example_runs(embedded: LLMClient, capsys: pytest.CaptureFixture[str]) -> None:
    import runpy

    from tests.conftest import ROOT

    namespace = runpy.run_path(str(ROOT / "examples" / "quickstart.py"))
    answer = namespace["main"]()
    assert answer.answerable and "64.1" in (answer.answer or "")
    assert "64.1" in capsys.readouterr().out


def test_checked_greedy_replies_are_llama_cpps_own(
    embedded: LLMClient, seed: Document, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The sampler that checks the grammar on the greedy token first writes exactly what
    llama-cpp-python's own sampler (grammar over the whole vocabulary) writes, on
    replies where the grammar refuses the model's favourite token and where it does not."""
    from llama_cpp import Llama

    from newsqa.llm import checked_greedy, local

    made: list[checked_greedy.CheckedGreedy] = []
    original = checked_greedy.CheckedGreedy.__init__

    def spy(self: checked_greedy.CheckedGreedy, *args: object) -> None:
        original(self, *args)  # type: ignore[arg-type]
        made.append(self)

    monkeypatch.setattr(checked_greedy.CheckedGreedy, "__init__", spy)
    llama: Any = local.EmbeddedModel(Settings())._llama()
    points = {"type": "array", "items": {"type": "string"}, "maxItems": 3}
    summary = {"type": "object", "properties": {"points": points}, "required": ["points"]}
    requests = [
        ('Reply with {"label": "banana"} exactly.', Choice.model_json_schema(), 20),
        (f"Key points of this article, in JSON:\n{seed.text[:1500]}", summary, 60),
    ]
    for prompt, schema, max_tokens in requests:
        args: dict[str, Any] = {
            "messages": [{"role": "user", "content": prompt}],
            "max_tokens": max_tokens,
            "temperature": 0.0,
            "response_format": {"type": "json_object", "schema": schema},
        }
        llama.reset()
        checked = llama.create_chat_completion(**args)
        monkeypatch.setattr(llama, "__class__", Llama)
        llama.reset()
        stock = llama.create_chat_completion(**args)
        monkeypatch.setattr(llama, "__class__", checked_greedy.CheckedLlama)
        assert checked["choices"][0]["message"] == stock["choices"][0]["message"]
    assert len(made) == 2 and made[0].refused > 0


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


NEAR_TIE = 0.1
"""Logits: the greedy token's lead over the runner-up below which evaluating a token in a
batch instead of alone (different sums of the same products) may swap the two."""


def test_drafted_replies_are_the_greedy_replies(embedded: LLMClient) -> None:
    """Speculative decoding writes the greedy replies token for token, up to a near tie:
    requests recorded in the cassettes (the seed's summary, its stances, a question, an
    extraction, a part of a long document) run in that order with drafting off, then on,
    so that both reuse the same prefixes; where two replies part, the greedy token led
    the one drafting chose by less than :data:`NEAR_TIE`."""
    import llama_cpp
    import numpy as np

    from newsqa.llm import checked_greedy, local
    from newsqa.llm.local import llama_arguments
    from newsqa.llm.prompt_lookup import DecodeStats

    llama: Any = local.EmbeddedModel(Settings())._llama()
    requests = [llama_arguments(_request(*where)) for where in RECORDED]
    picks: list[tuple[int, dict[int, float]]] = []  # the token, the 8 likeliest's logits
    sample = checked_greedy.CheckedGreedy.sample

    def spy(self: checked_greedy.CheckedGreedy, ctx: Any, idx: int = -1) -> int:
        logits = np.ctypeslib.as_array(
            llama_cpp.llama_get_logits_ith(ctx.ctx, idx), shape=(llama.n_vocab(),)
        )
        likeliest = {int(t): float(logits[t]) for t in np.argpartition(logits, -8)[-8:]}
        token = sample(self, ctx, idx)
        picks.append((token, likeliest))
        return token

    replies: dict[bool, list[list[tuple[int, dict[int, float]]]]] = {False: [], True: []}
    stats: dict[bool, DecodeStats] = {}
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(checked_greedy.CheckedGreedy, "sample", spy)
        for speculate in (False, True):
            llama.speculate = speculate
            llama.reset()
            before = llama.stats
            for kwargs in requests:
                picks.clear()
                llama.create_chat_completion(**kwargs)
                replies[speculate].append(picks[:])
            stats[speculate] = llama.stats - before
    llama.speculate = local.speculation()
    parted = 0
    for greedy, drafted in zip(replies[False], replies[True], strict=True):
        if [t for t, _ in greedy] == [t for t, _ in drafted]:
            continue
        parted += 1
        at = next(i for i, (g, d) in enumerate(zip(greedy, drafted, strict=False)) if g[0] != d[0])
        (token, logits), other = greedy[at], drafted[at][0]
        assert logits[token] - logits.get(other, -np.inf) < NEAR_TIE, (at, token, other, logits)
    off, on = stats[False], stats[True]
    assert off.drafted == off.accepted == 0
    assert on.requests == off.requests == len(RECORDED)
    assert on.prompt_tokens == off.prompt_tokens
    assert on.accepted > 50  # drafting really ran, and saved steps
    assert on.steps < off.steps
    assert parted <= 2
