"""The wall-clock limit of HTTP requests (``newsqa.llm.deadline``) against fake sockets and a
fake clock: every connect, read and write gets at most the time left."""

from __future__ import annotations

import ssl
from typing import Any

import httpcore2
import httpx2
import pytest

from newsqa.llm import deadline
from newsqa.llm.deadline import DeadlineTransport, remaining, request_limit


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Clock:
    fake = Clock()
    monkeypatch.setattr("newsqa.llm.deadline.time.monotonic", fake)
    return fake


class FakeStream(httpcore2.NetworkStream):
    """Records each call with the timeout it was given."""

    def __init__(self, calls: list[tuple[Any, ...]]) -> None:
        self.calls = calls

    def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        self.calls.append(("read", max_bytes, timeout))
        return b"data"

    def write(self, buffer: bytes, timeout: float | None = None) -> None:
        self.calls.append(("write", buffer, timeout))

    def close(self) -> None:
        self.calls.append(("close",))

    def start_tls(
        self,
        ssl_context: ssl.SSLContext,
        server_hostname: str | None = None,
        timeout: float | None = None,
    ) -> httpcore2.NetworkStream:
        self.calls.append(("start_tls", ssl_context.protocol, server_hostname, timeout))
        return FakeStream(self.calls)

    def get_extra_info(self, info: str) -> Any:
        return f"info:{info}"


class FakeBackend(httpcore2.NetworkBackend):
    def __init__(self) -> None:
        self.calls: list[tuple[Any, ...]] = []

    def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Any = None,
    ) -> httpcore2.NetworkStream:
        self.calls.append(("tcp", host, port, timeout, local_address, socket_options))
        return FakeStream(self.calls)

    def connect_unix_socket(
        self, path: str, timeout: float | None = None, socket_options: Any = None
    ) -> httpcore2.NetworkStream:
        self.calls.append(("unix", path, timeout, socket_options))
        return FakeStream(self.calls)

    def sleep(self, seconds: float) -> None:
        self.calls.append(("sleep", seconds))


def _backend() -> tuple[Any, FakeBackend]:
    backend = deadline._Backend()
    fake = FakeBackend()
    backend._inner = fake  # type: ignore[assignment]
    return backend, fake


def test_without_a_limit_timeouts_pass_through(clock: Clock) -> None:
    backend, fake = _backend()
    assert remaining() is None
    stream = backend.connect_tcp("example.org", 443, 5.0, "10.0.0.1", [(1, 2, 3)])
    stream.read(10, None)
    stream.write(b"x", 2.0)
    assert fake.calls == [
        ("tcp", "example.org", 443, 5.0, "10.0.0.1", [(1, 2, 3)]),
        ("read", 10, None),
        ("write", b"x", 2.0),
    ]


def test_every_socket_operation_gets_at_most_the_time_left(clock: Clock) -> None:
    backend, fake = _backend()
    context = ssl.create_default_context()
    with request_limit(3.0):
        assert remaining() == 3.0
        stream = backend.connect_tcp("example.org", 443, 5.0)  # 3 s left
        clock.now += 1.0
        tls = stream.start_tls(context, "example.org", None)  # 2 s left, no own timeout
        stream.start_tls(context, "example.org", 1.5)  # its own timeout is shorter
        clock.now += 0.5
        tls.write(b"GET", 1.0)
        tls.read(4096, 10.0)
        tls.read(1, 0.5)  # its own timeout is shorter
        unix = backend.connect_unix_socket("/tmp/socket", None, [(4, 5, 6)])
        backend.connect_unix_socket("/tmp/socket", 0.5)
        backend.sleep(0.25)
        tls.close()
        assert tls.get_extra_info("peer") == "info:peer"
    assert remaining() is None  # the limit ends with the block
    assert fake.calls == [
        ("tcp", "example.org", 443, 3.0, None, None),
        ("start_tls", context.protocol, "example.org", 2.0),
        ("start_tls", context.protocol, "example.org", 1.5),
        ("write", b"GET", 1.0),
        ("read", 4096, 1.5),
        ("read", 1, 0.5),
        ("unix", "/tmp/socket", 1.5, [(4, 5, 6)]),
        ("unix", "/tmp/socket", 0.5, None),
        ("sleep", 0.25),
        ("close",),
    ]
    assert isinstance(unix, deadline._Stream)


@pytest.mark.parametrize(
    ("operation", "error"),
    [
        ("tcp", httpcore2.ConnectTimeout),
        ("unix", httpcore2.ConnectTimeout),
        ("tls", httpcore2.ConnectTimeout),
        ("read", httpcore2.ReadTimeout),
        ("write", httpcore2.WriteTimeout),
    ],
)
def test_once_the_time_is_up_each_operation_times_out(
    clock: Clock, operation: str, error: type[Exception]
) -> None:
    backend, fake = _backend()
    with request_limit(1.0):
        stream = backend.connect_tcp("example.org", 443, None)
        clock.now += 1.0  # exactly the end: nothing left
        with pytest.raises(error) as info:
            if operation == "tcp":
                backend.connect_tcp("example.org", 443, None)
            elif operation == "unix":
                backend.connect_unix_socket("/tmp/socket")
            elif operation == "tls":
                stream.start_tls(ssl.create_default_context(), "example.org")
            elif operation == "read":
                stream.read(10)
            else:
                stream.write(b"x")
    assert str(info.value) == "the request's time limit passed"
    assert len(fake.calls) == 1  # only the first connect reached the socket


def test_the_transport_pools_connections_as_asked() -> None:
    limits = httpx2.Limits(max_connections=7, max_keepalive_connections=3, keepalive_expiry=2.5)
    pool = DeadlineTransport(limits)._pool
    assert (pool._max_connections, pool._max_keepalive_connections, pool._keepalive_expiry) == (
        7,
        3,
        2.5,
    )
    assert isinstance(pool._network_backend, deadline._Backend)
    assert isinstance(pool._ssl_context, ssl.SSLContext)
