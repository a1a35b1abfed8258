"""Batch runs: one task over many documents, resumable, one JSONL line per document."""

from newsqa.batch.run import (
    BatchItem,
    BatchReport,
    BatchRun,
    check_job,
    completed_keys,
    job_key,
    run_batch,
    schema_text,
)

__all__ = [
    "BatchItem",
    "BatchReport",
    "BatchRun",
    "check_job",
    "completed_keys",
    "job_key",
    "run_batch",
    "schema_text",
]
