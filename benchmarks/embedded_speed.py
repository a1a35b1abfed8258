"""Speed of the embedded model path on the seed (prints figures; not a test).

1. summary + stances end to end through newsqa (openai SDK -> WSGI -> llama.cpp),
   wall time and tokens, against raw llama-cpp-python running the very same requests
   (same messages, grammar and token caps) -> overhead ratio.
2. five questions on the seed vs one question -> ratio (prefix reuse keeps it low).

Usage: python benchmarks/embedded_speed.py [--threads N]
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path
from typing import Any

import httpx2

import newsqa
from newsqa.config import Settings
from newsqa.llm import local
from newsqa.llm.client import LLMClient
from newsqa.llm.local import embedded_http_client

SEED = Path(__file__).resolve().parent.parent / "seeds" / "000_c21f091162a05fc4.txt"
QUESTIONS = [
    "How much military aid has the U.S. committed to Ukraine?",
    "Where did Putin speak on November 7?",
    "Who is the Kremlin spokesperson?",
    "What did Zelensky say in his message on X?",
    "What is the population of Sochi?",
]


def _recording_client(settings: Settings, bodies: list[dict[str, Any]]) -> LLMClient:
    http = embedded_http_client(settings)

    def keep(request: httpx2.Request) -> None:
        bodies.append(json.loads(request.read()))

    http.event_hooks["request"] = [keep]
    return LLMClient(settings, http_client=http)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--threads", type=int, default=None)
    args = parser.parse_args()
    settings = Settings(n_threads=args.threads)
    doc = newsqa.load_document(SEED)

    t = time.perf_counter()
    model = local.EmbeddedModel(settings)
    llama = model._llama()
    load_s = time.perf_counter() - t

    bodies: list[dict[str, Any]] = []
    client = _recording_client(settings, bodies)
    llama.reset()
    t = time.perf_counter()
    summary = newsqa.summarize(doc, client=client)
    report = newsqa.analyze_stances(doc, client=client)
    ours_s = time.perf_counter() - t
    usage = summary.usage + report.usage

    llama.reset()
    raw_tokens = 0
    t = time.perf_counter()
    for body in bodies:
        out = llama.create_chat_completion(
            messages=body["messages"],
            max_tokens=body["max_tokens"],
            temperature=body["temperature"],
            response_format=local._translate_response_format(body.get("response_format")),
        )
        raw_tokens += out["usage"]["completion_tokens"]  # type: ignore[index]
    raw_s = time.perf_counter() - t

    timings = {}
    for n in (1, 5):
        llama.reset()
        t = time.perf_counter()
        answers = [newsqa.ask(doc, q, client=client) for q in QUESTIONS[:n]]
        timings[n] = time.perf_counter() - t
    results = {
        "model_load_s": round(load_s, 1),
        "summary_plus_stances_s": round(ours_s, 1),
        "calls": usage.calls,
        "prompt_tokens": usage.prompt_tokens,
        "completion_tokens": usage.completion_tokens,
        "raw_llama_cpp_same_requests_s": round(raw_s, 1),
        "raw_completion_tokens": raw_tokens,
        "overhead_ratio": round(ours_s / raw_s, 3),
        "one_question_s": round(timings[1], 1),
        "five_questions_s": round(timings[5], 1),
        "five_vs_one_ratio": round(timings[5] / timings[1], 2),
        "answers": [(a.question, a.answer) for a in answers],
        "stances": [(s.actor, s.label) for s in report.stances],
    }
    out_dir = Path(__file__).resolve().parent / "results"
    out_dir.mkdir(exist_ok=True)
    (out_dir / "embedded_speed.json").write_text(json.dumps(results, indent=2))
    for key, value in results.items():
        print(f"{key:32} {value}")


if __name__ == "__main__":
    main()
