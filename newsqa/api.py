"""The public task functions: pass a client, or let newsqa build one from the environment.

A client made here because none was passed is closed when the call returns.
"""

from __future__ import annotations

import asyncio
import concurrent.futures as cf
import contextvars
import datetime as dt
import functools
import os
import sys
import warnings
from collections.abc import Callable, Coroutine, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, ParamSpec, TypeVar, Unpack, cast

from pydantic import BaseModel

from newsqa.batch import rounds as _rounds
from newsqa.batch import run as _batch
from newsqa.batch.output import output_files
from newsqa.batch.provider import BatchesAPI
from newsqa.batch.queue import JobQueue
from newsqa.config import Settings, SettingsOverrides
from newsqa.documents import Inputs, as_document
from newsqa.errors import ConfigError, DocumentError
from newsqa.llm.cache import ResponseCache
from newsqa.llm.client import LLMClient
from newsqa.llm.local import prepare_embedded
from newsqa.tasks import ask as _ask
from newsqa.tasks import base as _registry
from newsqa.tasks import claims as _claims
from newsqa.tasks import extract as _extract
from newsqa.tasks import stances as _stances
from newsqa.tasks import summarize as _summarize
from newsqa.tasks import target_stance as _target_stance
from newsqa.tasks import timeline as _timeline
from newsqa.tasks.base import Task
from newsqa.types import (
    Answer,
    ClaimCheck,
    Document,
    Extraction,
    Result,
    StanceReport,
    StanceTimeline,
    Summary,
    TargetStance,
)

if TYPE_CHECKING:
    import openai

__all__ = [
    "DEFAULT_TOPIC",
    "DocumentLike",
    "aanalyze_stances",
    "aask",
    "abatch",
    "acheck_claim",
    "aextract",
    "analyze_stances",
    "arun",
    "ask",
    "astance_toward",
    "asummarize",
    "batch",
    "check_claim",
    "connect",
    "extract",
    "job_queue",
    "run",
    "stance_timeline",
    "stance_toward",
    "stances_toward",
    "summarize",
    "task",
]

DEFAULT_TOPIC = _stances.DEFAULT_TOPIC

DocumentLike = Document | str | os.PathLike[str]
"""What task functions accept: a :class:`Document`, a file path (``Path``), or text
(a ``str``; one naming a file, or looking like a path, is a path: see
:func:`~newsqa.documents.as_document`)."""

Progress = Callable[[int, int], None]


class _Bar:
    """A tqdm bar on stderr, opened only if there is something to show."""

    def __init__(self) -> None:
        self._bar: Any = None

    def __call__(self, done: int, total: int) -> None:
        if self._bar is None:
            from tqdm import tqdm

            self._bar = tqdm(
                total=total,
                unit="B",
                unit_scale=True,
                desc="preparing embedded model (once)",
                file=sys.stderr,
                leave=False,
            )
        self._bar.update(done - self._bar.n)

    def close(self) -> None:
        if self._bar is not None:
            self._bar.close()


def connect(
    settings: Settings | None = None,
    *,
    cache: bool | str | os.PathLike[str] = True,
    progress: bool | Progress = True,
    openai_client: openai.OpenAI | None = None,
    default_headers: Mapping[str, str] | None = None,
    **overrides: Unpack[SettingsOverrides],
) -> LLMClient:
    """Build an :class:`LLMClient`: explicit ``overrides`` > environment > embedded model.

    Every client newsqa makes comes from here, the CLI's included. Settings are checked
    before any request, so a configuration mistake is a :class:`ConfigError` naming the
    variable or URL, never a retried HTTP error.

    Args:
        settings: ready settings (then no ``overrides``); default
            :meth:`Settings.from_env` with ``overrides``.
        cache: ``True``: reuse responses from ``<cache_dir>/responses.sqlite`` (a
            repeated request costs no model call); a path: that SQLite file;
            ``False``: no cache.
        progress: show a bar on stderr while the embedded model is assembled (once,
            ≈1.1 GB); or a callback ``progress(done_bytes, total_bytes)``.
        openai_client: a ready ``openai.OpenAI`` or ``openai.AzureOpenAI`` to send
            requests with (its base URL, key or token and HTTP client as they are;
            newsqa does the retries); the caller closes it. Give ``model`` (on Azure:
            the deployment name).
        default_headers: HTTP headers sent with every request (a gateway's key, an
            ``api-key``, a tenant header).
        **overrides: any :class:`Settings` field (``base_url``, ``model``,
            ``api_key``, ``model_path``, ``timeout``, ...); ``None`` means "not given".

    Raises:
        ConfigError: a bad base URL, an endpoint without a model name, a variable
            that is not a number, or the embedded model unusable (no llama-cpp-python,
            no model file) when no endpoint is configured.

    Example:
        >>> client = connect(base_url="http://localhost:11434/v1",
        ...                  model="llama3.1")  # doctest: +SKIP
        >>> azure = openai.AzureOpenAI(azure_endpoint="https://x.openai.azure.com",
        ...                            api_version="2024-06-01", api_key=key)  # doctest: +SKIP
        >>> client = connect(openai_client=azure, model="my-deployment")  # doctest: +SKIP
    """
    if settings is not None and overrides:
        raise TypeError("pass settings or keyword overrides, not both")
    if openai_client is not None and settings is None:
        overrides.setdefault("base_url", str(openai_client.base_url))
        overrides.setdefault("api_key", openai_client.api_key or None)
    settings = (settings or Settings.from_env(**overrides)).check()
    if settings.embedded:
        bar = _Bar() if progress is True else None
        try:
            callback = None if isinstance(progress, bool) else progress
            prepare_embedded(settings, progress=bar or callback)
        finally:
            if bar is not None:
                bar.close()
    store: ResponseCache | None = None
    if cache is not False:
        path = settings.cache_dir / "responses.sqlite" if cache is True else Path(cache)
        store = ResponseCache(path)
    try:
        return LLMClient(
            settings, cache=store, openai_client=openai_client, default_headers=default_headers
        )
    except BaseException:
        if store is not None:
            store.close()
        raise


@contextmanager
def _using(client: LLMClient | None) -> Iterator[LLMClient]:
    """``client``, or one from :func:`connect` that is closed afterwards."""
    if client is not None:
        yield client
        return
    with connect() as made:
        yield made


def summarize(doc: DocumentLike, *, client: LLMClient | None = None) -> Summary:
    """Summarize ``doc``: headline, summary and key points with verbatim evidence."""
    document = as_document(doc)
    with _using(client) as llm:
        return _summarize.summarize(document, client=llm)


def analyze_stances(
    doc: DocumentLike,
    topic: str = DEFAULT_TOPIC,
    *,
    client: LLMClient | None = None,
    max_actors: int = 5,
    actors: Mapping[str, Sequence[str]] | None = None,
) -> StanceReport:
    """Each actor's stance on ``topic`` in ``doc``: label, position and evidence.

    ``actors`` (name → the other names the text may use for it, e.g.
    ``{"Hungary": ["Orban", "Budapest"]}``) are added to the built-in countries and
    organisations and asked about first; as for every actor, only one that speaks or
    acts in the text gets a stance."""
    document = as_document(doc)
    with _using(client) as llm:
        return _stances.analyze_stances(
            document, topic, client=llm, max_actors=max_actors, actors=actors
        )


def stance_timeline(
    docs: Sequence[DocumentLike],
    topic: str = DEFAULT_TOPIC,
    *,
    client: LLMClient | None = None,
    max_actors: int = 5,
    actors: Mapping[str, Sequence[str]] | None = None,
    on_done: Callable[[Document], None] | None = None,
) -> StanceTimeline:
    """Each actor's stance across dated documents, label changes flagged.

    ``actors`` as in :func:`analyze_stances`; ``on_done(doc)`` is called after each
    document (progress bars)."""
    documents = [as_document(d) for d in docs]
    with _using(client) as llm:
        return _timeline.stance_timeline(
            documents,
            topic,
            client=llm,
            max_actors=max_actors,
            actors=actors,
            on_done=on_done,
        )


def ask(
    docs: DocumentLike | Sequence[DocumentLike],
    question: str,
    *,
    client: LLMClient | None = None,
    choices: Sequence[str] | None = None,
    read: _ask.Reading = "focused",
    as_of: dt.date | None = None,
) -> Answer:
    """Answer ``question`` from ``docs`` with citations, or abstain.

    ``choices`` makes it multiple choice (``Answer.choice`` is the chosen index);
    ``read="all"`` reads every part of documents too long for one prompt instead of
    only the parts that best match the question; ``as_of`` is the day it is asked, so
    "this week" is not answered from an article dated a year before.
    """
    if isinstance(docs, Document | str | os.PathLike):
        documents = [as_document(docs)]
    else:
        documents = [as_document(d) for d in docs]
    with _using(client) as llm:
        return _ask.ask(documents, question, client=llm, choices=choices, read=read, as_of=as_of)


def stance_toward(
    doc: DocumentLike,
    target: str,
    *,
    client: LLMClient | None = None,
    aliases: Sequence[str] = (),
) -> TargetStance:
    """Where the author of ``doc`` stands toward ``target`` (supports/opposes/neutral)."""
    document = as_document(doc)
    with _using(client) as llm:
        return _target_stance.stance_toward(document, target, client=llm, aliases=aliases)


def stances_toward(
    doc: DocumentLike,
    targets: Sequence[str],
    *,
    client: LLMClient | None = None,
    aliases: dict[str, Sequence[str]] | None = None,
) -> list[TargetStance]:
    """Where the author of ``doc`` stands toward each of ``targets``, judged in one call."""
    document = as_document(doc)
    with _using(client) as llm:
        return _target_stance.stances_toward(document, targets, client=llm, aliases=aliases)


def check_claim(doc: DocumentLike, claim: str, *, client: LLMClient | None = None) -> ClaimCheck:
    """Whether ``doc`` agrees with, disagrees with, discusses or ignores ``claim``."""
    document = as_document(doc)
    with _using(client) as llm:
        return _claims.check_claim(document, claim, client=llm)


_M = TypeVar("_M", bound=BaseModel)


def extract(
    doc: DocumentLike,
    schema: type[_M],
    *,
    client: LLMClient | None = None,
    instructions: str | None = None,
    examples: Sequence[tuple[str, BaseModel]] = (),
    passes: int = 1,
    reading: Literal["auto", "chunks", "focus"] = "auto",
) -> Extraction[_M]:
    """Fill ``schema``, your own Pydantic model, from ``doc``.

    ``.value`` is a validated ``schema`` instance (your validators run too); each
    value it holds is tied, in ``.evidence``, to the verbatim sentences that state
    it, by field path (``"casualties"``, ``"meetings[2].place"``). A field the text
    does not state keeps its default (``None``) and has no evidence. Nested models,
    lists, optionals, enums/``Literal``, dates and numbers work; ``instructions``
    adds guidance for the model; ``examples``, ``(text, schema(...))`` pairs, are
    shown to it (each value must be written in its own text; a value copied from
    one that the article does not write is never kept). ``.spans`` says where each
    value is written. A document over the context budget is read in chunks, several
    at once, and what they find merged (``reading="focus"``, or beyond 40 calls:
    one call over the sentences that best match the fields); ``passes=N`` reads it
    N times for recall, each pass asking something new (other chunk boundaries, or
    the values found).

    Raises:
        SchemaError: ``schema`` cannot be extracted (recursive, unsupported type,
            too many fields or choices), before any request.
        ValueError: an example that does not fit ``schema`` or whose values its text
            does not write (naming the example and the field), before any request.
    """
    _extract.check_examples(schema, examples)  # before a document is read or a client made
    document = as_document(doc)
    with _using(client) as llm:
        return _extract.extract(
            document,
            schema,
            client=llm,
            instructions=instructions,
            examples=examples,
            passes=passes,
            reading=reading,
        )


_P = ParamSpec("_P")
_R = TypeVar("_R", bound=Result)
_T = TypeVar("_T")


ASYNC_CALLS = 64
"""Default of ``NEWSQA_ASYNC_CALLS``: how many async task calls (``asummarize``, ``aask``,
…) run at once in newsqa's worker threads; more wait their turn. Each waits on the
network most of the time, so this is far above the cores (Python's default pool,
``min(32, CPUs + 4)``, would keep 6 requests in flight on a 2-core machine)."""


@functools.lru_cache(maxsize=4)
def _pool(workers: int) -> cf.ThreadPoolExecutor:
    return cf.ThreadPoolExecutor(max_workers=workers, thread_name_prefix="newsqa-async")


def _async_calls() -> int:
    """How many async task calls run at once: ``NEWSQA_ASYNC_CALLS`` or
    :data:`ASYNC_CALLS`.

    Raises:
        ConfigError: ``NEWSQA_ASYNC_CALLS`` is not a whole number of at least 1.
    """
    value = os.environ.get("NEWSQA_ASYNC_CALLS", "").strip()
    if not value:
        return ASYNC_CALLS
    if not value.isdigit() or int(value) < 1:
        raise ConfigError(f"NEWSQA_ASYNC_CALLS={value!r} is not a whole number of at least 1")
    return int(value)


async def _in_thread(fn: Callable[_P, _T], *args: _P.args, **kwargs: _P.kwargs) -> _T:
    loop = asyncio.get_running_loop()
    call = functools.partial(contextvars.copy_context().run, fn, *args, **kwargs)
    return await loop.run_in_executor(_pool(_async_calls()), call)


def _awaitable(fn: Callable[_P, _T], example: str = "") -> Callable[_P, Coroutine[Any, Any, _T]]:
    """``fn`` for ``await``: the same parameters, run in newsqa's worker threads."""

    @functools.wraps(fn)
    async def call(*args: _P.args, **kwargs: _P.kwargs) -> _T:
        return await _in_thread(fn, *args, **kwargs)

    call.__name__ = call.__qualname__ = "a" + fn.__name__
    call.__doc__ = (
        f":func:`{fn.__name__}` for ``await`` (runs in a worker thread; the loop stays free)."
        + example
    )
    return call


asummarize = _awaitable(summarize)
aanalyze_stances = _awaitable(analyze_stances)
aask = _awaitable(
    ask,
    """

    Example:
        >>> answers = await asyncio.gather(
        ...     *(aask(doc, q, client=client) for q in questions))  # doctest: +SKIP
    """,
)
aextract = _awaitable(extract)
acheck_claim = _awaitable(check_claim)
astance_toward = _awaitable(stance_toward)


_Path = str | os.PathLike[str]
_Inputs = Iterable[Document | DocumentError] | _Path | Sequence[_Path]


def task(name: str, **params: Any) -> Task[Any]:
    """The registered task ``name`` with ``params`` (``newsqa.task("ask",
    question="Who met?")``): built-in tasks and those you register alike.

    Raises:
        ValueError: no task of that name, or parameters it does not take or accept.
    """
    return _registry.task_named(name, params)


def run(task: Task[_R], doc: DocumentLike, *, client: LLMClient | None = None) -> _R:
    """Run ``task`` on one document (default client: :func:`connect`, made only for a
    task that uses the model)."""
    document = as_document(doc)
    task.check()
    if not task.uses_model:
        return task.run(document, client=client)
    with _using(client) as llm:
        return task.run(document, client=llm)


async def arun(task: Task[_R], doc: DocumentLike, *, client: LLMClient | None = None) -> _R:
    """:func:`run` for ``await`` (runs in a worker thread)."""
    return await _in_thread(run, task, doc, client=client)


def _legacy_task(name: str, params: Mapping[str, Any]) -> Task[Any]:
    """The task object for a task given by name (deprecated)."""
    warnings.warn(
        f"batch/abatch with a task name is deprecated; pass a task object "
        f"(newsqa.task({name!r}, ...) or e.g. newsqa.Summarize())",
        DeprecationWarning,
        stacklevel=4,
    )
    return _registry.task_named(name, {k: v for k, v in params.items() if v is not None})


def abatch(
    docs: _Inputs,
    task: Task[_R] | str,
    out: str | os.PathLike[str],
    *,
    client: LLMClient | None = None,
    concurrency: int = 1,
    on_done: Callable[[str, bool], None] | None = None,
    **params: Any,
) -> _batch.BatchRun[_R]:
    """Run ``task`` over ``docs`` and iterate the documents as they finish.

    ``async for doc_id, outcome in abatch(...)`` (or a plain ``for``) gets each
    document's result (the task's result type) or the exception it failed with, in
    completion order, after its JSONL line is on disk. At most ``concurrency``
    documents run at once. Resume is that of :func:`batch`: documents with a result in
    ``out`` for the same task, parameters and document content
    (:meth:`~newsqa.tasks.base.Task.key`) are skipped, failed ones run again.
    ``run.report`` holds the counts and usage.

    Args:
        docs: documents (or :class:`DocumentError` entries), or paths (one or a
            list) that :class:`~newsqa.documents.Inputs` walks: folders, ``.jsonl``
            files of records, text files, or ``-`` (standard input); walked once to
            check them (two documents with one id are refused before any model
            call), then again one document at a time; the run's own output (and its
            ``.partial``) is never read as input.
        task: a task object: :class:`Summarize`, :class:`Stances`, :class:`Ask`,
            :class:`Extract` (its schema's whole JSON Schema is part of the resume key),
            :class:`CheckClaim`, :class:`StanceToward`, or any registered task
            (:func:`task`). A task name with its parameters as keywords
            (``"ask", question=...``) still works, with a ``DeprecationWarning``.
        out: the JSONL file to append to.
        client: default :func:`connect` (made only for a task that uses the model),
            closed when the run is over.
        concurrency: documents in flight at once (more than 1 pays off with remote
            endpoints; the embedded model serves one request at a time).
        on_done: called with ``(id, ok)`` after each document (progress bars).
        params: only with a task name (deprecated): its parameters.

    Raises:
        ValueError: a task that cannot run (an empty question, ...), ``concurrency``
            below 1, or two documents with one id (see
            :class:`~newsqa.batch.run.BatchRun`).
        TypeError: parameters given beside a task object.
        SchemaError: an extract schema that cannot be extracted; raised before any
            document is read or a client made.

    Example:
        >>> async for doc_id, outcome in newsqa.abatch("articles/", newsqa.Summarize(),
        ...                                            "out.jsonl"):  # doctest: +SKIP
        ...     print(doc_id, outcome if isinstance(outcome, Exception) else outcome.headline)
    """
    if isinstance(task, str):
        job: Task[Any] = _legacy_task(task, params)
    elif params:
        raise TypeError(f"parameters {sorted(params)} belong to the task object, not to batch")
    else:
        job = task
    job.check()  # before any input or client
    items = _walk(docs, Path(out))
    owned = client is None and job.uses_model
    llm = connect() if owned else client
    try:
        return _batch.BatchRun(
            items,
            job,
            Path(out),
            client=llm,
            concurrency=concurrency,
            on_done=on_done,
            close_client=owned,
        )
    except BaseException:
        if owned and llm is not None:
            llm.close()
        raise


def _walk(docs: _Inputs, out: Path) -> Iterable[Document | DocumentError]:
    """``docs``, or the walk of paths leaving the run's own files out."""
    if isinstance(docs, str | os.PathLike):
        return Inputs(docs, skip=output_files(out))
    if isinstance(docs, Sequence) and docs and all(isinstance(d, str | os.PathLike) for d in docs):
        return Inputs(cast("Sequence[_Path]", docs), skip=output_files(out))
    return cast("Iterable[Document | DocumentError]", docs)


def batch(
    docs: _Inputs,
    task: Task[Any] | str,
    out: str | os.PathLike[str],
    *,
    client: LLMClient | None = None,
    concurrency: int = 1,
    on_done: Callable[[str, bool], None] | None = None,
    **params: Any,
) -> _batch.BatchReport:
    """Run ``task`` over ``docs``, appending one JSONL line per document to ``out``.

    Each line is written as soon as its document finishes (``{"id", "task", "key",
    "result", "usage"}`` or ``{"id", "task", "key", "error", "error_type", "usage"}``,
    with the task's parameters), so an interrupted run loses no finished work;
    re-running with the same ``out`` skips documents that already have a result for
    the same job and content, and retries failed ones. A failing document never stops
    the batch. Arguments as for :func:`abatch`.

    Returns:
        The :class:`~newsqa.batch.run.BatchReport`: done, failed, skipped, usage, errors.

    Example:
        >>> report = newsqa.batch("articles/", newsqa.Ask("Who met in Geneva?"),
        ...                       "answers.jsonl")  # doctest: +SKIP
    """
    return abatch(
        docs, task, out, client=client, concurrency=concurrency, on_done=on_done, **params
    ).run()


def provider_batch(
    docs: _Inputs,
    task: Task[Any],
    out: str | os.PathLike[str],
    *,
    client: LLMClient | None = None,
    concurrency: int = 1,
    export_requests: str | os.PathLike[str] | None = None,
    import_responses: str | os.PathLike[str] | None = None,
    observer: _rounds.BatchObserver | None = None,
    poll_seconds: float = 30.0,
) -> _rounds.RoundsReport:
    """Run ``task`` over ``docs`` through the provider's Batch API (half the price of
    single requests, each round answered within 24 hours), appending one JSONL line per
    document to ``out`` as :func:`batch` does.

    Each round runs the task's pipeline with every request answered from the earlier
    rounds' replies or the response cache; documents whose calls are all answered
    finish, the other requests are submitted as batches (files of at most 50,000
    requests and 200 MB, ``custom_id`` = the cache key) and polled until done. A task of
    dependent calls takes more rounds (stances: 2; one more per re-ask). The state is
    kept in ``<out>.rounds/``: calling it again resumes polling, never resubmits what is
    in flight. With ``export_requests`` one round's requests are written to that file
    instead (OpenAI batch input format: ``vllm run-batch -i FILE -o RESULTS``), and
    ``import_responses`` loads such a server's output first.

    Args:
        docs: paths or a list of documents (walked once per round: not an iterator).
        task: the task object.
        out: the JSONL file to append to.
        client: default :func:`connect`; it needs its response cache.
        concurrency: documents in flight at once in each pass.
        export_requests, import_responses: files for another server (see above).
        observer: told of each submission, poll and pass (progress display).
        poll_seconds: seconds between polls of the batches in flight.

    Raises:
        ConfigError: a client without a response cache.
        ValueError: ``docs`` is an iterator, or the task cannot run.
        LLMError: the Batches API failed (the state is kept: call again to resume).
    """
    task.check()
    owned = client is None
    llm = connect() if client is None else client
    try:
        run = _rounds.ProviderRun(
            _walk(docs, Path(out)),
            task,
            Path(out),
            client=llm,
            concurrency=concurrency,
            observer=observer,
            poll_seconds=poll_seconds,
        )
        return run.run(
            export_requests=None if export_requests is None else Path(export_requests),
            import_responses=None if import_responses is None else Path(import_responses),
        )
    finally:
        if owned:
            llm.close()


def cancel_provider_batch(out: str | os.PathLike[str], *, client: LLMClient | None = None) -> int:
    """Cancel the batches in flight of the :func:`provider_batch` run on ``out`` (what
    they finished stays billed); returns how many were cancelled."""
    with _using(client) as llm:
        return _rounds.cancel_batches(Path(out), BatchesAPI(llm.sdk, key=llm.settings.api_key))


def job_queue(url: str, *, create: bool = False) -> JobQueue:
    """The job queue in the PostgreSQL database at ``url`` (the postgres extra), whose
    jobs carry any task, an extraction schema included (:func:`~newsqa.schema_models.
    portable_job`): ``enqueue`` a batch, ``work`` on it from any machine, ``status``,
    ``cancel`` and ``write_results`` (see :class:`~newsqa.batch.queue.JobQueue`).

    Raises:
        QueueError: unreachable, no queue there (``create=False``), or a queue of
            another schema version.
    """
    from newsqa.schema_models import portable_job, task_from_portable_job

    return JobQueue(url, create=create, describe=portable_job, rebuild=task_from_portable_job)
