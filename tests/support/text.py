"""Text generated for tests of long input."""

from __future__ import annotations

import random

WORDS = (
    "ukraine russia talks peace ceasefire kyiv moscow minister said the of troops aid "
    "border winter army plan leaders meeting weapons sanctions envoy grain port"
).split()


def unpunctuated(n_bytes: int, seed: int = 1) -> str:
    """About ``n_bytes`` of news words without a single punctuation mark."""
    rng = random.Random(seed)
    words: list[str] = []
    size = 0
    while size < n_bytes:
        word = rng.choice(WORDS)
        words.append(word)
        size += len(word) + 1
    return " ".join(words)
