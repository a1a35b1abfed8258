"""Text shown on a terminal: escape sequences and control characters removed."""

from __future__ import annotations

from newsqa.safe_text import printable, redact


def test_printable_removes_escape_sequences_and_controls() -> None:
    hostile = "A\x1b[2J\x1b]0;pwned\x07B\x9b31mC\rD\u202eE\tF\nG\x00"
    assert printable(hostile) == "ABCDE\tF\nG"
    assert redact("key sk-abc123 at http://u:pw@h/v1", ["sk-abc123"]) == (
        "key [redacted] at http://[redacted]@h/v1"
    )
