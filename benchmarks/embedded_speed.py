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
5. Speculative decoding (``--runs N`` pairs, also alone with ``--only-speculation``):
   the seed report with drafting off and on (``NEWSQA_SPECULATE``), the order
   alternating, checked to be identical; the drafted and accepted tokens; the naive
   one-prompt stance run on the seed (free text, so never drafted) for scale; what
   checking a draft costs; and the floor: the prompts' evaluation plus one decoding
   step per token not drafted right; how far logits computed in a batch are from
   those of tokens evaluated one at a time. Then drafting off and on for dev-03's stances and
   the seed's five questions (one pair each).

6. ``--only-identity``: how far batched logits are from one-token ones with llama.cpp's
   switches changed (one thread, weights not repacked, flash attention), each a fresh
   load of the model.

No response cache: every figure is a real model run. Usage:
    python -m benchmarks.embedded_speed [--threads N] [--qa N] [--runs N]
        [--only-speculation] [--only-identity]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import time
from pathlib import Path
from typing import Any

import httpx2
import numpy as np
from llama_cpp import Llama

import newsqa
from benchmarks.quality import baseline, data
from newsqa.config import DEFAULT_TOPIC, Settings
from newsqa.llm import local
from newsqa.llm.checked_greedy import CheckedLlama
from newsqa.llm.client import LLMClient
from newsqa.llm.local import embedded_http_client, llama_arguments
from newsqa.llm.model_files import ensure_model
from newsqa.llm.prompt_lookup import DecodeStats

SEED = Path(__file__).resolve().parent.parent / "seeds" / "000_c21f091162a05fc4.txt"
QUESTIONS = [
    "How much military aid has the U.S. committed to Ukraine?",
    "Where did Putin speak on November 7?",
    "Who is the Kremlin spokesperson?",
    "What did Zelensky say in his message on X?",
    "What is the population of Sochi?",
]


def _recording_client(
    settings: Settings,
    bodies: list[dict[str, Any]],
    llama: CheckedLlama,
    answered: list[DecodeStats],
) -> LLMClient:
    """A client that keeps each request body, and the model's counters after each reply."""
    http = embedded_http_client(settings)

    def keep(request: httpx2.Request) -> None:
        bodies.append(json.loads(request.read()))

    def count(response: httpx2.Response) -> None:
        answered.append(llama.last)

    http.event_hooks["request"] = [keep]
    http.event_hooks["response"] = [count]
    return LLMClient(settings, http_client=http)


def _seed_report(
    llama: CheckedLlama, client: LLMClient, doc: newsqa.Document
) -> tuple[float, newsqa.Usage, newsqa.Summary, newsqa.StanceReport]:
    llama.reset()
    t = time.perf_counter()
    summary = newsqa.summarize(doc, client=client)
    report = newsqa.analyze_stances(doc, client=client)
    return time.perf_counter() - t, summary.usage + report.usage, summary, report


def batch_costs(llama: CheckedLlama, doc: newsqa.Document, reps: int = 5) -> dict[str, float]:
    """What checking a draft costs: seconds to evaluate the last token with ``k`` drafted
    after it, over one evaluating the token alone (median of ``reps``, sizes interleaved)."""
    tokens = llama.tokenize(doc.text.encode())[:420]
    llama.reset()
    llama.eval(tokens[:400])
    sizes = (1, 2, 4, 5, 7)
    times: dict[int, list[float]] = {n: [] for n in sizes}
    for _ in range(reps):
        for n in sizes:
            llama.n_tokens = 400
            t = time.perf_counter()
            if n == 1:
                llama.eval(tokens[400:401])
            else:
                llama._check_draft(tokens[400 : 400 + n])
            times[n].append(time.perf_counter() - t)
    one = statistics.median(times[1])
    costs = {"one_token_s": round(one, 4)}
    costs.update(
        {f"batch_{n}_vs_one": round(statistics.median(times[n]) / one, 2) for n in sizes[1:]}
    )
    llama.reset()
    return costs


def speculation(
    llama: CheckedLlama,
    client: LLMClient,
    doc: newsqa.Document,
    runs: int,
    answered: list[DecodeStats],
) -> dict[str, Any]:
    """The seed report with drafting off and on, ``runs`` pairs (order alternating), and
    the naive one-prompt stance run once per pair; figures are medians over the runs."""
    seconds: dict[str, list[float]] = {"off": [], "on": [], "naive": []}
    stats: dict[str, DecodeStats] = {"off": DecodeStats(), "on": DecodeStats()}
    outputs: dict[str, list[Any]] = {"off": [], "on": []}
    requests: list[DecodeStats] = []
    for run in range(runs):
        for mode in ("off", "on") if run % 2 == 0 else ("on", "off"):
            os.environ["NEWSQA_SPECULATE"] = "1" if mode == "on" else "0"
            before, first = llama.stats, len(answered)
            took, _, summary, report = _seed_report(llama, client, doc)
            seconds[mode].append(took)
            stats[mode] += llama.stats - before
            outputs[mode].append((summary.model_dump(), report.model_dump()))
            if mode == "on" and run == 0:
                requests = answered[first:]
        llama.reset()
        t = time.perf_counter()
        baseline.stances(client, doc, DEFAULT_TOPIC, client.settings.context_tokens)
        seconds["naive"].append(time.perf_counter() - t)
    os.environ.pop("NEWSQA_SPECULATE")
    off, on = stats["off"], stats["on"]
    decode_per_token = (off.seconds - off.prompt_seconds) / off.generated
    # each reply's first token comes with its prompt; every other token not drafted
    # right costs at least one decoding step
    floor = (on.prompt_seconds + (on.steps - on.requests) * decode_per_token) / runs
    naive = statistics.median(seconds["naive"])
    return {
        "speculation_runs": runs,
        "seed_report_off_s": [round(x, 1) for x in seconds["off"]],
        "seed_report_on_s": [round(x, 1) for x in seconds["on"]],
        "naive_stances_s": [round(x, 1) for x in seconds["naive"]],
        "identical_off_on": all(o == outputs["off"][0] for o in outputs["off"] + outputs["on"]),
        "on_vs_off": round(statistics.median(seconds["on"]) / statistics.median(seconds["off"]), 3),
        "off_vs_naive": round(statistics.median(seconds["off"]) / naive, 2),
        "on_vs_naive": round(statistics.median(seconds["on"]) / naive, 2),
        "per_report_tokens_generated": on.generated // runs,
        "per_report_drafted": on.drafted // runs,
        "per_report_accepted": on.accepted // runs,
        "acceptance": round(on.accepted / max(on.drafted, 1), 3),
        "share_of_tokens_drafted_right": round(on.accepted / max(on.generated, 1), 3),
        "per_report_prompt_tokens_evaluated": on.prompt_tokens // runs,
        "per_report_prompt_s": round(on.prompt_seconds / runs, 1),
        "per_report_model_s_off": round(off.seconds / runs, 1),
        "per_report_model_s_on": round(on.seconds / runs, 1),
        "decode_s_per_token_off": round(decode_per_token, 4),
        "floor_s": round(floor, 1),
        "floor_vs_naive": round(floor / naive, 2),
        "requests_on_first_run": [
            f"{r.prompt_tokens} prompt tokens {r.prompt_seconds:.1f} s, {r.generated} generated "
            f"({r.accepted} of {r.drafted} drafted) {r.seconds:.1f} s"
            for r in requests
        ],
    }


def batch_vs_single(llama: CheckedLlama, doc: newsqa.Document, n: int = 8) -> dict[str, Any]:
    """How far the logits of tokens evaluated in one batch (as a draft is checked) are
    from those of the same tokens evaluated one at a time (as greedy decoding does),
    after the same prompt (the seed's first 400 tokens): the largest difference over the
    vocabulary at each of ``n`` positions, and at the token evaluated alone after them
    (which reads the KV cache the batch left)."""
    import llama_cpp

    tokens = llama.tokenize(doc.text.encode())[: 401 + n]
    prompt, cont = tokens[:400], tokens[400:]

    def logits(idx: int = -1) -> Any:
        ctx = llama._ctx.ctx
        return np.ctypeslib.as_array(
            llama_cpp.llama_get_logits_ith(ctx, idx), shape=(llama.n_vocab(),)
        ).copy()

    llama.reset()
    llama.eval(prompt)
    alone = []
    for token in cont:
        llama.eval([token])
        alone.append(logits())
    llama.n_tokens = 400
    llama._check_draft(cont[:n])
    batched = [logits(i) for i in range(n)]
    llama.eval(cont[n : n + 1])
    after = logits()
    llama.reset()
    return {
        "batch_vs_alone_max_logit_diff": [
            round(float(np.abs(b - a).max()), 3) for b, a in zip(batched, alone, strict=False)
        ],
        "after_batch_vs_after_alone_max_logit_diff": round(
            float(np.abs(after - alone[n]).max()), 3
        ),
    }


def speculation_elsewhere(
    llama: CheckedLlama, client: LLMClient, doc: newsqa.Document
) -> dict[str, Any]:
    """Drafting off and on (one pair each, off first) for the stances of the dev article
    with the most gold countries (dev-03, when ../shared/eval/dev is present) and for
    the seed's five questions: seconds, the ratio, drafted and kept tokens, and whether
    the results are the same."""
    jobs: dict[str, Any] = {
        "five_questions": lambda: [
            newsqa.ask(doc, q, client=client).model_dump() for q in QUESTIONS
        ]
    }
    if data.DEV.is_dir():
        article = next(i for i in data.country_stances() if i.id == "dev-03")
        jobs["dev03_stances"] = lambda: newsqa.analyze_stances(
            article.article, article.topic, client=client
        ).model_dump(exclude={"usage"})
    results: dict[str, Any] = {}
    for name, job in jobs.items():
        seconds, outputs, stats = {}, {}, {}
        for mode in ("off", "on"):
            os.environ["NEWSQA_SPECULATE"] = "1" if mode == "on" else "0"
            llama.reset()
            before = llama.stats
            t = time.perf_counter()
            outputs[mode] = job()
            seconds[mode] = time.perf_counter() - t
            stats[mode] = llama.stats - before
        os.environ.pop("NEWSQA_SPECULATE")
        on = stats["on"]
        results[name] = {
            "off_s": round(seconds["off"], 1),
            "on_s": round(seconds["on"], 1),
            "on_vs_off": round(seconds["on"] / seconds["off"], 3),
            "generated": on.generated,
            "drafted": on.drafted,
            "accepted": on.accepted,
            "identical": outputs["off"] == outputs["on"],
        }
    return results


IDENTITY_VARIANTS: dict[str, dict[str, Any]] = {
    "as shipped": {},
    "one thread": {"n_threads": 1, "n_threads_batch": 1},
    "weights not repacked": {"use_extra_bufts": False},
    "flash attention": {"flash_attn": True},
}
"""llama.cpp switches that might make a batch's logits those of one token at a time
(``use_extra_bufts`` is a model parameter the ``Llama`` class does not take)."""


def identity_variants(doc: newsqa.Document, path: Path, n_ctx: int) -> dict[str, Any]:
    """:func:`batch_vs_single` under each of :data:`IDENTITY_VARIANTS`."""
    from llama_cpp import llama_cpp  # the module ``Llama`` reads its defaults from

    defaults = llama_cpp.llama_model_default_params
    results = {}
    for name, variant in IDENTITY_VARIANTS.items():
        kwargs = dict(variant)
        repack = kwargs.pop("use_extra_bufts", True)

        def params(repack: bool = repack) -> Any:
            made = defaults()
            made.use_extra_bufts = repack
            return made

        llama_cpp.llama_model_default_params = params
        try:
            llama = CheckedLlama(model_path=str(path), n_ctx=n_ctx, verbose=False, **kwargs)
        finally:
            llama_cpp.llama_model_default_params = defaults
        results[name] = batch_vs_single(llama, doc)
        llama.close()
    return results


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--threads", type=int, default=None)
    parser.add_argument("--qa", type=int, default=8, help="RealTime QA questions (0: skip)")
    parser.add_argument("--runs", type=int, default=2, help="speculation off/on pairs")
    parser.add_argument("--only-speculation", action="store_true")
    parser.add_argument("--only-identity", action="store_true")
    args = parser.parse_args()
    settings = Settings(n_threads=args.threads)
    doc = newsqa.load_document(SEED)
    if args.only_identity:
        path = settings.model_path or ensure_model(settings.cache_dir)
        for name, found in identity_variants(doc, path, settings.n_ctx).items():
            print(f"{name:22} {json.dumps(found)}")
        return

    t = time.perf_counter()
    llama = local.EmbeddedModel(settings)._llama()
    assert isinstance(llama, CheckedLlama)
    load_s = time.perf_counter() - t

    bodies: list[dict[str, Any]] = []
    answered: list[DecodeStats] = []
    client = _recording_client(settings, bodies, llama, answered)

    def seed_report() -> tuple[float, newsqa.Usage, newsqa.StanceReport]:
        took, usage, _, report = _seed_report(llama, client, doc)
        return took, usage, report

    out_dir = Path(__file__).resolve().parent / "results"
    out_dir.mkdir(exist_ok=True)
    if args.only_speculation:
        seed_report()  # warm-up
        results = {
            "model_load_s": round(load_s, 1),
            **batch_costs(llama, doc),
            **batch_vs_single(llama, doc),
            **speculation(llama, client, doc, args.runs, answered),
            **speculation_elsewhere(llama, client, doc),
        }
        (out_dir / "embedded_speed_speculation.json").write_text(json.dumps(results, indent=2))
        for key, value in results.items():
            print(f"{key:36} {value}")
        client.close()
        return

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
    if args.runs:
        results.update(batch_costs(llama, doc))
        results.update(batch_vs_single(llama, doc))
        results.update(speculation(llama, client, doc, args.runs, answered))
        results.update(speculation_elsewhere(llama, client, doc))
    (out_dir / "embedded_speed.json").write_text(json.dumps(results, indent=2))
    for key, value in results.items():
        print(f"{key:32} {value}")
    client.close()


if __name__ == "__main__":
    main()
