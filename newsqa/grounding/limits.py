"""The guard on how many model calls one task may make for one document."""

from __future__ import annotations

from newsqa.errors import DocumentError

MAX_WINDOWS = 40
"""Most map-reduce calls one task may make before refusing a document as too large."""


def check_windows(count: int, what: str) -> None:
    """Refuse work that would need more than :data:`MAX_WINDOWS` model calls."""
    if count > MAX_WINDOWS:
        raise DocumentError(
            f"{what} is too long: it needs {count} model calls (limit {MAX_WINDOWS}); "
            "split it or raise the prompt budget (--context-tokens, Settings.context_tokens)",
            reason="too_large",
            source=what,
        )
