"""Draft tokens for speculative decoding by n-gram lookup in the request itself.

Much of what newsqa asks the model to write is already in its prompt: positions that
quote the actor's sentence, key points in the article's words, names and numbers. The
tokens that followed the latest earlier occurrence of the last few tokens are a good
guess at what comes next; the model checks the guess in one batched evaluation
(:mod:`newsqa.llm.checked_greedy`) and keeps only what it would have written itself.
Imported only when numpy (the local extra) is installed.
"""

from __future__ import annotations

from dataclasses import astuple, dataclass

import numpy as np
import numpy.typing as npt

__all__ = ["DRAFT_SIZES", "DecodeStats", "draft"]

DRAFT_SIZES = (0, 0, 0, 4, 4, 6)
"""How many tokens to draft after a match of ``n`` tokens, by ``n`` (the last for longer
matches). A match of one or two tokens is right too seldom to pay for checking its
continuation; see docs/benchmarks.md for the sizes tried."""


def draft(
    context: npt.NDArray[np.intc], sizes: tuple[int, ...] = DRAFT_SIZES
) -> npt.NDArray[np.intc]:
    """The tokens that followed the latest earlier occurrence of the context's last
    ``n`` tokens, for the largest ``n < len(sizes)`` that occurs earlier; ``sizes[n]``
    of them at most, none when no n-gram with a size above 0 occurs.

    Args:
        context: the prompt and the reply so far, as token ids.
        sizes: how many tokens to draft after a match of ``n`` tokens, by ``n``.
    """
    end = len(context)
    shortest = next((n for n, size in enumerate(sizes) if n and size), len(sizes))
    for n in range(min(len(sizes) - 1, end - 1), shortest - 1, -1):
        # starts j < end - n of the occurrences context[j:j+n] of the last n tokens
        found = context[: end - n] == context[end - n]
        for k in range(1, n):
            found &= context[k : end - n + k] == context[end - n + k]
        starts = np.flatnonzero(found)
        if starts.size:
            start = int(starts[-1]) + n
            return context[start : start + sizes[n]].copy()
    return np.empty(0, dtype=context.dtype)


@dataclass
class DecodeStats:
    """Token counts and times of the embedded model's requests.

    Attributes:
        requests: completions run.
        prompt_tokens: prompt tokens evaluated (those not reused from the previous request).
        drafted: tokens drafted by prompt lookup and evaluated to be checked.
        accepted: drafted tokens the greedy choice agreed with (written without a step).
        generated: tokens the model chose.
        prompt_seconds: time spent evaluating the prompt tokens.
        seconds: time from the start of each completion to its last token.
    """

    requests: int = 0
    prompt_tokens: int = 0
    drafted: int = 0
    accepted: int = 0
    generated: int = 0
    prompt_seconds: float = 0.0
    seconds: float = 0.0

    def __add__(self, other: DecodeStats) -> DecodeStats:
        return DecodeStats(*(a + b for a, b in zip(astuple(self), astuple(other), strict=True)))

    def __sub__(self, other: DecodeStats) -> DecodeStats:
        return DecodeStats(*(a - b for a, b in zip(astuple(self), astuple(other), strict=True)))

    @property
    def steps(self) -> int:
        """Decoding steps: one per token chosen that was not drafted."""
        return self.generated - self.accepted
