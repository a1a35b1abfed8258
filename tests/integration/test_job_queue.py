"""The job queue on a real, throwaway PostgreSQL: a batch enqueued once per document,
run by workers, its results the lines of a local batch; a killed worker's job taken
again after its lease; clear refusals that lose no job."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

import newsqa
from newsqa import Document, LLMClient, QueueError, document_from_text
from newsqa.cli import main
from tests.support.fake_openai import FakeOpenAI, Reply, schema_reply

psycopg = pytest.importorskip("psycopg", reason="needs the postgres extra: psycopg")
pytest.importorskip("procrastinate", reason="needs the postgres extra: procrastinate")

ROOT = Path(__file__).resolve().parent.parent.parent


def _docs(n: int) -> list[Document]:
    return [
        document_from_text(
            f"Minister {i} met the union on Monday. They agreed on a pay rise of {i} percent.",
            id=f"d{i}",
            date=f"2024-01-{i % 28 + 1:02d}",
        )
        for i in range(n)
    ]


def _client(server: FakeOpenAI) -> LLMClient:
    return newsqa.connect(base_url=server.base_url, model="fake", cache=False)


def _lines(path: Path) -> list[dict[str, object]]:
    return sorted(
        (json.loads(line) for line in path.read_text().splitlines()), key=lambda r: str(r["id"])
    )


def test_queued_batch_writes_the_lines_of_a_local_batch(postgres_url: str, tmp_path: Path) -> None:
    docs = _docs(6)
    with (
        FakeOpenAI([], responder=schema_reply, max_requests=200) as server,
        _client(server) as client,
    ):
        newsqa.batch(docs, newsqa.Summarize(), tmp_path / "local.jsonl", client=client)
        with newsqa.job_queue(postgres_url, create=True) as queue:
            first = queue.enqueue(docs, newsqa.Summarize(), client=client)
            assert (first.enqueued, first.done, first.waiting) == (6, 0, 0)
            again = queue.enqueue(docs, newsqa.Summarize(), client=client)
            assert (again.enqueued, again.waiting) == (0, 6)  # queued once
            assert queue.status().jobs == {"todo": 6}
            report = queue.work(client, concurrency=3, lease=5, wait=False)
            assert (report.done, report.failed) == (6, 0)
            done = queue.enqueue(docs, newsqa.Summarize(), client=client)
            assert (done.enqueued, done.done) == (0, 6)  # its content key has a result
            status = queue.status()
            assert (status.documents, status.done, status.failed) == (6, 6, 0)
            assert queue.write_results(tmp_path / "queued.jsonl") == 6
    queued = (tmp_path / "queued.jsonl").read_text().splitlines()
    local = (tmp_path / "local.jsonl").read_text().splitlines()
    assert sorted(queued) == sorted(local)  # the same lines, byte for byte


def test_a_killed_workers_job_is_taken_again_after_its_lease(
    postgres_url: str, tmp_path: Path
) -> None:
    docs = _docs(3)
    probe, stuck = Reply.text("OK"), Reply.json({}, delay=5)  # the job's reply never comes
    with (
        FakeOpenAI([probe, stuck], responder=schema_reply, max_requests=200) as server,
        _client(server) as client,
    ):
        with newsqa.job_queue(postgres_url, create=True) as queue:
            queue.enqueue(docs, newsqa.Summarize(), client=client)
        command = [sys.executable, "-m", "newsqa.cli", "worker", "--queue", postgres_url]
        options = ["--base-url", server.base_url, "--model", "fake", "--lease", "1", "-q"]
        env = {**os.environ, "PYTHONPATH": str(ROOT)}
        worker = subprocess.Popen([*command, *options, "--no-cache"], env=env)
        try:
            deadline = time.monotonic() + 60
            while len(server.requests) < 2 and time.monotonic() < deadline:
                time.sleep(0.05)
            assert len(server.requests) == 2, "the worker took a job"
        finally:
            worker.send_signal(signal.SIGKILL)
            worker.wait()
        with newsqa.job_queue(postgres_url) as queue:
            assert queue.status().jobs == {"doing": 1, "todo": 2}
            time.sleep(1.5)  # the lease runs out
            report = queue.work(client, lease=1, wait=False)
            assert (report.done, report.failed) == (3, 0)
            assert queue.status().jobs == {}
            assert queue.write_results(tmp_path / "out.jsonl") == 3
    assert [r["id"] for r in _lines(tmp_path / "out.jsonl")] == ["d0", "d1", "d2"]


def test_a_misconfigured_worker_fails_fast_and_its_jobs_stay(
    postgres_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    refused = Reply(status=401, body={"error": {"message": "invalid api key"}})
    with FakeOpenAI([], responder=schema_reply) as server:
        with newsqa.job_queue(postgres_url, create=True) as queue, _client(server) as client:
            queue.enqueue(_docs(2), newsqa.Summarize(), client=client)
        worker = ["worker", "--queue", postgres_url, "--model", "fake", "-q", "--no-cache"]
        server.script = [refused]
        assert main([*worker, "--base-url", server.base_url]) == 1
        assert "401" in capsys.readouterr().err
        assert len(server.requests) == 1  # the probe, then nothing
        assert main([*worker, "--base-url", server.base_url + "/other"]) == 2
        err = capsys.readouterr().err.strip().splitlines()
        assert len(err) == 1 and "no job set in the queue for fake" in err[0]
    with newsqa.job_queue(postgres_url) as queue:
        assert queue.status().jobs == {"todo": 2}  # left for a worker that works


def test_a_queue_of_another_schema_version_is_refused(
    postgres_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    newsqa.job_queue(postgres_url, create=True).close()
    with psycopg.connect(postgres_url, autocommit=True) as conn:
        conn.execute("UPDATE newsqa_queue_meta SET value = 'newsqa-queue-0' WHERE key = 'format'")
    with pytest.raises(QueueError, match="'newsqa-queue-0' is not supported"):
        newsqa.job_queue(postgres_url)
    assert main(["queue", "status", "--queue", postgres_url]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "queue schema 'newsqa-queue-0' is not supported" in err[0]


def test_no_queue_and_an_unreachable_server_are_clear_errors(
    postgres_url: str, tmp_path: Path
) -> None:
    with pytest.raises(QueueError, match="no newsqa queue here"):
        newsqa.job_queue(postgres_url)
    with pytest.raises(QueueError, match="cannot reach the queue") as info:
        newsqa.job_queue(f"postgresql://u:s3cret@/jobs?host={tmp_path}/none")
    assert "s3cret" not in str(info.value)


def test_the_cli_enqueues_works_cancels_and_writes_results(
    postgres_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    inputs = tmp_path / "in.jsonl"
    inputs.write_text("".join(json.dumps(d.model_dump(mode="json")) + "\n" for d in _docs(4)))
    with FakeOpenAI([], responder=schema_reply, max_requests=200) as server:
        model = ["--base-url", server.base_url, "--model", "fake", "-q", "--no-cache"]
        batch = ["batch", str(inputs), "--task", "summarize", "--queue", postgres_url]
        assert main([*batch, "--set", "first", *model]) == 0
        assert "4 enqueued, 0 done already" in capsys.readouterr().out
        ask = ["batch", str(inputs), "--task", "ask", "-Q", "Who met?", "--queue", postgres_url]
        assert main([*ask, "--set", "later", *model]) == 0
        assert main([*ask, "--set", "first", *model]) == 2  # a set holds one task
        assert "runs another task, model or endpoint" in capsys.readouterr().err
        assert main(["queue", "cancel", "--queue", postgres_url, "--set", "later"]) == 0
        assert "4 waiting jobs cancelled" in capsys.readouterr().out
        worker = ["worker", "--queue", postgres_url, "--until-empty", "--concurrency", "2"]
        assert main([*worker, *model]) == 0
        assert "4 done, 0 failed" in capsys.readouterr().out
        assert len(server.requests) == 1 + 4  # the probe, then the first set only
        status = ["queue", "status", "--queue", postgres_url, "--json"]
        assert main([*status, "--set", "later"]) == 0
        assert json.loads(capsys.readouterr().out)["jobs"] == {"cancelled": 4}
        out = tmp_path / "out.jsonl"
        assert main(["results", "--queue", postgres_url, "--set", "first", "-o", str(out)]) == 0
        assert "4 lines (4 done, 0 failed of 4 documents" in capsys.readouterr().out
        assert [r["id"] for r in _lines(out)] == ["d0", "d1", "d2", "d3"]
        assert main([*batch, "-o", str(out), *model]) == 2
        assert "with --queue, write the results with `newsqa results`" in capsys.readouterr().err
        assert main(["queue", "status", "--queue", postgres_url, "--set", "nope"]) == 2
        assert "no job set 'nope'" in capsys.readouterr().err


def test_a_job_run_again_after_its_result_writes_nothing_twice(postgres_url: str) -> None:
    """A worker that died after storing a result but before the queue heard of it: the
    job runs again, finds its key done, and makes no request."""
    import procrastinate

    doc = _docs(1)[0]
    with (
        FakeOpenAI([], responder=schema_reply) as server,
        _client(server) as client,
        newsqa.job_queue(postgres_url, create=True) as queue,
    ):
        queue.enqueue([doc], newsqa.Summarize(), client=client)
        with psycopg.connect(postgres_url) as conn:
            row = conn.execute("SELECT args FROM procrastinate_jobs").fetchone()
        assert row is not None
        assert queue.work(client, wait=False).done == 1
        sent = len(server.requests)
        app = procrastinate.App(connector=procrastinate.PsycopgConnector(conninfo=postgres_url))
        with app.open():
            app.configure_task("newsqa.run_document", queue="newsqa:default").defer(**row[0])
        again = queue.work(client, wait=False)
        assert (again.done, again.skipped) == (0, 1)
        assert len(server.requests) == sent + 1  # the worker's probe only
        with psycopg.connect(postgres_url) as conn:
            assert conn.execute("SELECT count(*) FROM newsqa_results").fetchone() == (1,)
