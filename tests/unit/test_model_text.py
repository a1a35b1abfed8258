"""Model-written text cleaned one way: letters of scripts the source never uses are
dropped, and a text stopped by its length cap loses the word it was cut in."""

from __future__ import annotations

import pytest

from newsqa.grounding.model_text import cleaned

ENGLISH = "Russia invaded Ukraine. Talks stalled."


@pytest.mark.parametrize(
    ("text", "source", "limit", "expected"),
    [
        ("the impact of Russia's入侵", ENGLISH, None, "the impact of Russia's"),
        ("Kyiv backs talks", ENGLISH, None, "Kyiv backs talks"),  # under no cap: whole
        ("Kyiv backs talks", ENGLISH, 16, "Kyiv backs"),  # at the cap: the last word was cut
        ("Kyiv backs talks", ENGLISH, 17, "Kyiv backs talks"),  # below the cap
        ("Kyiv backs talks.", ENGLISH, 17, "Kyiv backs talks."),  # ended at the cap
        ("Kyiv backs the war-t残", ENGLISH, 20, "Kyiv backs the"),
        ("Киев согласился", "Киев отказался. Kyiv said no.", None, "Киев согласился"),
        ("Kyiv said 和平", "Kyiv said 和平 on Monday.", None, "Kyiv said 和平"),
        ("Kyiv  said   no", ENGLISH, None, "Kyiv said no"),  # spaces left by a drop fold
        ("Kyiv 2024年 said", ENGLISH, None, "Kyiv 2024 said"),  # digits are not letters
        ("word", ENGLISH, 4, "word"),  # one word at the cap: nothing before it to keep
        ("Kyiv backs talks. ", ENGLISH, 18, "Kyiv backs talks."),  # ended, then a space
        ("Kyiv backs talks ", ENGLISH, 17, "Kyiv backs talks"),  # the word was whole
        ("Kyiv backs\ttalks", ENGLISH, 16, "Kyiv backs"),  # any space ends a word
        ("", ENGLISH, 0, ""),
        ("Kyiv backs", ENGLISH, 10, "Kyiv"),
        ("残", ENGLISH, 1, ""),  # nothing left to cut
    ],
)
def test_cleaned(text: str, source: str, limit: int | None, expected: str) -> None:
    assert cleaned(text, source, limit=limit) == expected






