"""Which documents a batch output holds a current result for (resume, as the batch sees it)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from newsqa.batch.run import completed_keys, job_key, result_key
from newsqa.documents import iter_inputs
from newsqa.llm.client import LLMClient
from newsqa.tasks.base import Task
from newsqa.types import Document


def done_ids(
    out: Path, inputs: Path, task: Task[Any], client: LLMClient | None = None
) -> set[str]:
    """Ids of the documents of ``inputs`` that a re-run with ``client`` would skip."""
    keys = completed_keys(out)
    return {
        doc.id
        for doc in iter_inputs(inputs)
        if isinstance(doc, Document)
        and (result_key(doc, task, client) in keys or job_key(doc, task) in keys)
    }
