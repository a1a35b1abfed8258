"""Speed of the embedded model path (prints figures; not a test).

1. Seed summary + stances end to end through newsqa (openai SDK -> WSGI ->
   llama.cpp), wall time and tokens, against raw llama-cpp-python running the very
   same requests (same messages, grammar and token caps) -> overhead ratio; and
   the same requests with llama-cpp-python's own grammar sampler (the stock
   ``Llama`` class) -> what the checked greedy sampler saves.
2. Five questions on the seed vs one question -> ratio (the document is processed
   once: later questions reuse its prefix).
3. Stances on the dev article with the most gold countries (dev-03, five), when
   ../shared/eval/dev is present.
4. RealTime QA dev multiple-choice questions over their own articles (the quality
   benchmark's seeded sample): seconds per question and accuracy.

No response cache: every figure is a real model run. Usage:
    python -m benchmarks.embedded_speed [--threads N] [--qa N]
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from pathlib import Path
from typing import Any

import httpx2
from llama_cpp import Llama

import newsqa
from benchmarks.quality import data
from newsqa.config import Settings
from newsqa.llm import local
from newsqa.llm.client import LLMClient
from newsqa.llm.local import embedded_http_client, llama_arguments

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
    parser.add_argument("--qa", type=int, default=8, help="RealTime QA questions (0: skip)")
    args = parser.parse_args()
    settings = Settings(n_threads=args.threads)
    doc = newsqa.load_document(SEED)

    t = time.perf_counter()
    llama = local.EmbeddedModel(settings)._llama()
    load_s = time.perf_counter() - t

    bodies: list[dict[str, Any]] = []
    client = _recording_client(settings, bodies)

    def seed_report() -> tuple[float, newsqa.Usage, newsqa.StanceReport]:
        llama.reset()
        t = time.perf_counter()
        summary = newsqa.summarize(doc, client=client)
        report = newsqa.analyze_stances(doc, client=client)
        return time.perf_counter() - t, summary.usage + report.usage, report

    def raw_run(requests: list[dict[str, Any]]) -> tuple[float, int]:
        llama.reset()
        tokens = 0
        t = time.perf_counter()
        for body in requests:
            out = llama.create_chat_completion(**llama_arguments(body))
            tokens += out["usage"]["completion_tokens"]  # type: ignore[index]
        return time.perf_counter() - t, tokens

    # Record the requests (this run also warms the machine up), then time the raw
    # run of the very same requests, newsqa again, and llama-cpp-python's own
    # sampler (grammar over the whole vocabulary at every token) last.
    seed_report()
    recorded = list(bodies)
    raw_s, raw_tokens = raw_run(recorded)
    ours_s, usage, report = seed_report()
    checked = type(llama)
    llama.__class__ = Llama
    stock_s, _ = raw_run(recorded)
    llama.__class__ = checked

    timings = {}
    answers: list[newsqa.Answer] = []
    for n in (1, 5):
        llama.reset()
        t = time.perf_counter()
        answers = [newsqa.ask(doc, q, client=client) for q in QUESTIONS[:n]]
        timings[n] = time.perf_counter() - t
    results: dict[str, Any] = {
        "model_load_s": round(load_s, 1),
        "summary_plus_stances_s": round(ours_s, 1),
        "calls": usage.calls,
        "prompt_tokens": usage.prompt_tokens,
        "completion_tokens": usage.completion_tokens,
        "raw_llama_cpp_same_requests_s": round(raw_s, 1),
        "raw_completion_tokens": raw_tokens,
        "overhead_ratio": round(ours_s / raw_s, 3),
        "raw_stock_sampler_same_requests_s": round(stock_s, 1),
        "one_question_s": round(timings[1], 1),
        "five_questions_s": round(timings[5], 1),
        "five_vs_one_ratio": round(timings[5] / timings[1], 2),
        "answers": [(a.question, a.answer) for a in answers],
        "stances": [(s.actor, s.label, s.position) for s in report.stances],
    }
    if data.DEV.is_dir():
        article = next(i for i in data.country_stances() if i.id == "dev-03")
        llama.reset()
        t = time.perf_counter()
        dev = newsqa.analyze_stances(article.article, article.topic, client=client)
        results["dev03_stances_s"] = round(time.perf_counter() - t, 1)
        results["dev03_calls"] = dev.usage.calls
        results["dev03_stances"] = [(s.actor, s.label) for s in dev.stances]
        seconds, right = [], []
        for item in data.realtimeqa(args.qa) if args.qa else []:
            llama.reset()
            t = time.perf_counter()
            answer = newsqa.ask(item.docs, item.question, choices=item.choices, client=client)
            seconds.append(time.perf_counter() - t)
            right.append(answer.choice in item.gold)
        if seconds:
            results["realtimeqa_n"] = len(seconds)
            results["realtimeqa_s_per_question"] = round(statistics.mean(seconds), 1)
            results["realtimeqa_max_s"] = round(max(seconds), 1)
            results["realtimeqa_accuracy"] = f"{sum(right)}/{len(right)}"
    out_dir = Path(__file__).resolve().parent / "results"
    out_dir.mkdir(exist_ok=True)
    (out_dir / "embedded_speed.json").write_text(json.dumps(results, indent=2))
    for key, value in results.items():
        print(f"{key:32} {value}")
    client.close()


if __name__ == "__main__":
    main()
