"""Quick start: a cited answer from the seed article.

Run: python examples/quickstart.py   (OPENAI_API_KEY, or OPENAI_BASE_URL + NEWSQA_MODEL;
otherwise the embedded model)
"""

from __future__ import annotations

from pathlib import Path

import newsqa

SEED = Path(__file__).resolve().parent.parent / "seeds" / "000_c21f091162a05fc4.txt"


def main() -> newsqa.Answer:
    doc = newsqa.load_document(SEED)
    client = newsqa.connect()  # embedded model unless an endpoint is configured
    answer = newsqa.ask(
        doc, "How much military aid has the U.S. committed to Ukraine?", client=client
    )
    print(answer.answer)
    for citation in answer.citations:
        # every citation is the exact source text at its offsets
        assert doc.text[citation.start : citation.end] == citation.text
        print(f"  [{citation.doc} {citation.start}-{citation.end}] {citation.text}")
    print(f"({answer.usage.calls} call, {answer.usage.total_tokens} tokens)")
    return answer


if __name__ == "__main__":
    main()
