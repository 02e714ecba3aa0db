"""One HTTP fetch of a feed, bounded in every direction, classified into a fixed reason on failure.

- Redirects are followed by hand (at most ``max_redirects``, loops detected) so that a chain of
  permanent redirects (301/308) from the stored URL can be recorded and the stored URL updated.
- The body is read in chunks and decompressed here, not by aiohttp, counting both the bytes on
  the wire (``max_compressed``) and the bytes after gzip/deflate/brotli (``max_body``): a
  compression bomb is stopped after ``max_body`` bytes of output, never inflated in full.
  Decompression runs in a worker thread, one wire chunk at a time (zlib and brotli release the
  GIL while they inflate): a bomb costs that thread up to ``max_body`` bytes of inflating, not
  the event loop, so the other feeds' requests go on meanwhile.
- Timeouts: connect, between reads, and total (a server dripping one byte a second is cut at the
  total).
"""

from __future__ import annotations

import asyncio
import socket
import ssl
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from urllib.parse import urljoin

import aiohttp
from aiohttp.abc import AbstractResolver, ResolveResult
from multidict import CIMultiDict

from pipeline.core.outcomes import PERMANENT_REDIRECTS, REDIRECTS

try:  # brotli is optional: without it we do not advertise "br"
    import brotli
except ImportError:  # pragma: no cover - depends on the environment
    brotli = None

CHUNK = 64 * 1024
#: Output produced per decompression step, so a bomb is checked every megabyte.
INFLATE_STEP = 1024 * 1024
#: A body larger than this is joined from its chunks in a worker thread, not on the event loop.
JOIN_IN_THREAD = 1024 * 1024


class FetchError(Exception):
    """A fetch that produced no usable response; ``reason`` is one of the fixed reasons."""

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason
        self.message = message


@dataclass(frozen=True, slots=True)
class Limits:
    total_timeout: float = 30.0
    connect_timeout: float = 10.0
    read_timeout: float = 20.0
    max_compressed: int = 5 * 1024 * 1024
    max_body: int = 10 * 1024 * 1024
    max_redirects: int = 5


@dataclass(slots=True)
class FetchResult:
    status: int
    url: str
    #: Case-insensitive, as HTTP headers are.
    headers: CIMultiDict[str]
    body: bytes = b""
    #: (status, location) of each redirect followed, in order.
    redirects: list[tuple[int, str]] = field(default_factory=list)
    compressed_bytes: int = 0

    @property
    def permanent_url(self) -> str | None:
        """The URL to store from now on: the end of the leading run of permanent redirects."""
        moved = None
        for code, location in self.redirects:
            if code not in PERMANENT_REDIRECTS:
                break
            moved = location
        return moved


def accept_encoding() -> str:
    return "gzip, deflate, br" if brotli is not None else "gzip, deflate"


class _Inflater:
    """Incremental decoder for one Content-Encoding, bounded output per step."""

    def __init__(self, encoding: str) -> None:
        self.encoding = encoding
        if encoding in ("gzip", "x-gzip"):
            self._z = zlib.decompressobj(16 + zlib.MAX_WBITS)
        elif encoding == "deflate":
            self._z = zlib.decompressobj(zlib.MAX_WBITS)  # zlib wrapper; raw deflate on retry
            self._raw_fallback = True
        elif encoding == "br" and brotli is not None:
            self._b = brotli.Decompressor()
        else:
            raise FetchError("encoding", f"unsupported Content-Encoding {encoding!r}")

    def pieces(self, data: bytes) -> Iterator[bytes]:
        """Decoded pieces of at most INFLATE_STEP bytes, lazily: the caller can stop a bomb."""
        if self.encoding == "br":
            yield self._b.process(data, output_buffer_limit=INFLATE_STEP)
            # Drain what the input already holds; can_accept_more_data() turns True before all
            # of it is out, so stop only when a step yields nothing.
            while not self._b.is_finished():
                piece = self._b.process(b"", output_buffer_limit=INFLATE_STEP)
                if not piece:
                    break
                yield piece
            return
        yield from self._feed_zlib_lazy(data)

    def _feed_zlib_lazy(self, data: bytes) -> Iterator[bytes]:
        try:
            piece = self._z.decompress(data, INFLATE_STEP)
        except zlib.error:
            if self.encoding == "deflate" and getattr(self, "_raw_fallback", False):
                self._z = zlib.decompressobj(-zlib.MAX_WBITS)
                piece = self._z.decompress(data, INFLATE_STEP)
            else:
                raise
        self._raw_fallback = False
        yield piece
        while self._z.unconsumed_tail:
            yield self._z.decompress(self._z.unconsumed_tail, INFLATE_STEP)


async def read_body(resp: aiohttp.ClientResponse, limits: Limits) -> tuple[bytes, int]:
    """The decoded body and the number of bytes on the wire; FetchError("too_large") past a cap."""
    declared = resp.content_length
    if declared is not None and declared > limits.max_compressed:
        raise FetchError(
            "too_large", f"declared {declared} bytes, over the {limits.max_compressed}-byte limit"
        )
    codings = [
        c.strip().lower()
        for c in resp.headers.get("Content-Encoding", "").split(",")
        if c.strip() and c.strip().lower() != "identity"
    ]
    # Applied in order, so decoded in reverse; one layer is the norm, two are rare, more absurd.
    if len(codings) > 2:
        raise FetchError("encoding", f"too many Content-Encodings: {codings}")
    inflaters = [_Inflater(c) for c in reversed(codings)]
    chunks: list[bytes] = []
    wire = 0
    size = 0

    def push(data: bytes, depth: int) -> None:
        nonlocal size
        if depth == len(inflaters):
            size += len(data)
            if size > limits.max_body:
                raise FetchError(
                    "too_large", f"over the {limits.max_body}-byte limit once decompressed"
                )
            chunks.append(data)
            return
        for piece in inflaters[depth].pieces(data):
            if piece:
                push(piece, depth + 1)

    try:
        async for chunk in resp.content.iter_chunked(CHUNK):
            wire += len(chunk)
            if wire > limits.max_compressed:
                raise FetchError("too_large", f"over the {limits.max_compressed}-byte limit")
            if inflaters:  # chunk by chunk, in order: the inflaters keep state between chunks
                await asyncio.to_thread(push, chunk, 0)
            else:
                push(chunk, 0)
    except (zlib.error, ValueError) as exc:
        raise FetchError("encoding", f"cannot decode the body: {exc}"[:300]) from None
    except Exception as exc:
        if brotli is not None and isinstance(exc, brotli.error):
            raise FetchError("encoding", f"cannot decode the body: {exc}"[:300]) from None
        raise
    if size > JOIN_IN_THREAD:  # copying megabytes: bytes.join releases the GIL for it
        return await asyncio.to_thread(b"".join, chunks), wire
    return b"".join(chunks), wire


def start_trace() -> aiohttp.TraceConfig:
    """A session trace that tells ``fetch``'s ``on_start`` when the request is written: aiohttp
    calls it once the request's headers are serialised, right before they go to the socket."""

    async def headers_ready(
        session: aiohttp.ClientSession, context: object, params: object
    ) -> None:
        on_start = getattr(context, "trace_request_ctx", None)
        if callable(on_start):
            on_start()

    trace = aiohttp.TraceConfig()
    trace.on_request_headers_sent.append(headers_ready)
    return trace


async def fetch(
    session: aiohttp.ClientSession,
    url: str,
    headers: dict[str, str],
    limits: Limits,
    on_start: Callable[[], None] | None = None,
) -> FetchResult:
    """GET ``url`` following redirects by hand; raises FetchError with a fixed reason.

    ``on_start`` is called just before the first request is written (the session needs
    ``start_trace()``), not for redirects."""
    timeout = aiohttp.ClientTimeout(
        total=limits.total_timeout,
        sock_connect=limits.connect_timeout,
        sock_read=limits.read_timeout,
    )
    redirects: list[tuple[int, str]] = []
    seen = {url}
    current = url
    try:
        async with asyncio.timeout(limits.total_timeout):
            while True:
                async with session.get(
                    current,
                    headers=headers,
                    allow_redirects=False,
                    timeout=timeout,
                    auto_decompress=False,
                    trace_request_ctx=on_start if not redirects else None,
                ) as resp:
                    location = resp.headers.get("Location")
                    if resp.status in REDIRECTS and location:
                        target = urljoin(current, location.strip())
                        if not target.startswith(("http://", "https://")):
                            raise FetchError("redirects", f"redirect to {target[:200]!r}")
                        redirects.append((resp.status, target))
                        if target in seen:
                            raise FetchError("redirects", f"redirect loop at {target[:200]}")
                        if len(redirects) > limits.max_redirects:
                            raise FetchError(
                                "redirects", f"more than {limits.max_redirects} redirects"
                            )
                        seen.add(target)
                        current = target
                        continue
                    result = FetchResult(
                        status=resp.status,
                        url=current,
                        headers=CIMultiDict(resp.headers),
                        redirects=redirects,
                    )
                    if resp.status == 200:
                        result.body, result.compressed_bytes = await read_body(resp, limits)
                    return result
    except FetchError:
        raise
    except aiohttp.ServerTimeoutError as exc:  # connect or read (silence) timeout, by aiohttp
        raise FetchError("timeout", str(exc)[:300] or "timed out") from None
    except TimeoutError:
        message = f"no complete answer within {limits.total_timeout:g} s"
        raise FetchError("timeout", message) from None
    except aiohttp.ClientConnectorCertificateError as exc:
        raise FetchError("tls", str(exc)[:300]) from None
    except aiohttp.ClientSSLError as exc:
        raise FetchError("tls", str(exc)[:300]) from None
    except aiohttp.ClientConnectorError as exc:
        if isinstance(exc.os_error, socket.gaierror) or type(exc).__name__.endswith("DNSError"):
            raise FetchError("dns", str(exc)[:300]) from None
        raise FetchError("connect", str(exc)[:300]) from None
    except (aiohttp.ServerDisconnectedError, aiohttp.ClientPayloadError) as exc:
        raise FetchError("reset", str(exc)[:300] or "connection closed mid-answer") from None
    except aiohttp.ClientResponseError as exc:
        raise FetchError("reset", f"malformed answer: {exc}"[:300]) from None
    except ssl.SSLError as exc:
        raise FetchError("tls", str(exc)[:300]) from None
    except (aiohttp.ClientOSError, ConnectionError) as exc:
        raise FetchError("reset", str(exc)[:300] or "connection reset") from None
    except aiohttp.InvalidURL as exc:
        raise FetchError("connect", f"invalid URL: {exc}"[:300]) from None


def parse_resolve_table(spec: str) -> dict[str, str]:
    """ "a.test=127.0.0.1,.farm.test=127.0.0.1" -> {"a.test": "127.0.0.1", ".farm.test": …}."""
    table = {}
    for item in spec.split(","):
        name, _, address = item.strip().partition("=")
        if name.strip() and address.strip():
            table[name.strip().lower()] = address.strip()
    return table


class StaticResolver(AbstractResolver):
    """Resolves configured names (exact, or ``.suffix``) to fixed addresses; others via DNS."""

    def __init__(self, table: dict[str, str]) -> None:
        from aiohttp.resolver import DefaultResolver

        self._table = {k.lower(): v for k, v in table.items()}
        self._fallback = DefaultResolver()

    def _lookup(self, host: str) -> str | None:
        host = host.lower().rstrip(".")
        if host in self._table:
            return self._table[host]
        for name, address in self._table.items():
            if name.startswith(".") and (host.endswith(name) or host == name[1:]):
                return address
        return None

    async def resolve(
        self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET
    ) -> list[ResolveResult]:
        address = self._lookup(host)
        if address is None:
            return await self._fallback.resolve(host, port, family)
        fam = socket.AF_INET6 if ":" in address else socket.AF_INET
        return [
            {
                "hostname": host,
                "host": address,
                "port": port,
                "family": fam,
                "proto": 0,
                "flags": socket.AI_NUMERICHOST,
            }
        ]

    async def close(self) -> None:
        await self._fallback.close()
