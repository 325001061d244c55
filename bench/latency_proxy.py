"""An HTTP proxy that adds a fixed network delay, to measure round trips on a local emulator.

An emulator on 127.0.0.1 answers in microseconds, so a request count says little about
how long an operation waits on a real network, where requests that depend on each other
cost a round trip each and concurrent ones share theirs. This proxy sits between a client
and the emulator and holds every chunk of bytes for half the round-trip time in each
direction on the client's side (in order, without holding up the chunks behind it), and a
new connection's first bytes one round trip more, as a TCP handshake would. An operation's
wall time through the proxy, minus its wall time through a proxy without delay, divided by
the round-trip time, is then the number of round trips it waits for one after another.

It speaks HTTP/1.1 (plain HTTP only) to both sides: moto's server closes the connection
after every answer (``Connection: close``), which a real S3 endpoint does not, so the proxy
keeps the client's connection open (as S3 would) and sends each request upstream on a new
connection, with no delay on that side. A client that reuses its connections is then
measured as it would be against S3. It records each request's method, target and headers
and how many connections the client opened: ``Expect: 100-continue`` (a round trip before
the body is sent) and connections that are not reused show up there.

    with LatencyProxy("127.0.0.1", 9000, rtt=0.05) as proxy:
        ...  # point the client at proxy.endpoint
        print(len(proxy.requests), proxy.connections)
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from types import TracebackType

__all__ = ["LatencyProxy", "ProxiedRequest", "sequential_round_trips"]

_CHUNK = 1 << 16


@dataclass
class ProxiedRequest:
    """One HTTP request seen going through the proxy.

    Attributes
    ----------
    method, target : str
        The request line's method and target (path and query).
    headers : dict[str, str]
        The headers, names in lower case.
    connection : int
        Which connection carried it (numbered from 0 in order of opening).
    first : bool
        It was the first request on its connection (it waited for the handshake).
    sent : float
        When the client sent it (``time.monotonic()``, the proxy's delay taken off).
    answered : float
        When its answer reached the client (0 until then).
    """

    method: str
    target: str
    headers: dict[str, str] = field(repr=False)
    connection: int
    first: bool = False
    sent: float = 0.0
    answered: float = 0.0

    @property
    def expects_continue(self) -> bool:
        """Whether the client waits for ``100 Continue`` before sending the body."""
        return self.headers.get("expect", "").lower() == "100-continue"


def sequential_round_trips(requests: list[ProxiedRequest], rtt: float) -> int:
    """Return the longest chain of round trips the client waited for, one after another.

    A request waits for every answer that reached the client before it was sent (give or
    take a quarter of a round trip, for the client's own work); its chain is one round trip
    longer than the longest of those, one more if it opened its connection (the handshake)
    and one more if it waited for ``100 Continue``. Unlike a difference of wall times, this
    does not move with the client's CPU time.
    """
    slack = rtt / 4
    chains: list[tuple[float, int]] = []  # (answered, chain) of each request so far
    longest = 0
    for request in sorted(requests, key=lambda r: r.sent):
        before = max(
            (chain for answered, chain in chains if answered <= request.sent + slack), default=0
        )
        chain = before + 1 + request.first + request.expects_continue
        chains.append((request.answered, chain))
        longest = max(longest, chain)
    return longest


class LatencyProxy:
    """Forward TCP connections to ``host:port`` with ``rtt`` seconds of round-trip delay.

    Runs its own event loop on a thread from :meth:`start` (or ``with``) to :meth:`stop`.

    Parameters
    ----------
    host, port : str, int
        Where connections are forwarded (the emulator).
    rtt : float
        The round-trip time added, in seconds: half in each direction.
    connect_rtt : bool, optional
        A new connection's first bytes wait one round trip more (a TCP handshake).
        Default ``True``.

    Attributes
    ----------
    requests : list[ProxiedRequest]
        The HTTP requests forwarded so far, in the order they started.
    connections : int
        How many connections were accepted so far.
    """

    def __init__(self, host: str, port: int, rtt: float, connect_rtt: bool = True) -> None:
        self.host = host
        self.port = port
        self.rtt = rtt
        self.connect_rtt = connect_rtt
        self.requests: list[ProxiedRequest] = []
        self.connections = 0
        self.listen_port = 0
        self._loop: asyncio.AbstractEventLoop | None = None
        self._server: asyncio.Server | None = None
        self._thread: threading.Thread | None = None

    @property
    def endpoint(self) -> str:
        """The proxy's URL, ``http://127.0.0.1:<port>``."""
        return f"http://127.0.0.1:{self.listen_port}"

    def reset(self) -> None:
        """Forget the requests and connections counted so far."""
        self.requests = []
        self.connections = 0

    def start(self) -> LatencyProxy:
        """Start listening on a free port of 127.0.0.1; return the proxy."""
        ready = threading.Event()

        def run() -> None:
            loop = asyncio.new_event_loop()
            self._loop = loop
            self._server = loop.run_until_complete(
                asyncio.start_server(self._serve, "127.0.0.1", 0)
            )
            self.listen_port = self._server.sockets[0].getsockname()[1]
            ready.set()
            loop.run_forever()
            self._server.close()
            loop.run_until_complete(self._server.wait_closed())
            loop.close()

        self._thread = threading.Thread(target=run, name="latency-proxy", daemon=True)
        self._thread.start()
        ready.wait()
        return self

    def stop(self) -> None:
        """Stop listening and close the loop."""
        if self._loop is not None and self._thread is not None:
            self._loop.call_soon_threadsafe(self._loop.stop)
            self._thread.join(timeout=10)

    def __enter__(self) -> LatencyProxy:
        return self.start()

    def __exit__(
        self,
        kind: type[BaseException] | None,
        value: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()

    async def _serve(self, client_r: asyncio.StreamReader, client_w: asyncio.StreamWriter) -> None:
        number = self.connections
        self.connections += 1
        link = _DelayedLink(client_r, client_w, self.rtt, self.connect_rtt)
        pump = asyncio.ensure_future(link.pump())
        try:
            while await self._exchange(link, number):
                pass
        except (ConnectionError, OSError, asyncio.IncompleteReadError, ValueError):
            pass
        finally:
            await link.close()
            pump.cancel()

    async def _exchange(self, link: _DelayedLink, number: int) -> bool:
        """Forward one request on a new upstream connection; ``False`` once the client left."""
        try:
            head = await link.inbound.readuntil(b"\r\n\r\n")
        except asyncio.IncompleteReadError:
            return False
        method, target, headers = _parse_head(head)
        sent = time.monotonic() - link.delay - (link.handshake if link.first else 0.0)
        request = ProxiedRequest(method, target, headers, number, link.first, sent)
        link.first = False
        self.requests.append(request)
        up_r, up_w = await asyncio.open_connection(self.host, self.port)
        try:
            up_w.write(head)
            body = asyncio.ensure_future(_copy_body(link.inbound, up_w, headers))
            while True:  # a 100 Continue comes first when the client asked for one
                response = await up_r.readuntil(b"\r\n\r\n")
                status = int(response.split(b" ", 2)[1])
                if status != 100:
                    break
                link.send(response)
            _, _, answer = _parse_head(response)
            if method == "HEAD" or status in (204, 304):
                payload = b""
            else:  # the emulator closes each connection after its answer: read to the end
                payload = await up_r.read()
            request.answered = link.send(_keep_alive(response, answer, payload) + payload)
            await body
        finally:
            up_w.close()
        return True


class _DelayedLink:
    """The client's side of a connection, with half a round trip of delay each way."""

    def __init__(
        self,
        reader: asyncio.StreamReader,
        writer: asyncio.StreamWriter,
        rtt: float,
        connect_rtt: bool,
    ) -> None:
        self.reader = reader
        self.writer = writer
        self.delay = rtt / 2
        self.handshake = rtt if connect_rtt else 0.0
        self.first = True
        self.not_before = time.monotonic() + (rtt if connect_rtt else 0.0)
        self.inbound = asyncio.StreamReader(limit=1 << 30)
        self.sending: asyncio.Future[None] | None = None
        self.queue: deque[tuple[float, bytes]] = deque()
        self.wake = asyncio.Event()

    async def pump(self) -> None:
        """Feed the client's bytes to :attr:`inbound`, each chunk after the delay."""
        while True:
            data = await self.reader.read(_CHUNK)
            due = max(time.monotonic(), self.not_before) + self.delay
            wait = due - time.monotonic()
            if wait > 0:
                asyncio.get_running_loop().call_later(wait, self._feed, data)
            else:
                self._feed(data)
            if not data:
                return

    def _feed(self, data: bytes) -> None:
        if data:
            self.inbound.feed_data(data)
        else:
            self.inbound.feed_eof()

    def send(self, data: bytes) -> float:
        """Send ``data`` to the client after the delay; return when it will arrive."""
        due = time.monotonic() + self.delay
        self.queue.append((due, data))
        self.wake.set()
        if self.sending is None:
            self.sending = asyncio.ensure_future(self._send())
        return due

    async def _send(self) -> None:
        while True:
            while not self.queue:
                self.wake.clear()
                await self.wake.wait()
            due, data = self.queue.popleft()
            if not data:
                return
            wait = due - time.monotonic()
            if wait > 0:
                await asyncio.sleep(wait)
            self.writer.write(data)
            await self.writer.drain()

    async def close(self) -> None:
        """Send what is queued, then close the client's connection."""
        if self.sending is not None:
            self.send(b"")
            with contextlib.suppress(ConnectionError, OSError):
                await self.sending
        self.writer.close()


def _parse_head(head: bytes) -> tuple[str, str, dict[str, str]]:
    """Return a request's method and target (or a response's version and status) and headers."""
    line, *rest = head.decode("latin-1").rstrip("\r\n").split("\r\n")
    first, second, *_ = [*line.split(" "), ""]
    headers = {}
    for item in rest:
        key, _, value = item.partition(":")
        headers[key.strip().lower()] = value.strip()
    return first, second, headers


async def _copy_body(
    source: asyncio.StreamReader, sink: asyncio.StreamWriter, headers: dict[str, str]
) -> None:
    """Copy one request body (by its length, or chunk by chunk) from the client upstream."""
    if "chunked" in headers.get("transfer-encoding", "").lower():
        while True:
            line = await source.readuntil(b"\r\n")
            size = int(line.split(b";")[0], 16)
            sink.write(line + await source.readexactly(size + 2) if size else line)
            if not size:
                while (trailer := await source.readuntil(b"\r\n")) != b"\r\n":
                    sink.write(trailer)
                sink.write(b"\r\n")
                break
    else:
        left = int(headers.get("content-length", "0") or 0)
        while left:
            data = await source.read(min(left, _CHUNK))
            if not data:
                raise ConnectionError("the client closed the connection mid-body")
            sink.write(data)
            left -= len(data)
    await sink.drain()


def _keep_alive(head: bytes, headers: dict[str, str], payload: bytes) -> bytes:
    """Rewrite a response head to keep the client's connection open (with the body's length)."""
    lines = head.decode("latin-1").rstrip("\r\n").split("\r\n")
    kept = [lines[0]] + [
        line
        for line in lines[1:]
        if line.partition(":")[0].strip().lower() not in ("connection", "content-length")
        or (line.lower().startswith("content-length") and not payload)
    ]
    if payload and "chunked" not in headers.get("transfer-encoding", "").lower():
        kept.append(f"Content-Length: {len(payload)}")
    kept.append("Connection: keep-alive")
    return ("\r\n".join(kept) + "\r\n\r\n").encode("latin-1")
