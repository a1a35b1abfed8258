"""Fill your own Pydantic model from an article, every value tied to its sentences.

    python examples/peace_talks.py [ARTICLE]      # default: the seed article

The same model serves the CLI: ``newsqa extract ARTICLE --schema
examples.peace_talks:PeaceTalksFacts`` (run from the repository root), or as a JSON
Schema file: ``--schema examples/peace_talks.schema.json``.
"""

from __future__ import annotations

import sys

from pydantic import BaseModel, Field

import newsqa


class PeaceTalksFacts(BaseModel):
    """Facts about peace talks on the war in Ukraine, as one article states them."""

    military_aid_billions: float | None = Field(
        None, description="U.S. military aid committed to Ukraine, in billions of dollars"
    )
    aid_since_year: int | None = Field(None, description="Year since which that aid was committed")
    speakers: list[str] | None = Field(None, description="Names of the people quoted")
    claimed_deadline: str | None = Field(
        None, description="How quickly Trump claimed he could resolve the Ukraine conflict"
    )


def main(path: str = "seeds/000_c21f091162a05fc4.txt") -> None:
    with newsqa.connect() as client:
        facts = newsqa.extract(path, PeaceTalksFacts, client=client)
    print(facts.value)
    for row in facts.records():
        cited = ", ".join(
            f"[{e.sentence_id}] {e.start}-{e.end}" for e in facts.evidence.get(row["field"], [])
        )
        print(f"{row['field']}: {row['value']!r}  {cited or 'not stated'}")
    print(facts.usage)


if __name__ == "__main__":
    main(*sys.argv[1:2])
