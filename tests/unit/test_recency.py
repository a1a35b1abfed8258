"""Questions about "this week" or "today", asked on a date: old articles cannot answer them."""

from __future__ import annotations

import datetime as dt

import pytest

from newsqa import document_from_text
from newsqa.grounding import Passage
from newsqa.tasks.recency import timely, untimed, window_days
from newsqa.types import Document

ASKED = dt.date(2024, 6, 14)


@pytest.mark.parametrize(
    ("question", "days"),
    [
        ("Which state was drenched by flooding this week?", 14),
        ("What did the court rule last weekend?", 14),
        ("Who resigned today?", 3),
        ("What did Kyiv say yesterday?", 3),
        ("Which company grew most this month?", 45),
        ("Who won the most medals this year?", 400),
        ("Who spoke tonight?", 3),
        ("Which talks collapsed over the past week?", 14),
        ("What did Paris announce last month?", 45),
        ("Which leader travelled most in the past year?", 400),
        ("WHO RESIGNED TODAY?", 3),  # any case
        ("Who resigned today after a vote this week?", 3),  # the narrowest window
        ("What is the capital of Ukraine?", None),
        ("Which weekly magazine broke the story?", None),  # "weekly" is no time asked
        ("What happened in the week of the vote?", None),
        # the news of the day: words of the present and the latest, a year's window
        ("Which country recently launched a mission to the moon?", 400),
        ("Who did Macron appoint as France's next prime minister?", 400),
        ("What new technology do prisoners in Delaware get?", 400),
        ("What is the latest figure on inflation?", 400),
        ("Which party is currently ahead in the polls?", 400),
        ("Who is the current prime minister?", 400),
        ("Who leads the party now?", 400),
        ("Where is the upcoming summit?", 400),
        ("Who spoke at the recent summit?", 400),
        ("Which new law passed this week?", 14),  # the narrowest window
        ("Which team plays in New York?", None),  # a name, not a time
        ("What did the New Democrats propose?", None),
        ("What did Paris announce over the past month?", 45),
        ("Who won the title last year?", 400),
        ("What did the last weekly report show?", None),  # "weekly" after "last": no time
        ("Recently, which country launched a mission to the moon?", 400),  # capitalised
        ("Latest figures put inflation at what rate?", 400),
        ("Currently, which party leads the polls?", 400),
        ("What do we know about the fire?", None),  # "know" holds "now"
        ("Which newspaper broke the story?", None),  # "newspaper" starts with "new"
        ("What was the currency of Rome?", None),  # a word that starts alike
    ],
)
def test_the_time_a_question_names(question: str, days: int | None) -> None:
    assert window_days(question) == days


@pytest.mark.parametrize(
    ("question", "topic"),
    [
        (
            "Which state was drenched by flooding this week?",
            "Which state was drenched by flooding ?",
        ),
        ("Who resigned today after the vote last month?", "Who resigned after the vote ?"),
        ("What happened YESTERDAY in Kyiv?", "What happened in Kyiv?"),
        ("Who won the race this year?", "Who won the race ?"),
        ("What did the court rule last weekend?", "What did the court rule ?"),
        ("Who recently joined the new alliance?", "Who recently joined the new alliance?"),  # kept
        ("Which weekly magazine broke the story?", "Which weekly magazine broke the story?"),
        ("Which talks collapsed over the past week?", "Which talks collapsed over the ?"),
        ("Who spoke tonight?", "Who spoke ?"),
        ("Which bill passed this  week?", "Which bill passed ?"),  # any spaces between
        # a time word inside another word is kept: "outlast week-long" is no "last week"
        (
            "Which army could outlast week-long shelling?",
            "Which army could outlast week-long shelling?",
        ),
    ],
)
def test_the_question_without_its_time(question: str, topic: str) -> None:
    assert untimed(question) == topic


def _dated(date: dt.date | None, name: str) -> Document:
    return document_from_text("The senate passed the budget bill.", id=name, date=date)


@pytest.mark.parametrize(
    ("dates", "as_of", "kept"),
    [
        ([dt.date(2024, 6, 10)], ASKED, True),
        ([ASKED], ASKED, True),  # the same day
        ([ASKED - dt.timedelta(days=14)], ASKED, True),  # the window's last day
        ([ASKED - dt.timedelta(days=15)], ASKED, False),
        ([dt.date(2022, 3, 1)], ASKED, False),
        ([ASKED + dt.timedelta(days=1)], ASKED, False),  # written after the question
        ([dt.date(2022, 3, 1), dt.date(2024, 6, 12)], ASKED, True),  # one recent is enough
        ([None], ASKED, True),  # undated: cannot tell, so it counts
        ([dt.date(2022, 3, 1)], None, True),  # no date asked: no check
        ([dt.date(2024, 6, 10)], dt.datetime(2024, 6, 14, 18, 30), True),  # a datetime too
        ([dt.date(2022, 3, 1)], dt.datetime(2024, 6, 14, 18, 30), False),
    ],
)
def test_a_cited_document_must_be_dated_inside_the_window(
    dates: list[dt.date | None], as_of: dt.date | None, kept: bool
) -> None:
    passage = Passage.of([_dated(d, f"d{i}") for i, d in enumerate(dates)])
    units = list(passage.units)
    assert timely(units, "Which bill passed this week?", as_of) is kept
    assert timely(units, "Which bill passed?", as_of) is True  # no time words








