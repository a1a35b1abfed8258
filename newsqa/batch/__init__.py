"""Batch runs: one task over many documents, resumable, one JSONL line per document."""

from newsqa.batch.results import BatchResults, compact_results, read_results
from newsqa.batch.run import (
    BatchItem,
    BatchReport,
    BatchRun,
    completed_keys,
    input_id,
    job_key,
    run_batch,
)

__all__ = [
    "BatchItem",
    "BatchReport",
    "BatchResults",
    "BatchRun",
    "compact_results",
    "completed_keys",
    "input_id",
    "job_key",
    "read_results",
    "run_batch",
]
