"""The fake org as an httpx transport, for ``httpx.Client`` and ``httpx.AsyncClient`` alike.

>>> org = FakeOrg()
>>> client = httpx.Client(transport=FakeOrgTransport(org), base_url=org.instance_url)

Requests to any host reach the org; the login reply's ``serverUrl`` points at
``instance_url`` (default: the org's). A fault with ``drop_connection`` raises
:class:`httpx.RemoteProtocolError`, as a server hanging up would.
"""

from __future__ import annotations

import time

import anyio
import httpx

from ..core.clock import AsyncSleep, Sleep
from .http import FakeRequest, FakeResponse
from .org import FakeOrg

__all__ = ["FakeOrgTransport"]


class FakeOrgTransport(httpx.BaseTransport, httpx.AsyncBaseTransport):
    """An in-process transport answering from a :class:`~sfbulk_sdk.testing.FakeOrg`.

    ``instance_url`` is what the login reply's ``serverUrl`` points at
    (default: the org's). ``sleep`` / ``async_sleep`` are the seams the org's
    ``latency`` goes through; pass others to observe the delay without waiting.
    """

    def __init__(
        self,
        org: FakeOrg,
        *,
        instance_url: str | None = None,
        sleep: Sleep = time.sleep,
        async_sleep: AsyncSleep = anyio.sleep,
    ) -> None:
        self.org = org
        self.instance_url = (instance_url or org.instance_url).rstrip("/")
        self._sleep = sleep
        self._async_sleep = async_sleep

    def __repr__(self) -> str:
        return f"FakeOrgTransport(instance_url={self.instance_url!r})"

    def _fake_request(self, request: httpx.Request, body: bytes) -> FakeRequest:
        headers = {
            name.decode("latin-1").lower(): value.decode("latin-1")
            for name, value in request.headers.raw
        }
        return FakeRequest(
            method=request.method,
            path=request.url.path,
            headers=headers,
            body=body,
            base_url=self.instance_url,
            query=request.url.query.decode("ascii", "replace"),
        )

    @staticmethod
    def _httpx_response(response: FakeResponse, request: httpx.Request) -> httpx.Response:
        if response.drop_connection:
            raise httpx.RemoteProtocolError(
                "Server disconnected without sending a response.", request=request
            )
        return httpx.Response(
            response.status, headers=response.headers, content=response.body, request=request
        )

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        """Answer a request from ``httpx.Client``."""
        latency = self.org.state.settings.latency
        if latency > 0:
            self._sleep(latency)
        body = request.read()
        return self._httpx_response(self.org.handle(self._fake_request(request, body)), request)

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        """Answer a request from ``httpx.AsyncClient``."""
        latency = self.org.state.settings.latency
        if latency > 0:
            await self._async_sleep(latency)
        body = await request.aread()
        return self._httpx_response(self.org.handle(self._fake_request(request, body)), request)

    def close(self) -> None:
        """Nothing to release."""

    async def aclose(self) -> None:
        """Nothing to release."""
