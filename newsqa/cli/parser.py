"""The ``newsqa`` command line: its subcommands, options and their value checks."""

from __future__ import annotations

import argparse
import datetime as dt
import json
from typing import Any

import newsqa

__all__ = ["actors", "build_parser"]


def _positive(value: str) -> int:
    try:
        number = int(value)
    except ValueError as e:
        raise argparse.ArgumentTypeError(f"not a whole number: {value!r}") from e
    if number < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1: {number}")
    return number


def _date(value: str) -> dt.date:
    day = newsqa.parse_date(value)
    if day is None:
        raise argparse.ArgumentTypeError(
            f"not a full date (2024-11-08, 'November 8, 2024', RFC 2822): {value!r}"
        )
    return day


def _json_object(value: str) -> dict[str, Any]:
    try:
        found = json.loads(value)
    except json.JSONDecodeError as e:
        raise argparse.ArgumentTypeError(f"not JSON: {e}") from None
    if not isinstance(found, dict):
        raise argparse.ArgumentTypeError("a JSON object ({...}) is needed")
    return found


def _task_name(value: str) -> str:
    """A registered task's name, or a ``package.module:Class`` task (imported, registered)."""
    if ":" in value:
        try:
            return newsqa.import_task(value).name
        except newsqa.SchemaError as e:
            raise argparse.ArgumentTypeError(str(e)) from None
    if value not in newsqa.registered():
        known = ", ".join(newsqa.registered())
        raise argparse.ArgumentTypeError(f"unknown task {value!r} (known: {known})")
    return value


def _seconds(value: str) -> float:
    try:
        number = float(value)
    except ValueError as e:
        raise argparse.ArgumentTypeError(f"not a number of seconds: {value!r}") from e
    if not number > 0:
        raise argparse.ArgumentTypeError(f"must be more than 0: {value}")
    return number


def _add_queue(p: argparse.ArgumentParser, what: str, *, required: bool = False) -> None:
    """``--queue URL``: a PostgreSQL database holding the job queue."""
    p.add_argument("--queue", metavar="postgresql://…", required=required, help=what)


def _actor(value: str) -> tuple[str, list[str]]:
    """``--actor NAME`` or ``--actor NAME=ALIAS,ALIAS``: an actor and its other names."""
    name, _, aliases = value.partition("=")
    others = [a.strip() for a in aliases.split(",") if a.strip()]
    if not name.strip() or ("=" in value and not others):
        raise argparse.ArgumentTypeError(f"expected NAME or NAME=ALIAS,ALIAS: {value!r}")
    return name.strip(), others


def _add_actors(p: argparse.ArgumentParser) -> None:
    """``--actor`` (repeatable) and ``--max-actors``: who the stance commands ask about."""
    p.add_argument("--max-actors", type=_positive, default=5, help="default: %(default)s")
    p.add_argument(
        "--actor",
        type=_actor,
        action="append",
        metavar="NAME[=ALIAS,...]",
        help="an actor to ask about first, with the other names the text may use for it "
        "(repeatable; added to the built-in countries and organisations)",
    )


def actors(args: argparse.Namespace) -> dict[str, list[str]] | None:
    """The ``--actor`` options as ``actors=`` (name → its names, itself included)."""
    if not args.actor:
        return None
    return {name: [name, *aliases] for name, aliases in args.actor}


def _add_period(p: argparse.ArgumentParser) -> None:
    """``--since``/``--until``: a corpus command's dates (any full date a document takes)."""
    p.add_argument("--since", type=_date, help="only articles dated on/after this day")
    p.add_argument("--until", type=_date, help="only articles dated on/before this day")


def build_parser() -> argparse.ArgumentParser:
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--json", action="store_true", help="print the JSON contract")
    common.add_argument(
        "--usage",
        action="store_true",
        help='add the model calls and tokens to the output (with --json: a "usage" key)',
    )
    common.add_argument("--base-url", help="OpenAI-compatible endpoint (else OPENAI_BASE_URL)")
    common.add_argument("--model", help="model name (else NEWSQA_MODEL)")
    common.add_argument("--model-path", help="GGUF file for the embedded backend")
    common.add_argument(
        "--context-tokens", type=_positive, help="prompt budget before map-reduce (default 3000)"
    )
    common.add_argument("-q", "--quiet", action="store_true", help="no progress on stderr")
    common.add_argument(
        "--no-cache",
        action="store_true",
        help="do not reuse or store responses (cache: NEWSQA_CACHE_DIR)",
    )
    one = "text file, .jsonl of one record, or - for stdin"
    many = "text files, folders, .jsonl files, or - for stdin"
    corpus = "a SQLite file or a postgresql:// URL, built by `newsqa index`"
    job_set = "the job set's name (default: %(default)s)"
    schema = "a JSON Schema file (schema.json) or a Pydantic model (package.module:Model)"

    parser = argparse.ArgumentParser(
        prog="newsqa",
        description="Grounded summaries, stances and cited answers from news articles.",
    )
    parser.add_argument("--version", action="version", version=f"newsqa {newsqa.__version__}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    p = sub.add_parser("summarize", parents=[common], help="summarize an article")
    p.add_argument("path", help=one)
    p = sub.add_parser("stances", parents=[common], help="each actor's stance on a topic")
    p.add_argument("path", nargs="?", help=f"{one} (or --db)")
    p.add_argument("--topic", default=newsqa.DEFAULT_TOPIC, help="default: %(default)s")
    _add_actors(p)
    p.add_argument("--db", help=f"stances across this corpus ({corpus})")
    _add_period(p)
    p.add_argument("--k", type=_positive, help="passages to retrieve with --db (default 12)")
    p = sub.add_parser("report", parents=[common], help="summary and stances in one run")
    p.add_argument("path", help=one)
    p.add_argument("--topic", default=newsqa.DEFAULT_TOPIC, help="default: %(default)s")
    _add_actors(p)
    p = sub.add_parser(
        "timeline", parents=[common], help="each actor's stance across dated articles"
    )
    p.add_argument("paths", nargs="*", help=f"{many} (or --db)")
    p.add_argument("--topic", default=newsqa.DEFAULT_TOPIC, help="default: %(default)s")
    _add_actors(p)
    p.add_argument("--db", help=f"the timeline across this corpus ({corpus})")
    _add_period(p)
    p.add_argument("--k", type=_positive, help="passages to retrieve with --db (default 12)")
    p = sub.add_parser("batch", parents=[common], help="run a task over many documents")
    p.add_argument("inputs", nargs="+", help=many)
    p.add_argument("-o", "--output", help="JSONL file to append results to (not with --queue)")
    p.add_argument(
        "--task",
        type=_task_name,
        required=True,
        help="a registered task (`newsqa tasks` lists them), or package.module:Class",
    )
    p.add_argument(
        "--params", type=_json_object, default={}, help="the task's parameters, a JSON object"
    )
    p.add_argument("-Q", "--question", help="the question, for --task ask")
    p.add_argument("--as-of", type=_date, help="for --task ask: the day the question is asked")
    p.add_argument("--topic", default=newsqa.DEFAULT_TOPIC, help="for --task stances")
    p.add_argument("--schema", help=f"for --task extract: {schema}")
    p.add_argument("--instructions", help="for --task extract: extra guidance for the model")
    p.add_argument(
        "--examples",
        metavar="FILE",
        help='for --task extract: worked examples, a JSON list of {"text", "value"}',
    )
    p.add_argument(
        "--passes", type=_positive, help="for --task extract: read each article N times"
    )
    p.add_argument(
        "--focus",
        action="store_true",
        help="for --task extract: read a long article in one call over its best sentences",
    )
    p.add_argument(
        "--concurrency",
        type=_positive,
        default=1,
        help="documents in flight at once (remote endpoints; default 1)",
    )
    p.add_argument(
        "--provider-batch",
        action="store_true",
        help="send the requests through the endpoint's Batch API in rounds (half price, "
        "each round within 24 hours); run again to resume",
    )
    p.add_argument(
        "--export-requests",
        metavar="FILE",
        help="write one round's requests to FILE (OpenAI batch format, e.g. for vllm run-batch)",
    )
    p.add_argument(
        "--import-responses",
        metavar="FILE",
        help="load a batch output FILE (vllm run-batch -o) before the next round",
    )
    p.add_argument(
        "--cancel", action="store_true", help="cancel the provider batches in flight for -o"
    )
    p.add_argument(
        "--poll",
        type=_positive,
        default=30,
        help="seconds between polls of the batches in flight (default %(default)s)",
    )
    _add_queue(p, "enqueue one job per document here instead of running them (workers run them)")
    p.add_argument("--set", default="default", help=job_set)
    p = sub.add_parser(
        "worker", parents=[common], help="run queued jobs (`batch --queue`) on this machine"
    )
    _add_queue(p, "the job queue", required=True)
    p.add_argument(
        "--concurrency", type=_positive, default=1, help="jobs in flight at once (default 1)"
    )
    p.add_argument(
        "--set",
        action="append",
        dest="sets",
        help="a job set to serve (repeatable; default: every set of this model and endpoint)",
    )
    p.add_argument(
        "--lease",
        type=_seconds,
        default=30.0,
        help="seconds without a worker's heartbeat before its jobs are taken again "
        "(default %(default)s)",
    )
    p.add_argument(
        "--until-empty", action="store_true", help="stop when no job is left (else run on)"
    )
    p = sub.add_parser("results", help="write a job set's results as batch JSONL")
    _add_queue(p, "the job queue", required=True)
    p.add_argument("-o", "--output", required=True, help="JSONL file to append the lines to")
    p.add_argument("--set", default="default", help=job_set)
    p.add_argument("-q", "--quiet", action="store_true", help=argparse.SUPPRESS)
    p = sub.add_parser("queue", help="a job set's progress, or cancel its waiting jobs")
    p.add_argument("action", choices=["status", "cancel"])
    _add_queue(p, "the job queue", required=True)
    p.add_argument("--set", default="default", help=job_set)
    p.add_argument("--json", action="store_true", help="print the status as JSON")
    p.add_argument("-q", "--quiet", action="store_true", help=argparse.SUPPRESS)
    p = sub.add_parser(
        "extract", parents=[common], help="fill your own schema, each value with its sentences"
    )
    p.add_argument("paths", nargs="+", help=many)
    p.add_argument("--schema", required=True, help=schema)
    p.add_argument("--instructions", help="extra guidance for the model")
    p.add_argument(
        "--passes",
        type=_positive,
        default=1,
        help="read each article N times for recall, each pass asking something new",
    )
    p.add_argument(
        "--focus",
        action="store_true",
        help="read a long article in one call over its best-matching sentences, not in chunks",
    )
    p.add_argument(
        "--examples",
        metavar="FILE",
        help='worked examples shown to the model: a JSON list of {"text", "value"}',
    )
    p.add_argument(
        "--html",
        metavar="FILE",
        help="also write a page with each article, every value highlighted by field",
    )
    p = sub.add_parser(
        "run", parents=[common], help="run any registered task on articles (see `newsqa tasks`)"
    )
    p.add_argument("task", type=_task_name, help="a task name, or package.module:Class")
    p.add_argument("paths", nargs="+", help=many)
    p.add_argument(
        "--params", type=_json_object, default={}, help="the task's parameters, a JSON object"
    )
    p = sub.add_parser("tasks", help="the registered tasks, their parameters and results")
    p.add_argument(
        "--json", action="store_true", help="each task's parameters and result as JSON Schema"
    )
    p.add_argument("-q", "--quiet", action="store_true", help=argparse.SUPPRESS)
    p = sub.add_parser("compact", help="rewrite batch outputs with each id's current lines only")
    p.add_argument("outputs", nargs="+", help="JSONL files written by `newsqa batch`")
    p.add_argument("--json", action="store_true", help="print what was kept as JSON")
    p.add_argument("-q", "--quiet", action="store_true", help="no progress on stderr")
    p = sub.add_parser("index", help="add files, folders or .jsonl records to a corpus")
    p.add_argument("paths", nargs="+", help=many)
    p.add_argument("--db", required=True, help="the corpus: a SQLite file or a postgresql:// URL")
    p.add_argument("--prune", action="store_true", help="remove documents not given")
    p.add_argument("-q", "--quiet", action="store_true", help="no progress on stderr")
    p = sub.add_parser("ask", parents=[common], help="answer a question with citations")
    p.add_argument("paths", nargs="*", help=many)
    p.add_argument("-Q", "--question", required=True, help="the question")
    p.add_argument("--db", help=f"answer from this corpus ({corpus})")
    _add_period(p)
    p.add_argument("--k", type=_positive, default=6, help="passages to retrieve (default 6)")
    p.add_argument(
        "--as-of",
        type=_date,
        help="the day the question is asked: its 'this week' or 'today' is not answered "
        "from documents dated outside that time (with --db, --until sets it)",
    )
    p.add_argument(
        "--choice",
        action="append",
        dest="choices",
        metavar="OPTION",
        help="an option of a multiple-choice question (repeat: --choice A --choice B)",
    )
    p = sub.add_parser("check", parents=[common], help="does an article confirm a claim?")
    p.add_argument("path", help=one)
    p.add_argument("--claim", required=True, help="the claim, e.g. a headline")
    p = sub.add_parser(
        "stance-toward", parents=[common], help="the author's attitude toward targets"
    )
    p.add_argument("path", help=one)
    p.add_argument(
        "--target",
        action="append",
        dest="targets",
        required=True,
        help="e.g. Russia (repeat for several targets)",
    )
    return parser
