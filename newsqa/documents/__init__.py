"""Documents layer: loading, sentence segmentation and chunking (no LLM here)."""

from newsqa.documents.chunking import chunk_document, count_tokens
from newsqa.documents.load import (
    Inputs,
    as_document,
    check_inputs,
    count_inputs,
    document_from_text,
    iter_inputs,
    load_document,
    load_documents,
    parse_date,
)
from newsqa.documents.sentences import split_sentences

__all__ = [
    "Inputs",
    "as_document",
    "check_inputs",
    "chunk_document",
    "count_inputs",
    "count_tokens",
    "document_from_text",
    "iter_inputs",
    "load_document",
    "load_documents",
    "parse_date",
    "split_sentences",
]
