"""One HTTP request and its answer, as the fake org sees them, independent of any server.

Every way of serving the org (the httpx transport, the ASGI app, the uvicorn
server) turns its request into a :class:`FakeRequest`, passes it to
:meth:`FakeOrg.handle() <sfbulk_sdk.testing.FakeOrg.handle>` (the router in
:mod:`sfbulk_sdk.testing.router`) and sends the :class:`FakeResponse` back.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field

__all__ = ["JSON", "XML", "FakeRequest", "FakeResponse"]

XML = "application/xml"
JSON = "application/json"


@dataclass
class FakeRequest:
    """One HTTP request as the fake org sees it (header names in lower case)."""

    method: str
    path: str
    headers: Mapping[str, str] = field(default_factory=dict)
    body: bytes = b""
    base_url: str = ""
    query: str = ""

    def __post_init__(self) -> None:
        self.headers = {name.lower(): value for name, value in self.headers.items()}

    def __repr__(self) -> str:  # never show headers: they carry the session id
        return f"FakeRequest({self.method} {self.path}, {len(self.body)} bytes)"

    def header(self, name: str) -> str | None:
        """A header value (name matched case-insensitively)."""
        return self.headers.get(name.lower())

    @property
    def media_type(self) -> str:
        """The request's Content-Type without parameters, lower case ("" if none)."""
        return (self.header("content-type") or "").split(";", 1)[0].strip().lower()


@dataclass
class FakeResponse:
    """The answer: status, headers and body, or an instruction to drop the connection."""

    status: int
    body: bytes = b""
    headers: list[tuple[str, str]] = field(default_factory=list)
    drop_connection: bool = False

    @property
    def content_type(self) -> str | None:
        """The Content-Type header."""
        for name, value in self.headers:
            if name.lower() == "content-type":
                return value
        return None

    @classmethod
    def text(cls, status: int, body: str | bytes, content_type: str) -> FakeResponse:
        """A response with a body and an exact Content-Type."""
        data = body.encode() if isinstance(body, str) else body
        return cls(status, data, [("Content-Type", content_type)])

    @classmethod
    def json(cls, status: int, data: object) -> FakeResponse:
        """A JSON response (the controls and the REST-style errors)."""
        return cls.text(status, json.dumps(data), JSON)
