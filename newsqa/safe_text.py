"""Text from outside (model replies, server errors, documents) made safe to show.

:func:`printable` is for human output on a terminal: escape sequences and other
control characters are removed, so a reply cannot recolour, retitle or rewrite the
terminal. :func:`redact` is for error messages and logs: the API key and the
credentials of a URL (its user and password, a key in its query) are replaced, so a
server that echoes them does not put them on the screen or in a results file.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

__all__ = ["REDACTED", "printable", "redact"]

REDACTED = "[redacted]"
_ESCAPE = re.compile(
    r"""\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)?  # OSC (title, hyperlink), to BEL or ST
    |\x1b[P^_X][^\x1b]*(?:\x1b\\)?          # DCS, PM, APC, SOS strings
    |(?:\x1b\[|\x9b)[0-?]*[ -/]*[@-~]?      # CSI (colours, cursor moves, erase)
    |\x1b[ -/]*[0-~]?                       # any other escape
    """,
    re.VERBOSE,
)
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")
_USERINFO = re.compile(r"(?i)\b([a-z][a-z0-9+.-]*://)[^/\s@]+@")
_QUERY_SECRET = re.compile(
    r"(?i)([?&](?:api[-_]?key|key|token|access[-_]token|sig|signature|password)=)[^&#\s'\"]+"
)


def printable(text: str) -> str:
    """``text`` without terminal escape sequences, control characters (newlines and
    tabs are kept) or bidirectional overrides."""
    return _CONTROL.sub("", _ESCAPE.sub("", text))


def redact(text: str, secrets: Iterable[str | None] = ()) -> str:
    """``text`` with every secret, the ``user:password@`` part of URLs and the values of
    their key-like query parameters (``?api-key=``, ``&token=``, ``&sig=``) replaced."""
    for secret in secrets:
        if secret and len(secret) >= 4:
            text = text.replace(secret, REDACTED)
    text = _QUERY_SECRET.sub(lambda m: f"{m.group(1)}{REDACTED}", text)
    return _USERINFO.sub(lambda m: f"{m.group(1)}{REDACTED}@", text)
