"""A scripted OpenAI-compatible server on 127.0.0.1 for fault-injection tests.

Each request takes the next :class:`Reply` of the script: a status with a body, a
delay (to cause client timeouts), a response trickled byte by byte, or a dropped
connection. When the script runs
out it answers 500, and it accepts at most ``max_requests`` requests, so a bug that
loops cannot hammer it forever. It stops when the ``with`` block ends.
"""

from __future__ import annotations

import json
import socket
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any, Self

__all__ = ["FakeOpenAI", "Loopback", "Reply", "completion", "schema_instance", "schema_reply"]


def completion(
    content: str,
    *,
    prompt_tokens: int = 50,
    completion_tokens: int = 10,
    finish_reason: str = "stop",
) -> dict[str, Any]:
    """An OpenAI chat-completion response body whose message is ``content``."""
    return {
        "id": "chatcmpl-test",
        "object": "chat.completion",
        "created": 0,
        "model": "fake",
        "choices": [
            {
                "index": 0,
                "finish_reason": finish_reason,
                "message": {"role": "assistant", "content": content},
            }
        ],
        "usage": {
            "prompt_tokens": prompt_tokens,
            "completion_tokens": completion_tokens,
            "total_tokens": prompt_tokens + completion_tokens,
        },
    }


@dataclass
class Reply:
    """One scripted answer."""

    status: int = 200
    body: Any = None
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0
    drop: bool = False
    raw: bytes | None = None
    trickle: float = 0.0
    """Seconds between the bytes of the response (headers and body)."""

    @classmethod
    def json(cls, obj: Any, **kwargs: Any) -> Reply:
        """A 200 whose assistant message is ``obj`` serialised as JSON."""
        return cls(body=completion(json.dumps(obj)), **kwargs)

    @classmethod
    def text(cls, content: str, **kwargs: Any) -> Reply:
        """A 200 whose assistant message is ``content`` verbatim."""
        return cls(body=completion(content), **kwargs)


def schema_instance(schema: dict[str, Any], root: dict[str, Any] | None = None) -> Any:
    """The smallest JSON value that satisfies ``schema`` (first enum value, required
    properties only, ``minItems`` items, a fixed date for ``"format": "date"`` and
    ``"date-time"``), as a model under a grammar could answer."""
    root = root or schema
    if "$ref" in schema:
        name = schema["$ref"].rsplit("/", 1)[-1]
        return schema_instance(root["$defs"][name], root)
    for key in ("anyOf", "oneOf", "allOf"):
        if key in schema:
            options = [o for o in schema[key] if o.get("type") != "null"] or schema[key]
            return schema_instance(options[0], root)
    if "const" in schema:
        return schema["const"]
    if "enum" in schema:
        return schema["enum"][0]
    kind = schema.get("type")
    if kind == "object":
        props = schema.get("properties", {})
        return {k: schema_instance(props[k], root) for k in schema.get("required", props)}
    if kind == "array":
        count = max(1, schema.get("minItems", 0))
        if "maxItems" in schema:
            count = min(count, schema["maxItems"])
        return [schema_instance(schema.get("items", {}), root) for _ in range(count)]
    if kind == "integer":
        return schema.get("minimum", 1)
    if kind == "number":
        return schema.get("minimum", 0.0)
    if kind == "boolean":
        return True
    if schema.get("format") == "date":
        return "2024-11-08"
    if schema.get("format") == "date-time":
        return "2024-11-08T10:00:00"
    return "x" * max(1, schema.get("minLength", 1))


def schema_reply(request: dict[str, Any]) -> Reply:
    """A 200 whose message satisfies the request's JSON schema (``"ok"`` without one)."""
    fmt = request.get("response_format") or {}
    schema = (fmt.get("json_schema") or {}).get("schema") or fmt.get("schema")
    return Reply.json(schema_instance(schema)) if schema else Reply.text("ok")


class _Server(ThreadingHTTPServer):
    # The default listen backlog of 5 drops the SYNs of a burst of new connections
    # (a batch opening 16 at once), which then wait for a TCP retransmission (0.2-1 s);
    # real endpoints listen with a backlog of hundreds.
    request_queue_size = 128


class Loopback:
    """A threaded HTTP server on 127.0.0.1 (a free port) serving ``handler``, from the
    ``with`` block's start to its end."""

    def _serve(self, handler: type[BaseHTTPRequestHandler]) -> None:
        self._httpd = _Server(("127.0.0.1", 0), handler)
        self._httpd.daemon_threads = True
        self._thread = threading.Thread(target=self._httpd.serve_forever, args=(0.05,), daemon=True)

    @property
    def base_url(self) -> str:
        """The ``/v1`` base URL to give the client."""
        host, port = self._httpd.server_address[:2]
        return f"http://{host!s}:{port}/v1"

    def __enter__(self) -> Self:
        self._thread.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()
        self._thread.join(timeout=5)


class FakeOpenAI(Loopback):
    """Serve a script of replies; ``requests`` keeps every JSON request body.

    With a ``responder``, a request the script does not cover is answered by
    ``responder(request_body)`` instead of a 500.
    """

    def __init__(
        self,
        script: list[Reply],
        *,
        max_requests: int = 50,
        responder: Callable[[dict[str, Any]], Reply] | None = None,
    ) -> None:
        self.script = list(script)
        self.responder = responder
        self.requests: list[dict[str, Any]] = []
        self.paths: list[str] = []
        self.headers: list[dict[str, str]] = []
        """Each request's headers, names in lower case."""
        self.in_flight = 0
        self.peak_in_flight = 0
        """Most requests the server was answering at one time."""
        self.max_requests = max_requests
        self._lock = threading.Lock()
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"  # keep-alive, as real endpoints do
            disable_nagle_algorithm = True

            def log_message(self, format: str, *args: Any) -> None:
                pass

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                payload = self.rfile.read(length)
                with server._lock:
                    server.in_flight += 1
                    server.peak_in_flight = max(server.peak_in_flight, server.in_flight)
                try:
                    self._answer(payload)
                finally:
                    with server._lock:
                        server.in_flight -= 1

            def _answer(self, payload: bytes) -> None:
                with server._lock:
                    if len(server.requests) >= server.max_requests:
                        reply = Reply(status=500, body={"error": {"message": "too many"}})
                    else:
                        request = json.loads(payload or b"{}")
                        server.requests.append(request)
                        server.paths.append(self.path)
                        server.headers.append({k.lower(): v for k, v in self.headers.items()})
                        if server.script:
                            reply = server.script.pop(0)
                        elif server.responder is not None:
                            reply = server.responder(request)
                        else:
                            reply = Reply(status=500, body={"error": {"message": "script ended"}})
                if reply.delay:
                    time.sleep(reply.delay)
                if reply.drop:
                    self.connection.shutdown(socket.SHUT_RDWR)
                    self.close_connection = True
                    return
                data = reply.raw if reply.raw is not None else json.dumps(reply.body).encode()
                if reply.trickle:
                    self._trickle(reply, data)
                    return
                try:
                    self.send_response(reply.status)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(data)))
                    for key, value in reply.headers.items():
                        self.send_header(key, value)
                    self.end_headers()
                    self.wfile.write(data)
                except (BrokenPipeError, ConnectionResetError):
                    pass

            def _trickle(self, reply: Reply, data: bytes) -> None:
                head = (
                    f"HTTP/1.1 {reply.status} X\r\nContent-Type: application/json\r\n"
                    f"Content-Length: {len(data)}\r\n\r\n"
                ).encode()
                self.close_connection = True
                for i in range(len(head) + len(data)):
                    try:
                        self.wfile.write((head + data)[i : i + 1])
                        self.wfile.flush()
                    except OSError:
                        return  # the client gave up
                    time.sleep(reply.trickle)

        self._serve(Handler)


def _serve_main() -> None:
    """``python -m tests.support.fake_openai --delay S --count N``: serve N copies of a
    fixed JSON answer in a separate process (benchmarks), print the base URL, and stop
    after N requests or when stdin closes."""
    import argparse
    import sys

    parser = argparse.ArgumentParser()
    parser.add_argument("--delay", type=float, default=0.0)
    parser.add_argument("--count", type=int, required=True)
    parser.add_argument("--content", default='{"sentences": [1], "answer": "no"}')
    args = parser.parse_args()
    script = [Reply.text(args.content, delay=args.delay)] * args.count
    with FakeOpenAI(script, max_requests=args.count) as server:
        print(server.base_url, flush=True)
        sys.stdin.read()


if __name__ == "__main__":
    _serve_main()
