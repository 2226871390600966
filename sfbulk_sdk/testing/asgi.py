"""The fake org as a Starlette ASGI application (needs the ``fake-org`` extra).

``create_app(org)`` sends every path to :meth:`FakeOrg.handle()
<sfbulk_sdk.testing.FakeOrg.handle>`. A fault with
``drop_connection`` sends the response head and then fails the request, so a
real server (uvicorn) closes the connection before any body is sent.
"""

from __future__ import annotations

import anyio
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route
from starlette.types import Receive, Scope, Send

from .http import FakeRequest
from .org import FakeOrg

__all__ = ["ConnectionDropped", "create_app"]

_METHODS = ["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"]


class ConnectionDropped(ConnectionResetError):
    """Raised inside the app to make the server hang up (an injected fault)."""


class _DroppedResponse(Response):
    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await send(
            {
                "type": "http.response.start",
                "status": self.status_code,
                "headers": [(b"content-length", b"65536"), (b"content-type", b"application/xml")],
            }
        )
        raise ConnectionDropped("the fake org dropped the connection (injected fault)")


def create_app(org: FakeOrg) -> Starlette:
    """A Starlette app answering every request from ``org``."""

    async def endpoint(request: Request) -> Response:
        latency = org.state.settings.latency
        if latency > 0:
            await anyio.sleep(latency)
        body = await request.body()
        host = request.headers.get("host") or request.url.netloc
        fake = FakeRequest(
            method=request.method,
            path=request.url.path,
            headers={k.lower(): v for k, v in request.headers.items()},
            body=body,
            base_url=f"{request.url.scheme}://{host}",
            query=request.url.query,
        )
        answer = org.handle(fake)
        if answer.drop_connection:
            return _DroppedResponse(status_code=answer.status)
        return Response(
            content=answer.body, status_code=answer.status, headers=dict(answer.headers)
        )

    return Starlette(routes=[Route("/{path:path}", endpoint, methods=_METHODS)])
