"""Checked greedy decoding (``newsqa.llm.checked_greedy``) against fakes of llama.cpp's
grammar sampler and a model's logits: which requests get it, and the token it picks."""

from __future__ import annotations

import contextlib
import ctypes
import math
from collections.abc import Iterator
from typing import Any

import pytest

llama_cpp = pytest.importorskip("llama_cpp", reason="needs the local extra: llama-cpp-python")
np = pytest.importorskip("numpy", reason="needs the local extra: numpy")

from llama_cpp import Llama  # noqa: E402

from newsqa.llm import checked_greedy  # noqa: E402
from newsqa.llm.checked_greedy import CheckedGreedy, CheckedLlama  # noqa: E402

GREEDY: dict[str, Any] = {
    "temp": 0.0,
    "repeat_penalty": 1.0,
    "frequency_penalty": 0.0,
    "presence_penalty": 0.0,
    "mirostat_mode": 0,
    "logits_processor": None,
}


@pytest.fixture
def built(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, Any, Any]]:
    """Which sampler ``_init_sampler`` builds, recorded instead of built."""
    made: list[tuple[str, Any, Any]] = []

    def checked(llama: Any, grammar: Any) -> str:
        made.append(("checked", llama, grammar))
        return "checked"

    def stock(self: Any, *args: Any, **kwargs: Any) -> str:
        made.append(("stock", args, kwargs))
        return "stock"

    monkeypatch.setattr(checked_greedy, "CheckedGreedy", checked)
    monkeypatch.setattr(Llama, "_init_sampler", stock)
    return made


def _bare() -> CheckedLlama:
    """A ``CheckedLlama`` without a model (only what closing it needs)."""
    llama = object.__new__(CheckedLlama)
    llama._stack = contextlib.ExitStack()
    return llama


@pytest.mark.parametrize(
    ("kwargs", "checked"),
    [
        ({**GREEDY, "grammar": "g"}, True),
        ({"temp": 0.0, "grammar": "g"}, True),  # the other settings at their defaults
        ({**GREEDY}, False),  # no grammar
        ({**GREEDY, "grammar": "g", "temp": 0.2}, False),
        ({**GREEDY, "grammar": "g", "repeat_penalty": 1.1}, False),
        ({**GREEDY, "grammar": "g", "frequency_penalty": 0.5}, False),
        ({**GREEDY, "grammar": "g", "presence_penalty": 0.5}, False),
        ({**GREEDY, "grammar": "g", "mirostat_mode": 2}, False),
        ({**GREEDY, "grammar": "g", "logits_processor": [print]}, False),
        ({"grammar": "g"}, False),  # temperature not given
    ],
)
def test_only_greedy_unpenalised_grammar_replies_are_checked(
    built: list[tuple[str, Any, Any]], kwargs: dict[str, Any], checked: bool
) -> None:
    llama = _bare()
    result = llama._init_sampler(**kwargs)
    if checked:
        assert result == "checked" and built == [("checked", llama, "g")]
    else:
        assert result == "stock" and built == [("stock", (), kwargs)]


def test_positional_sampler_arguments_go_to_llama_cpp(built: list[tuple[str, Any, Any]]) -> None:
    llama = _bare()
    assert llama._init_sampler(40, **GREEDY, grammar="g") == "stock"
    assert built == [("stock", (40,), {**GREEDY, "grammar": "g"})]


class FakeGrammarSampler:
    """llama.cpp's grammar sampler, faked: ``refused`` tokens get minus infinity."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch, vocab: int, refused: set[int]) -> None:
        self.refused = refused
        self.applied: list[int] = []  # the size of each array filtered
        self.accepted: list[int] = []
        self.freed = 0
        self.init: tuple[Any, ...] = ()
        self.logits = np.zeros(vocab, dtype=np.float32)
        self._buffer = (ctypes.c_float * vocab)()
        fake = llama_cpp
        monkeypatch.setattr(fake, "llama_sampler_init_grammar", self._init)
        monkeypatch.setattr(fake, "llama_sampler_apply", self._apply)
        monkeypatch.setattr(fake, "llama_sampler_accept", self._accept)
        monkeypatch.setattr(fake, "llama_sampler_free", self._free)
        monkeypatch.setattr(fake, "llama_get_logits_ith", self._logits)

    def _init(self, vocab: Any, grammar: bytes, root: bytes) -> int:
        self.init = (vocab, grammar, root)
        return 1

    def _apply(self, sampler: int, ref: Any) -> None:
        array = ref._obj
        assert (sampler, array.selected, array.sorted) == (1, -1, False)  # none picked, unsorted
        self.applied.append(array.size)
        for i in range(array.size):
            if array.data[i].id in self.refused:
                array.data[i].logit = -math.inf

    def _accept(self, sampler: int, token: int) -> None:
        assert sampler == 1
        self.accepted.append(token)

    def _free(self, sampler: int) -> None:
        assert sampler == 1
        self.freed += 1

    def _logits(self, ctx: Any, idx: int) -> Any:
        assert (ctx, idx) == ("ctx", -1)
        for i, value in enumerate(self.logits):
            self._buffer[i] = float(value)
        return ctypes.cast(self._buffer, ctypes.POINTER(ctypes.c_float))


class FakeModel:
    def __init__(self, vocab: int) -> None:
        self._vocab = vocab
        self._model = type("Model", (), {"vocab": "vocab"})()

    def n_vocab(self) -> int:
        return self._vocab


class FakeGrammar:
    _grammar = "root ::= [0-9]"
    _root = "root"


class Ctx:
    ctx = "ctx"


@pytest.fixture
def made(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[CheckedGreedy]]:
    """Samplers built in a test, closed while llama.cpp is still faked."""
    samplers: list[CheckedGreedy] = []
    yield samplers
    for sampler in samplers:
        sampler.close()


def _sampler(
    monkeypatch: pytest.MonkeyPatch, made: list[CheckedGreedy], refused: set[int]
) -> tuple[Any, FakeGrammarSampler]:
    fake = FakeGrammarSampler(monkeypatch, 5, refused)
    sampler = CheckedGreedy(FakeModel(5), FakeGrammar())  # type: ignore[arg-type]
    made.append(sampler)
    assert fake.init == ("vocab", b"root ::= [0-9]", b"root")
    return sampler, fake


def test_the_most_likely_token_is_checked_alone_when_the_grammar_allows_it(
    monkeypatch: pytest.MonkeyPatch, made: list[CheckedGreedy]
) -> None:
    sampler, fake = _sampler(monkeypatch, made, refused={0})
    fake.logits[:] = [0.5, 1.0, 3.0, 2.0, -1.0]
    assert sampler.sample(Ctx()) == 2
    assert (fake.applied, fake.accepted, sampler.refused) == ([1], [2], 0)


def test_a_refused_token_filters_the_whole_vocabulary(
    monkeypatch: pytest.MonkeyPatch, made: list[CheckedGreedy]
) -> None:
    sampler, fake = _sampler(monkeypatch, made, refused={2, 3})
    fake.logits[:] = [0.5, 1.0, 3.0, 2.0, -1.0]
    assert sampler.sample(Ctx()) == 1  # the best the grammar allows
    assert (fake.applied, fake.accepted, sampler.refused) == ([1, 5], [1], 1)
    fake.logits[:] = [4.0, 1.0, 3.0, 2.0, -1.0]  # the table is refilled for each pick
    assert sampler.sample(Ctx()) == 0
    assert (fake.applied, fake.accepted, sampler.refused) == ([1, 5, 1], [1, 0], 1)
    fake.logits[:] = [0.0, 1.0, 3.0, 2.0, 0.5]
    assert sampler.sample(Ctx()) == 1
    assert sampler.refused == 2  # counted over the reply


def test_a_grammar_that_allows_nothing_is_an_error(
    monkeypatch: pytest.MonkeyPatch, made: list[CheckedGreedy]
) -> None:
    sampler, fake = _sampler(monkeypatch, made, refused={0, 1, 2, 3, 4})
    with pytest.raises(RuntimeError) as info:
        sampler.sample(Ctx())
    assert str(info.value) == "the grammar allows no token here"
    assert fake.accepted == []


def test_the_grammar_is_freed_once(
    monkeypatch: pytest.MonkeyPatch, made: list[CheckedGreedy]
) -> None:
    sampler, fake = _sampler(monkeypatch, made, refused=set())
    sampler.close()
    sampler.close()
    sampler.__del__()
    assert fake.freed == 1


def test_a_grammar_llama_cpp_cannot_parse_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    FakeGrammarSampler(monkeypatch, 5, set())
    monkeypatch.setattr(llama_cpp, "llama_sampler_init_grammar", lambda *args: None)
    with pytest.raises(ValueError) as info:
        CheckedGreedy(FakeModel(5), FakeGrammar())  # type: ignore[arg-type]
    assert str(info.value) == "llama.cpp could not parse the grammar"
