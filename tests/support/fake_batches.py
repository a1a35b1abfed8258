"""A loopback ``/v1/files`` and ``/v1/batches`` for provider batch tests.

Each batch's requests are answered by ``responder(request_body)`` (the
:class:`~tests.support.fake_openai.Reply` a :class:`FakeOpenAI` would send), once its
status was read ``polls`` times; ``fate(custom_id, body)`` may instead fail an item
(HTTP 500 in the output) or let it expire (in the error file, batch status
``expired``). It also answers ``/v1/chat/completions`` with the same responder, so a
direct run and a batch run can read the same scripted replies.
"""

from __future__ import annotations

import email.message
import email.parser
import itertools
import json
import threading
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler
from typing import Any, Literal

from tests.support.fake_openai import Loopback, Reply

__all__ = ["FakeBatches", "Fate"]

Fate = Literal["ok", "fail", "expire"]


def _multipart_file(content_type: str, payload: bytes) -> tuple[str, bytes]:
    """The file name and bytes of a multipart form's ``file`` field."""
    message = email.parser.BytesParser().parsebytes(
        f"Content-Type: {content_type}\r\n\r\n".encode() + payload
    )
    for part in message.get_payload():
        assert isinstance(part, email.message.Message)
        if part.get_param("name", header="content-disposition") == "file":
            return str(part.get_filename()), bytes(part.get_payload(decode=True))
    raise ValueError("no file field")


class FakeBatches(Loopback):
    """Serve the Files and Batches API; ``created`` lists each batch started (its
    requests as sent), ``cancelled`` the ids cancelled, ``chat`` the direct requests."""

    def __init__(
        self,
        responder: Callable[[dict[str, Any]], Reply],
        *,
        polls: int = 2,
        fate: Callable[[str, dict[str, Any]], Fate] | None = None,
    ) -> None:
        self.responder, self.polls, self.fate = responder, polls, fate
        self.files: dict[str, bytes] = {}
        self.batches: dict[str, dict[str, Any]] = {}
        self.created: list[list[dict[str, Any]]] = []
        self.cancelled: list[str] = []
        self.chat: list[dict[str, Any]] = []
        self._reads: dict[str, int] = {}
        self._ids = itertools.count(1)
        self._lock = threading.Lock()
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: Any) -> None:
                pass

            def _send(self, status: int, data: bytes, kind: str = "application/json") -> None:
                self.send_response(status)
                self.send_header("Content-Type", kind)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def _json(self, obj: Any, status: int = 200) -> None:
                self._send(status, json.dumps(obj).encode())

            def do_GET(self) -> None:
                with server._lock:
                    parts = self.path.strip("/").split("/")
                    if parts[:2] == ["v1", "batches"] and len(parts) == 3:
                        self._json(server._read(parts[2]))
                    elif parts[:2] == ["v1", "files"] and parts[3:] == ["content"]:
                        self._send(200, server.files[parts[2]], "application/octet-stream")
                    else:
                        self._json({"error": {"message": "no route"}}, 404)

            def do_POST(self) -> None:
                payload = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                with server._lock:
                    parts = self.path.strip("/").split("/")
                    if parts == ["v1", "files"]:
                        name, data = _multipart_file(self.headers["Content-Type"], payload)
                        file_id = f"file-{next(server._ids)}"
                        server.files[file_id] = data
                        self._json(
                            {
                                "id": file_id,
                                "object": "file",
                                "bytes": len(data),
                                "created_at": 0,
                                "filename": name,
                                "purpose": "batch",
                                "status": "processed",
                            }
                        )
                    elif parts == ["v1", "batches"]:
                        self._json(server._create(json.loads(payload)))
                    elif parts[:2] == ["v1", "batches"] and parts[3:] == ["cancel"]:
                        server.cancelled.append(parts[2])
                        batch = server.batches[parts[2]]
                        batch["status"] = "cancelled"
                        self._json(batch)
                    elif parts == ["v1", "chat", "completions"]:
                        body = json.loads(payload)
                        server.chat.append(body)
                        reply = server.responder(body)
                        self._json(reply.body, reply.status)
                    else:
                        self._json({"error": {"message": "no route"}}, 404)

        self._serve(Handler)

    def _create(self, request: dict[str, Any]) -> dict[str, Any]:
        lines = self.files[request["input_file_id"]].decode().splitlines()
        items = [json.loads(line) for line in lines]
        batch_id = f"batch-{next(self._ids)}"
        self.created.append(items)
        self.batches[batch_id] = {
            "id": batch_id,
            "object": "batch",
            "endpoint": request["endpoint"],
            "input_file_id": request["input_file_id"],
            "completion_window": request["completion_window"],
            "created_at": 0,
            "status": "validating",
            "metadata": request.get("metadata"),
            "request_counts": {"completed": 0, "failed": 0, "total": len(items)},
            "output_file_id": None,
            "error_file_id": None,
        }
        self._reads[batch_id] = 0
        return self.batches[batch_id]

    def _read(self, batch_id: str) -> dict[str, Any]:
        batch = self.batches[batch_id]
        self._reads[batch_id] += 1
        if batch["status"] in ("validating", "in_progress"):
            batch["status"] = "in_progress"
            if self._reads[batch_id] >= self.polls:
                self._finish(batch)
        return batch

    def _finish(self, batch: dict[str, Any]) -> None:
        items = [
            json.loads(line) for line in self.files[batch["input_file_id"]].decode().splitlines()
        ]
        output: list[dict[str, Any]] = []
        errors: list[dict[str, Any]] = []
        for item in items:
            fate = self.fate(item["custom_id"], item["body"]) if self.fate else "ok"
            line: dict[str, Any] = {"id": f"req-{next(self._ids)}", "custom_id": item["custom_id"]}
            if fate == "expire":
                errors.append(
                    {
                        **line,
                        "response": None,
                        "error": {
                            "code": "batch_expired",
                            "message": "not run within the completion window",
                        },
                    }
                )
                continue
            reply = (
                Reply(status=500, body={"error": {"message": "server error"}})
                if fate == "fail"
                else self.responder(item["body"])
            )
            line["response"] = {"status_code": reply.status, "request_id": "r", "body": reply.body}
            line["error"] = None
            (output if reply.status == 200 else errors).append(line)
        for name, lines in (("output_file_id", output), ("error_file_id", errors)):
            if lines:
                file_id = f"file-{next(self._ids)}"
                self.files[file_id] = "".join(json.dumps(x) + "\n" for x in lines).encode()
                batch[name] = file_id
        batch["request_counts"] = {
            "completed": len(output),
            "failed": len(errors),
            "total": len(items),
        }
        batch["status"] = "expired" if any(e.get("error") for e in errors) else "completed"
