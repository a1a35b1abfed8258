"""Model replies that tests script a loopback server with."""

from __future__ import annotations

SUMMARY = {
    "headline": "Kyiv says no",
    "summary": "Kyiv rejected the proposal.",
    "key_points": [{"point": "Kyiv rejected it.", "sentences": [1]}],
}
"""A summary reply citing sentence 1 of a one-sentence article on Kyiv."""
