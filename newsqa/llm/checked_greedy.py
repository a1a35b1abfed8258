"""Greedy decoding under a grammar that checks the grammar on the chosen token first.

llama-cpp-python applies the grammar to the whole vocabulary before every greedy
pick: with Qwen's 151,936 tokens that is ≈ 23 ms per generated token, a third of the
time of a JSON reply on 2 cores. The greedy token is the same when only the most
likely token is checked and the whole vocabulary is filtered only when the grammar
refuses it (what llama.cpp's own sampler does, ggml-org/llama.cpp#4306), so replies
are unchanged and cost ≈ 0.5 ms per token of sampling. Imported only when
llama-cpp-python is installed.
"""

from __future__ import annotations

import ctypes
import math
from typing import Any

import llama_cpp
import numpy as np
from llama_cpp import Llama
from llama_cpp.llama_grammar import LlamaGrammar

__all__ = ["CheckedGreedy", "CheckedLlama"]

_TOKEN_DATA = np.dtype([("id", np.int32), ("logit", np.float32), ("p", np.float32)])


class CheckedGreedy:
    """A sampler for one reply: the most likely token the grammar allows.

    Args:
        llama: the loaded model.
        grammar: the reply's grammar.
    """

    def __init__(self, llama: Llama, grammar: LlamaGrammar) -> None:
        self._n_vocab = llama.n_vocab()
        self._sampler = llama_cpp.llama_sampler_init_grammar(
            llama._model.vocab, grammar._grammar.encode("utf-8"), grammar._root.encode("utf-8")
        )
        if not self._sampler:
            raise ValueError("llama.cpp could not parse the grammar")
        self._one = (llama_cpp.llama_token_data * 1)()
        self._all = (llama_cpp.llama_token_data * self._n_vocab)()
        self._table = np.frombuffer(memoryview(self._all), dtype=_TOKEN_DATA)
        self._table["id"] = np.arange(self._n_vocab, dtype=np.int32)
        self.refused = 0
        """How many picks the grammar refused (the whole vocabulary was filtered)."""

    def _filter(self, data: Any, size: int) -> None:
        """Apply the grammar: tokens it refuses get a logit of minus infinity."""
        array = llama_cpp.llama_token_data_array(data, size, -1, False)
        llama_cpp.llama_sampler_apply(self._sampler, ctypes.byref(array))

    def sample(self, ctx: Any, idx: int = -1) -> int:
        """The next token from the logits of position ``idx`` of ``ctx`` (a
        ``LlamaContext``), accepted into the grammar's state."""
        logits = np.ctypeslib.as_array(
            llama_cpp.llama_get_logits_ith(ctx.ctx, idx), shape=(self._n_vocab,)
        )
        token = int(logits.argmax())
        self._one[0] = llama_cpp.llama_token_data(token, float(logits[token]), 0.0)
        self._filter(self._one, 1)
        if math.isinf(self._one[0].logit):  # refused: filter the whole vocabulary
            self.refused += 1
            self._table["logit"] = logits
            self._filter(self._all, self._n_vocab)
            token = int(self._table["logit"].argmax())
            if math.isinf(self._table["logit"][token]):
                raise RuntimeError("the grammar allows no token here")
        llama_cpp.llama_sampler_accept(self._sampler, token)
        return token

    def close(self) -> None:
        """Free the grammar."""
        if self._sampler:
            llama_cpp.llama_sampler_free(self._sampler)
            self._sampler = None

    def __del__(self) -> None:
        self.close()


class CheckedLlama(Llama):
    """``Llama`` whose greedy, unpenalised grammar replies use :class:`CheckedGreedy`;
    every other request samples as llama-cpp-python does."""

    def _init_sampler(self, *args: Any, **kwargs: Any) -> Any:
        grammar = kwargs.get("grammar")
        plain = (
            not args
            and kwargs.get("temp") == 0.0
            and kwargs.get("repeat_penalty", 1.0) == 1.0
            and kwargs.get("frequency_penalty", 0.0) == 0.0
            and kwargs.get("presence_penalty", 0.0) == 0.0
            and kwargs.get("mirostat_mode", 0) == 0
            and kwargs.get("logits_processor") is None
        )
        if grammar is not None and plain:
            return CheckedGreedy(self, grammar)
        return super()._init_sampler(*args, **kwargs)
