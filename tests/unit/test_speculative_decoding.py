"""Speculative decoding in ``CheckedLlama`` against a fake llama.cpp context: drafts are
checked in one batch, the reply is the greedy one, the grammar only sees the tokens
chosen, and the KV cache is rolled back past a rejected draft."""

from __future__ import annotations

import contextlib
from collections.abc import Sequence
from dataclasses import astuple
from typing import Any

import pytest

pytest.importorskip("llama_cpp", reason="needs the local extra: llama-cpp-python")
np = pytest.importorskip("numpy", reason="needs the local extra: numpy")

from llama_cpp import Llama  # noqa: E402

from newsqa.llm import checked_greedy  # noqa: E402
from newsqa.llm.checked_greedy import CheckedLlama  # noqa: E402
from newsqa.llm.prompt_lookup import DecodeStats  # noqa: E402

PROMPT = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12]
WRONG = 99  # what the fake model writes after a cache that is not the text


class FakeContext:
    """llama.cpp's context, faked: a KV cache of token by position, and logits for the
    positions a batch asked them for."""

    ctx = "ctx"

    def __init__(self) -> None:
        self.kv: dict[int, int] = {}
        self.outputs: list[int] = []  # positions with logits, in the last batch
        self.batches: list[list[int]] = []

    def kv_cache_seq_rm(self, seq_id: int, p0: int, p1: int) -> bool:
        assert (seq_id, p1) == (-1, -1)
        self.kv = {p: t for p, t in self.kv.items() if p < p0}
        return True

    def decode(self, batch: FakeBatch) -> None:
        self.batches.append(list(batch.tokens))
        for pos, token in zip(batch.positions, batch.tokens, strict=True):
            assert pos not in self.kv, "a position is written twice without being removed"
            self.kv[pos] = token
        self.outputs = [p for p, keep in zip(batch.positions, batch.logits, strict=True) if keep]

    def text(self, idx: int) -> list[int]:
        """The cached tokens up to the position of output ``idx`` (negative: from the end)."""
        position = self.outputs[idx]  # llama.cpp refuses logits it was not asked for
        return [self.kv[p] for p in range(position + 1)]


class FakeBatch:
    def __init__(self) -> None:
        self.tokens: list[int] = []
        self.positions: list[int] = []
        self.logits: list[bool] = []

    def set_batch(self, batch: Sequence[int], n_past: int, logits_all: bool) -> None:
        self.tokens = list(batch)
        self.positions = list(range(n_past, n_past + len(batch)))
        self.logits = [logits_all] * len(batch)
        self.logits[-1] = True


class FakeSampler:
    """The greedy pick of a model that writes ``reply`` after the prompt, read from the
    KV cache as llama.cpp reads it; the grammar accepts each token picked."""

    def __init__(self, reply: list[int], accepted: list[int]) -> None:
        self.reply = reply
        self.accepted = accepted

    def sample(self, ctx: FakeContext, idx: int = -1) -> int:
        text = ctx.text(idx)
        written = text[len(PROMPT) :]
        right = text[: len(PROMPT)] == PROMPT and written == self.reply[: len(written)]
        token = self.reply[len(written)] if right else WRONG
        self.accepted.append(token)
        return token


def _llama(monkeypatch: pytest.MonkeyPatch, reply: list[int], speculate: bool) -> Any:
    llama: Any = object.__new__(CheckedLlama)
    llama._stack = contextlib.ExitStack()
    llama.speculate = speculate
    llama.draft_model = None
    llama._ctx = FakeContext()
    llama._batch = FakeBatch()
    llama.n_batch = 512
    llama._n_ctx = 4096
    llama.n_tokens = 0
    llama.input_ids = np.zeros(4096, dtype=np.intc)
    llama._logits_all = llama.verbose = False
    llama._is_recurrent = llama._is_hybrid = False
    llama.accepted = []
    monkeypatch.setattr(
        checked_greedy, "CheckedGreedy", lambda model, grammar: FakeSampler(reply, model.accepted)
    )
    return llama


def _counts(stats: DecodeStats) -> tuple[float, ...]:
    """Requests, prompt tokens, drafted, accepted, generated."""
    return astuple(stats)[:5]


def _reply(llama: Any, prompt: list[int], length: int) -> list[int]:
    written = []
    for token in llama.generate(prompt, temp=0.0, grammar="g"):
        written.append(token)
        if len(written) == length:
            break
    return written


# The reply copies "2 3 4 5 6" from the prompt, then leaves it with 50 where the prompt
# goes on with 7: after "2 3 4" (a match of 3 tokens, so 4 are drafted) the draft
# "5 6 7 8" is right up to 6.
REPLY = [20, 2, 3, 4, 5, 6, 50, 51, 52]


@pytest.mark.parametrize("speculate", [False, True])
def test_the_reply_is_the_greedy_one_and_the_grammar_sees_only_it(
    monkeypatch: pytest.MonkeyPatch, speculate: bool
) -> None:
    llama = _llama(monkeypatch, REPLY, speculate)
    assert _reply(llama, PROMPT, len(REPLY)) == REPLY
    assert llama.accepted == REPLY


def test_drafts_are_checked_in_one_batch_and_the_rest_is_rolled_back(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    llama = _llama(monkeypatch, REPLY, speculate=True)
    assert _reply(llama, PROMPT, len(REPLY)) == REPLY
    batches = llama._ctx.batches
    # one batch checks the draft; 7 and 8 are dropped from the cache and 50 takes 7's place
    assert batches == [PROMPT, [20], [2], [3], [4, 5, 6, 7, 8], [50], [51]]
    assert llama._ctx.text(-1) == PROMPT + REPLY[:-1]
    assert llama.n_tokens == len(PROMPT) + len(REPLY) - 1
    assert _counts(llama.last) == (1, len(PROMPT), 4, 2, len(REPLY))  # 4 drafted, 2 right
    assert llama.last.steps == len(REPLY) - 2


def test_without_speculation_each_token_is_its_own_step(monkeypatch: pytest.MonkeyPatch) -> None:
    llama = _llama(monkeypatch, REPLY, speculate=False)
    assert _reply(llama, PROMPT, len(REPLY)) == REPLY
    assert llama._ctx.batches == [PROMPT] + [[t] for t in REPLY[:-1]]
    assert _counts(llama.last) == (1, len(PROMPT), 0, 0, len(REPLY))


def test_stats_add_up_over_requests_and_a_shared_prefix_is_not_counted(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    llama = _llama(monkeypatch, REPLY, speculate=True)
    llama.stats = DecodeStats()
    _reply(llama, PROMPT, len(REPLY))
    first = llama.last
    _reply(llama, PROMPT, 3)  # the whole prompt is cached: one token is evaluated again
    assert llama.last.prompt_tokens == 1 and llama.last.generated == 3
    assert llama.stats == first + llama.last
    assert 0 < first.prompt_seconds < first.seconds
    assert llama.draft_model is None  # the draft model does not outlive its request


def test_replies_that_do_not_decode_greedily_are_not_drafted(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    llama = _llama(monkeypatch, REPLY, speculate=True)
    stock: list[dict[str, Any]] = []

    def init_sampler(self: Any, **kwargs: Any) -> FakeSampler:
        stock.append(kwargs)
        return FakeSampler(REPLY, llama.accepted)

    monkeypatch.setattr(Llama, "_init_sampler", init_sampler)
    replying = llama.generate(PROMPT, temp=0.7, grammar="g")
    assert [next(replying) for _ in range(len(REPLY))] == REPLY
    replying.close()
    assert len(stock) == 1 and llama._ctx.batches == [PROMPT] + [[t] for t in REPLY[:-1]]
    assert llama.last.drafted == 0
