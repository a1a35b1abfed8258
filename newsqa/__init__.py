"""newsqa: grounded summaries, stances and cited answers from news articles.

Quick start::

    import newsqa

    doc = newsqa.load_document("seeds/000_c21f091162a05fc4.txt")
    client = newsqa.connect()          # embedded model, or OPENAI_BASE_URL / OPENAI_API_KEY
    report = newsqa.analyze_stances(doc, client=client)
    for stance in report.stances:
        print(stance.actor, stance.label, stance.evidence[0].text)

    # many documents, resumable, one JSONL line each as it finishes
    newsqa.batch("articles/", "summarize", "summaries.jsonl", client=client)
"""

from newsqa.api import (
    DEFAULT_TOPIC,
    abatch,
    analyze_stances,
    ask,
    batch,
    check_claim,
    connect,
    stance_timeline,
    stance_toward,
    stances_toward,
    summarize,
)
from newsqa.config import Settings
from newsqa.corpus import Corpus
from newsqa.documents import (
    chunk_document,
    count_tokens,
    document_from_text,
    load_document,
    load_documents,
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
)
from newsqa.llm.client import LLMClient
from newsqa.tasks.batch import BatchItem, BatchReport, BatchRun
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
    "Evidence",
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
    "abatch",
    "analyze_stances",
    "ask",
    "batch",
    "check_claim",
    "chunk_document",
    "connect",
    "count_tokens",
    "document_from_text",
    "find_actors",
    "load_document",
    "load_documents",
    "split_sentences",
    "stance_timeline",
    "stance_toward",
    "stances_toward",
    "summarize",
]
