"""Batch runs: one task over many documents, resumable, one JSONL line per document."""

from newsqa.batch.run import (
    BatchItem,
    BatchReport,
    BatchRun,
    completed_keys,
    job_key,
    run_batch,
)

__all__ = ["BatchItem", "BatchReport", "BatchRun", "completed_keys", "job_key", "run_batch"]
