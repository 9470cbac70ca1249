"""Fetch a web resource for a source or a reader's link: bounded, polite, and never inward.

Every address a connection goes to is checked after DNS resolution, inside the resolver the
connector connects with, so a name that resolves to a public address for a check and to
127.0.0.1 for the connection (DNS rebinding) cannot happen: there is only one resolution.
Redirects are followed here, one hop at a time, each hop checked the same way.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from importlib import metadata
from types import MappingProxyType

import aiohttp
from aiohttp.abc import AbstractResolver, ResolveResult
from aiohttp.resolver import DefaultResolver
from yarl import URL

MAX_REDIRECTS = 5
DEFAULT_ACCEPT = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"
_REDIRECTS = frozenset({301, 302, 303, 307, 308})
_PERMANENT = frozenset({301, 308})
_READ_CHUNK = 64 * 1024


def default_user_agent(contact: str | None = None) -> str:
    """`Newswire/<version>`, with `(+contact)` when a contact URL is given."""
    try:
        version = metadata.version("newswire")
    except metadata.PackageNotFoundError:
        version = "0"
    return f"Newswire/{version}" + (f" (+{contact})" if contact else "")


class FetchError(Exception):
    """A fetch that did not produce a usable answer, with a one-line reason."""

    def __init__(
        self, reason: str, *, status: int | None = None, retry_after: float | None = None
    ) -> None:
        super().__init__(reason)
        self.reason = reason
        self.status = status
        self.retry_after = retry_after


class BlockedAddress(FetchError):
    """The URL leads to an address Newswire must not reach (loopback, private, ...)."""


@dataclass(frozen=True, slots=True)
class FetchResult:
    """A final answer (2xx or 304) and what a poller needs from its headers."""

    status: int
    url: str  # after redirects
    body: bytes
    headers: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}))
    content_type: str | None = None  # the media type alone, lower-cased
    charset: str | None = None  # as the Content-Type header declares it
    etag: str | None = None
    last_modified: str | None = None
    not_modified: bool = False
    permanent_redirect: str | None = None  # where a 301/308 chain from the asked URL ends
    max_age: float | None = None  # seconds, from Cache-Control
    retry_after: float | None = None  # seconds


def address_allowed(address: str) -> bool:
    """Whether an IP address is public: not loopback, private, link-local, reserved, ..."""
    try:
        ip = ipaddress.ip_address(address.split("%", 1)[0])
    except ValueError:
        return False
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped  # ::ffff:127.0.0.1 is 127.0.0.1
    # is_global alone lets some multicast through; the rest is belt and braces.
    return ip.is_global and not (
        ip.is_loopback
        or ip.is_private
        or ip.is_link_local
        or ip.is_multicast
        or ip.is_reserved
        or ip.is_unspecified
    )


class GuardedResolver(AbstractResolver):
    """Resolves through `inner` and keeps only public addresses; none left is BlockedAddress."""

    def __init__(self, inner: AbstractResolver) -> None:
        self._inner = inner

    async def resolve(
        self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET
    ) -> list[ResolveResult]:
        found = await self._inner.resolve(host, port, family)
        allowed = [entry for entry in found if address_allowed(entry["host"])]
        if not allowed:
            raise BlockedAddress(f"{host} resolves to a private or local address: not fetched")
        return allowed

    async def close(self) -> None:
        await self._inner.close()


def parse_max_age(cache_control: str | None) -> float | None:
    """`max-age` seconds from a Cache-Control header (0 for no-cache/no-store)."""
    if not cache_control:
        return None
    age: float | None = None
    for part in cache_control.lower().split(","):
        name, _, value = part.strip().partition("=")
        if name in ("no-cache", "no-store"):
            return 0.0
        if name == "max-age":
            try:
                age = max(0.0, float(value.strip().strip('"')))
            except ValueError:
                continue
    return age


def parse_retry_after(value: str | None, now: datetime | None = None) -> float | None:
    """Seconds to wait from a Retry-After header: a number of seconds or an HTTP date."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - (now or datetime.now(UTC))).total_seconds())


def _split_content_type(value: str | None) -> tuple[str | None, str | None]:
    if not value:
        return None, None
    media, *params = value.split(";")
    charset = None
    for param in params:
        name, _, val = param.strip().partition("=")
        if name.strip().lower() == "charset" and val.strip():
            charset = val.strip().strip("\"'").lower()
    return media.strip().lower() or None, charset


class Fetcher:
    """An HTTP client for sources and readers' links (one per process, closed at the end)."""

    def __init__(
        self,
        *,
        allow_private: bool,
        user_agent: str,
        timeout: float = 20,
        max_bytes: int = 5_000_000,
        per_host: int = 2,
        resolver: AbstractResolver | None = None,
    ) -> None:
        self.allow_private = allow_private
        self.user_agent = user_agent
        self.timeout = timeout
        self.max_bytes = max_bytes
        self.per_host = per_host
        self._resolver = resolver
        self._session: aiohttp.ClientSession | None = None
        self._hosts: dict[str, asyncio.Semaphore] = {}

    def _client(self) -> aiohttp.ClientSession:
        if self._session is None or self._session.closed:
            inner = self._resolver or DefaultResolver()
            resolver = inner if self.allow_private else GuardedResolver(inner)
            connector = aiohttp.TCPConnector(resolver=resolver, limit=100, ttl_dns_cache=60)
            self._session = aiohttp.ClientSession(
                connector=connector,
                headers={"User-Agent": self.user_agent},
                # No cookies carried between sites or polls; no proxy from the environment.
                cookie_jar=aiohttp.DummyCookieJar(),
                trust_env=False,
            )
        return self._session

    async def close(self) -> None:
        """Close the connections."""
        if self._session is not None:
            await self._session.close()
            self._session = None

    async def fetch(
        self,
        url: str,
        *,
        etag: str | None = None,
        last_modified: str | None = None,
        accept: str = DEFAULT_ACCEPT,
    ) -> FetchResult:
        """GET `url` (following up to 5 redirects); raises FetchError with a one-line reason."""
        headers = {"Accept": accept}
        if etag:
            headers["If-None-Match"] = etag
        if last_modified:
            headers["If-Modified-Since"] = last_modified
        current = self._checked(url)
        permanent: str | None = None
        permanent_chain = True
        for _ in range(MAX_REDIRECTS + 1):
            status, location, result = await self._hop(current, headers)
            if location is None:
                assert result is not None
                if permanent is None:
                    return result
                return _with_redirect(result, permanent)
            try:
                joined = str(current.join(URL(location)))
            except (ValueError, TypeError):
                raise FetchError(
                    f"HTTP {status} from {current.host} to a bad Location: {location[:200]}"
                ) from None
            target = self._checked(joined, after=current)
            if status in _PERMANENT and permanent_chain:
                permanent = str(target)
            else:
                permanent_chain = False
            current = target
        raise FetchError(f"more than {MAX_REDIRECTS} redirects from {url}")

    def _checked(self, url: str, *, after: URL | None = None) -> URL:
        """The URL parsed, refused when it is not http(s) or names a blocked IP address."""
        try:
            parsed = URL(url.strip())
        except (ValueError, TypeError):
            raise FetchError(f"not a valid URL: {url[:200]}") from None
        where = f" (redirected from {after})" if after is not None else ""
        if parsed.scheme not in ("http", "https") or not parsed.host:
            raise FetchError(f"only http and https URLs are fetched: {url[:200]}{where}")
        host = parsed.host.strip("[]")
        if not self.allow_private and _is_ip(host) and not address_allowed(host):
            raise BlockedAddress(f"{host} is a private or local address: not fetched{where}")
        return parsed

    def _limit(self, host: str) -> asyncio.Semaphore:
        semaphore = self._hosts.get(host)
        if semaphore is None:
            semaphore = self._hosts[host] = asyncio.Semaphore(self.per_host)
        return semaphore

    async def _hop(
        self, url: URL, headers: dict[str, str]
    ) -> tuple[int, str | None, FetchResult | None]:
        """One request: (status, redirect location, None) or (status, None, final result)."""
        session = self._client()
        async with self._limit(url.host or ""):
            try:
                async with asyncio.timeout(self.timeout):
                    async with session.get(url, headers=headers, allow_redirects=False) as resp:
                        return await self._answer(url, resp)
            except FetchError:
                raise
            except TimeoutError:
                raise FetchError(f"no answer from {url.host} within {self.timeout:g} s") from None
            except aiohttp.ClientConnectorDNSError as exc:
                blocked = _blocked_cause(exc)
                if blocked is not None:
                    raise blocked from None
                raise FetchError(f"cannot resolve {url.host}") from None
            except aiohttp.ClientConnectorError as exc:
                blocked = _blocked_cause(exc)
                if blocked is not None:
                    raise blocked from None
                reason = exc.os_error.strerror or type(exc.os_error).__name__
                raise FetchError(f"cannot connect to {url.host}: {reason}") from None
            except aiohttp.ClientPayloadError:
                raise FetchError(f"broken answer from {url.host}") from None
            except (aiohttp.ClientError, ValueError) as exc:
                blocked = _blocked_cause(exc)
                if blocked is not None:
                    raise blocked from None
                raise FetchError(f"cannot fetch from {url.host}: {_first_line(exc)}") from None

    async def _answer(
        self, url: URL, resp: aiohttp.ClientResponse
    ) -> tuple[int, str | None, FetchResult | None]:
        status = resp.status
        if status in _REDIRECTS:
            location = resp.headers.get("Location")
            if not location:
                raise FetchError(f"HTTP {status} from {url.host} without a Location", status=status)
            return status, location, None
        retry_after = parse_retry_after(resp.headers.get("Retry-After"))
        if status == 304:
            return status, None, self._result(url, resp, b"", retry_after)
        if status >= 400 or status < 200:
            reason = resp.reason or "error"
            raise FetchError(
                f"HTTP {status} {reason} from {url.host}", status=status, retry_after=retry_after
            )
        length = resp.content_length
        if length is not None and length > self.max_bytes:
            raise FetchError(f"answer from {url.host} is over {self.max_bytes:,} bytes")
        chunks: list[bytes] = []
        size = 0
        async for chunk in resp.content.iter_chunked(_READ_CHUNK):
            size += len(chunk)
            if size > self.max_bytes:
                # Counted after decompression: a small gzip bomb is stopped here too.
                raise FetchError(f"answer from {url.host} is over {self.max_bytes:,} bytes")
            chunks.append(chunk)
        return status, None, self._result(url, resp, b"".join(chunks), retry_after)

    @staticmethod
    def _result(
        url: URL, resp: aiohttp.ClientResponse, body: bytes, retry_after: float | None
    ) -> FetchResult:
        content_type, charset = _split_content_type(resp.headers.get("Content-Type"))
        return FetchResult(
            status=resp.status,
            url=str(url),
            body=body,
            headers=MappingProxyType({k.lower(): v for k, v in resp.headers.items()}),
            content_type=content_type,
            charset=charset,
            etag=resp.headers.get("ETag"),
            last_modified=resp.headers.get("Last-Modified"),
            not_modified=resp.status == 304,
            max_age=parse_max_age(resp.headers.get("Cache-Control")),
            retry_after=retry_after,
        )


def _with_redirect(result: FetchResult, permanent: str) -> FetchResult:
    return replace(result, permanent_redirect=permanent)


def _is_ip(host: str) -> bool:
    try:
        ipaddress.ip_address(host.split("%", 1)[0])
    except ValueError:
        return False
    return True


def _blocked_cause(exc: BaseException) -> BlockedAddress | None:
    """The BlockedAddress the resolver raised, however aiohttp wrapped it."""
    seen: BaseException | None = exc
    while seen is not None:
        if isinstance(seen, BlockedAddress):
            return seen
        seen = seen.__cause__ or seen.__context__
    return None


def _first_line(exc: BaseException) -> str:
    return (str(exc).splitlines() or [type(exc).__name__])[0][:200]
