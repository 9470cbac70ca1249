"""An aiohttp transport for python-telegram-bot, used by the delivery worker's bot.

PTB's default transport (httpx) costs 3-7 ms of CPU per request on this machine, which caps
one worker near 250 sends/s; paid broadcast allows 1000/s. PTB supports swapping the
transport (`telegram.request.BaseRequest`): everything above it (Bot methods, the error
mapping to RetryAfter, Forbidden, BadRequest, ...) stays PTB's own.
"""

from __future__ import annotations

import aiohttp
from telegram._utils.defaultvalue import DefaultValue
from telegram._utils.types import ODVInput
from telegram.error import NetworkError, TimedOut
from telegram.request import BaseRequest, RequestData


class AiohttpRequest(BaseRequest):
    """A BaseRequest over one aiohttp session with a bounded connection pool."""

    def __init__(
        self,
        *,
        connection_pool_size: int = 64,
        # PTB's own defaults, so a slow answer times out here as it would with httpx.
        read_timeout: float = 5.0,
        write_timeout: float = 5.0,
        connect_timeout: float = 5.0,
    ) -> None:
        self._pool_size = connection_pool_size
        self._read_timeout = read_timeout
        self._write_timeout = write_timeout
        self._connect_timeout = connect_timeout
        self._session: aiohttp.ClientSession | None = None

    @property
    def read_timeout(self) -> float | None:
        return self._read_timeout

    async def initialize(self) -> None:
        if self._session is None or self._session.closed:
            connector = aiohttp.TCPConnector(limit=self._pool_size, limit_per_host=self._pool_size)
            self._session = aiohttp.ClientSession(connector=connector)

    async def shutdown(self) -> None:
        if self._session is not None and not self._session.closed:
            await self._session.close()
        self._session = None

    async def do_request(
        self,
        url: str,
        method: str,
        request_data: RequestData | None = None,
        read_timeout: ODVInput[float] = BaseRequest.DEFAULT_NONE,
        write_timeout: ODVInput[float] = BaseRequest.DEFAULT_NONE,
        connect_timeout: ODVInput[float] = BaseRequest.DEFAULT_NONE,
        pool_timeout: ODVInput[float] = BaseRequest.DEFAULT_NONE,
    ) -> tuple[int, bytes]:
        if self._session is None or self._session.closed:
            raise RuntimeError("AiohttpRequest is not initialized")
        read = self._read_timeout if isinstance(read_timeout, DefaultValue) else read_timeout
        write = self._write_timeout if isinstance(write_timeout, DefaultValue) else write_timeout
        connect = (
            self._connect_timeout if isinstance(connect_timeout, DefaultValue) else connect_timeout
        )
        # aiohttp has no write timeout of its own: bound the whole exchange instead.
        total = sum(t for t in (connect, write, read) if t is not None) or None
        timeout = aiohttp.ClientTimeout(total=total, sock_connect=connect, sock_read=read)
        data: aiohttp.FormData | dict[str, str] | None = None
        if request_data is not None:
            files = request_data.multipart_data
            if files:
                form = aiohttp.FormData()
                for name, value in request_data.json_parameters.items():
                    form.add_field(name, value)
                for name, part in files.items():
                    filename, content = part[0], part[1]
                    content_type = part[2] if len(part) > 2 else None
                    form.add_field(name, content, filename=filename, content_type=content_type)
                data = form
            else:
                data = request_data.json_parameters
        try:
            async with self._session.request(
                method,
                url,
                data=data,
                headers={"User-Agent": self.USER_AGENT},
                timeout=timeout,
            ) as response:
                return response.status, await response.read()
        except (TimeoutError, aiohttp.ServerTimeoutError) as exc:
            raise TimedOut from exc
        except aiohttp.ClientError as exc:
            raise NetworkError(f"aiohttp.{type(exc).__name__}: {exc}") from exc
