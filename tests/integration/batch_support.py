"""Which documents a batch output holds a current result for (resume, as the batch sees it)."""

from __future__ import annotations

from pathlib import Path

from newsqa.batch.run import completed_keys, job_key
from newsqa.documents import iter_inputs
from newsqa.tasks.stances import DEFAULT_TOPIC
from newsqa.types import Document


def done_ids(
    out: Path, inputs: Path, task: str, *, question: str | None = None, topic: str = DEFAULT_TOPIC
) -> set[str]:
    """Ids of the documents of ``inputs`` that a re-run would skip."""
    keys = completed_keys(out)
    return {
        doc.id
        for doc in iter_inputs(inputs)
        if isinstance(doc, Document) and job_key(doc, task, question=question, topic=topic) in keys
    }
