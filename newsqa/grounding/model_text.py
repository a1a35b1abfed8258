"""Free text the model writes (positions, headlines, summaries, answers), cleaned one way
for every task.

A length cap in the schema is enforced by the grammar: when a small model runs into it
mid-word, the only tokens that still fit are one-character ones, and Qwen's vocabulary
offers CJK characters there ("… the impact of the war入侵"). So letters
of a script the source text never uses are dropped, and a text that reached its cap
loses the word it was cut in.
"""

from __future__ import annotations

import unicodedata
from functools import lru_cache

__all__ = ["cleaned"]

_ENDS = tuple('.!?"”’)')


@lru_cache(maxsize=4096)
def _script(char: str) -> str:
    """The script of a letter, as the first word of its Unicode name ("LATIN", "CJK")."""
    return unicodedata.name(char, "UNKNOWN").split(" ", 1)[0]


def _scripts(text: str) -> set[str]:
    return {_script(c) for c in set(text) if c.isalpha()}


def cleaned(text: str, source: str, *, limit: int | None = None) -> str:
    """``text`` without letters of scripts ``source`` does not use; when ``text`` is
    ``limit`` characters long (the cap stopped it), without its last, cut word."""
    known = _scripts(source)
    kept = "".join(c for c in text if not c.isalpha() or _script(c) in known)
    at_cap = limit is not None and len(text) >= limit
    mid_word = not text[-1:].isspace() and not text.endswith(_ENDS)
    if at_cap and mid_word and kept.strip():
        kept = kept.rsplit(maxsplit=1)[0]  # one word alone stays: nothing comes before it
    return " ".join(kept.split())
