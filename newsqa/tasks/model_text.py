"""Free text the model writes (positions, headlines, summaries, answers), cleaned one way
for every task.

A length cap in the schema is enforced by the grammar: when a small model runs into it
mid-word, the only tokens that still fit are one-character ones, and Qwen's vocabulary
offers CJK characters there ("… the humanitarian impact of Russia's入侵"). So letters
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
    cut = limit is not None and len(text) >= limit and not text.rstrip().endswith(_ENDS)
    if cut and " " in kept.strip():
        kept = kept.rstrip().rsplit(" ", 1)[0]
    return " ".join(kept.split())
