"""newsqa: grounded summaries, stances and cited answers from news articles.

Quick start::

    import newsqa

    doc = newsqa.load_document("seeds/000_c21f091162a05fc4.txt")
    client = newsqa.connect()  # OPENAI_API_KEY, or OPENAI_BASE_URL + NEWSQA_MODEL, or embedded
    report = newsqa.analyze_stances(doc, client=client)
    for stance in report.stances:
        print(stance.actor, stance.label, stance.evidence[0].text)

    # many documents, resumable, one JSONL line each as it finishes
    newsqa.batch("articles/", "summarize", "summaries.jsonl", client=client)
"""

from newsqa import notebook as _notebook  # noqa: F401  (registers every result's HTML renderer)
from newsqa.api import (
    DEFAULT_TOPIC,
    DocumentLike,
    aanalyze_stances,
    aask,
    abatch,
    acheck_claim,
    aextract,
    analyze_stances,
    ask,
    astance_toward,
    asummarize,
    batch,
    check_claim,
    connect,
    extract,
    stance_timeline,
    stance_toward,
    stances_toward,
    summarize,
)
from newsqa.batch.run import BatchItem, BatchReport, BatchRun
from newsqa.config import Settings
from newsqa.corpus import Corpus
from newsqa.documents import (
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
    RateLimitError,
    SchemaError,
)
from newsqa.llm.cache import ResponseCache
from newsqa.llm.client import LLMClient
from newsqa.retrieval import Hit, Retriever
from newsqa.safe_text import printable
from newsqa.schema_models import import_model, model_from_json_schema
from newsqa.types import (
    Answer,
    Chunk,
    Citation,
    ClaimCheck,
    CorpusEvidence,
    CorpusStance,
    CorpusStanceReport,
    Document,
    Evidence,
    Extraction,
    KeyPoint,
    Sentence,
    Stance,
    StanceChange,
    StanceReport,
    StanceTimeline,
    Summary,
    TargetStance,
    Usage,
)

__version__ = "0.1.0"

__all__ = [
    "DEFAULT_TOPIC",
    "ActorMention",
    "Answer",
    "BatchItem",
    "BatchReport",
    "BatchRun",
    "Chunk",
    "Citation",
    "ClaimCheck",
    "ConfigError",
    "Corpus",
    "CorpusEvidence",
    "CorpusStance",
    "CorpusStanceReport",
    "Document",
    "DocumentError",
    "DocumentLike",
    "Evidence",
    "Extraction",
    "Hit",
    "KeyPoint",
    "LLMClient",
    "LLMConnectionError",
    "LLMError",
    "LLMTimeoutError",
    "NewsQAError",
    "OutputValidationError",
    "PromptError",
    "ProviderError",
    "RateLimitError",
    "ResponseCache",
    "Retriever",
    "SchemaError",
    "Sentence",
    "Settings",
    "Stance",
    "StanceChange",
    "StanceReport",
    "StanceTimeline",
    "Summary",
    "TargetStance",
    "Usage",
    "__version__",
    "aanalyze_stances",
    "aask",
    "abatch",
    "acheck_claim",
    "aextract",
    "analyze_stances",
    "as_document",
    "ask",
    "astance_toward",
    "asummarize",
    "batch",
    "check_claim",
    "chunk_document",
    "connect",
    "count_inputs",
    "count_tokens",
    "document_from_text",
    "extract",
    "find_actors",
    "import_model",
    "iter_inputs",
    "load_document",
    "load_documents",
    "model_from_json_schema",
    "parse_date",
    "printable",
    "split_sentences",
    "stance_timeline",
    "stance_toward",
    "stances_toward",
    "summarize",
]
