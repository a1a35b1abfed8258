"""newsqa: grounded summaries, stances and cited answers from news articles.

Quick start::

    import newsqa

    doc = newsqa.load_document("seeds/000_c21f091162a05fc4.txt")
    client = newsqa.connect()  # OPENAI_API_KEY, or OPENAI_BASE_URL + NEWSQA_MODEL, or embedded
    report = newsqa.analyze_stances(doc, client=client)
    for stance in report.stances:
        print(stance.actor, stance.label, stance.evidence[0].text)

    # many documents, resumable, one JSONL line each as it finishes
    newsqa.batch("articles/", newsqa.Summarize(), "summaries.jsonl", client=client)
"""

from __future__ import annotations

import importlib
import sys
from types import ModuleType
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # imported on first use (see __getattr__), so `newsqa --help` is quick
    from newsqa.api import (
        DocumentLike,
        aanalyze_stances,
        aask,
        abatch,
        acheck_claim,
        aextract,
        analyze_stances,
        arun,
        ask,
        astance_toward,
        asummarize,
        batch,
        cancel_provider_batch,
        check_claim,
        connect,
        extract,
        job_queue,
        provider_batch,
        run,
        stance_timeline,
        stance_toward,
        stances_toward,
        summarize,
        task,
    )
    from newsqa.batch import BatchResults, compact_results, read_results
    from newsqa.batch.provider import BATCH_PRICE, BatchStatus
    from newsqa.batch.queue import EnqueueReport, JobQueue, QueueStatus, WorkReport
    from newsqa.batch.rounds import BatchObserver, RoundsReport
    from newsqa.batch.run import BatchItem, BatchReport, BatchRun
    from newsqa.config import DEFAULT_TOPIC, Settings
    from newsqa.corpus import Corpus
    from newsqa.documents import (
        Inputs,
        as_document,
        chunk_document,
        count_inputs,
        count_tokens,
        document_from_text,
        iter_inputs,
        load_document,
        load_documents,
        parse_date,
        split_sentences,
    )
    from newsqa.documents.actors import ActorMention, find_actors
    from newsqa.errors import (
        ConfigError,
        DocumentError,
        LLMConnectionError,
        LLMError,
        LLMTimeoutError,
        NewsQAError,
        OutputValidationError,
        PromptError,
        ProviderError,
        QueueError,
        RateLimitError,
        SchemaError,
    )
    from newsqa.llm.cache import ResponseCache
    from newsqa.llm.client import LLMClient
    from newsqa.notebook import extraction_page
    from newsqa.retrieval import Hit, Retriever
    from newsqa.safe_text import printable
    from newsqa.schema_models import import_model, import_task, model_from_json_schema
    from newsqa.tasks.ask import Ask
    from newsqa.tasks.base import Task, register, registered, result_type
    from newsqa.tasks.claims import CheckClaim
    from newsqa.tasks.extract import Extract
    from newsqa.tasks.stances import Stances
    from newsqa.tasks.summarize import Summarize
    from newsqa.tasks.target_stance import StanceToward
    from newsqa.types import (
        SCHEMA_VERSION,
        Answer,
        Chunk,
        ClaimCheck,
        CorpusStanceReport,
        Document,
        Evidence,
        Extraction,
        KeyPoint,
        Period,
        Result,
        Sentence,
        Stance,
        StanceChange,
        StanceReport,
        StanceTimeline,
        Summary,
        TargetStance,
        Usage,
        ValueSpan,
    )


__version__ = "0.1.0"

__all__ = [
    "BATCH_PRICE",
    "DEFAULT_TOPIC",
    "SCHEMA_VERSION",
    "ActorMention",
    "Answer",
    "Ask",
    "BatchItem",
    "BatchObserver",
    "BatchReport",
    "BatchResults",
    "BatchRun",
    "BatchStatus",
    "CheckClaim",
    "Chunk",
    "ClaimCheck",
    "ConfigError",
    "Corpus",
    "CorpusStanceReport",
    "Document",
    "DocumentError",
    "DocumentLike",
    "EnqueueReport",
    "Evidence",
    "Extract",
    "Extraction",
    "Hit",
    "Inputs",
    "JobQueue",
    "KeyPoint",
    "LLMClient",
    "LLMConnectionError",
    "LLMError",
    "LLMTimeoutError",
    "NewsQAError",
    "OutputValidationError",
    "Period",
    "PromptError",
    "ProviderError",
    "QueueError",
    "QueueStatus",
    "RateLimitError",
    "ResponseCache",
    "Result",
    "Retriever",
    "RoundsReport",
    "SchemaError",
    "Sentence",
    "Settings",
    "Stance",
    "StanceChange",
    "StanceReport",
    "StanceTimeline",
    "StanceToward",
    "Stances",
    "Summarize",
    "Summary",
    "TargetStance",
    "Task",
    "Usage",
    "ValueSpan",
    "WorkReport",
    "__version__",
    "aanalyze_stances",
    "aask",
    "abatch",
    "acheck_claim",
    "aextract",
    "analyze_stances",
    "arun",
    "as_document",
    "ask",
    "astance_toward",
    "asummarize",
    "batch",
    "cancel_provider_batch",
    "check_claim",
    "chunk_document",
    "compact_results",
    "connect",
    "count_inputs",
    "count_tokens",
    "document_from_text",
    "extract",
    "extraction_page",
    "find_actors",
    "import_model",
    "import_task",
    "iter_inputs",
    "job_queue",
    "load_document",
    "load_documents",
    "model_from_json_schema",
    "parse_date",
    "printable",
    "provider_batch",
    "read_results",
    "register",
    "registered",
    "result_type",
    "run",
    "split_sentences",
    "stance_timeline",
    "stance_toward",
    "stances_toward",
    "summarize",
    "task",
]


def _origins() -> dict[str, str]:
    """Each public name → the module it comes from, read from the imports above (so
    they are the one list of what the package offers)."""
    import ast
    from pathlib import Path

    tree = ast.parse(Path(__file__).read_text(encoding="utf-8"))
    block = next(n for n in tree.body if isinstance(n, ast.If))
    return {
        alias.asname or alias.name: node.module or ""
        for node in block.body
        if isinstance(node, ast.ImportFrom)
        for alias in node.names
    }


_ORIGINS: dict[str, str] = {}


def __getattr__(name: str) -> Any:
    """Import a public name where it lives the first time it is used."""
    if name in ("Citation", "CorpusEvidence", "CorpusStance"):  # deprecated: warns on each use
        return getattr(importlib.import_module("newsqa.types"), name)
    if not _ORIGINS:
        _ORIGINS.update(_origins())
    if name not in _ORIGINS:
        raise AttributeError(f"module 'newsqa' has no attribute {name!r}")
    value = getattr(importlib.import_module(_ORIGINS[name]), name)
    if "newsqa.types" in sys.modules:  # results are about: each renders in Jupyter
        importlib.import_module("newsqa.notebook")
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})


class _Package(ModuleType):
    """The package, whose public names stay what it exports: importing the subpackage
    ``newsqa.batch`` does not rebind ``newsqa.batch``, the function (the subpackage is
    still imported, and found in ``sys.modules``)."""

    def __setattr__(self, name: str, value: Any) -> None:
        if isinstance(value, ModuleType) and name in __all__:
            return
        super().__setattr__(name, value)


sys.modules[__name__].__class__ = _Package
