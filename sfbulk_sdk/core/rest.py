"""REST requests (``/services/data/vXX.X/...``), sans-IO: what Bulk API 2.0 is built on.

A :class:`RestCall` is a request not yet bound to a session, like
:class:`~sfbulk_sdk.core.bulk1.Call`: the client binds it with :meth:`RestCall.build`
for the session it holds at that moment. REST authenticates with
``Authorization: Bearer <session id or access token>`` (spec §3.1), answers JSON
(query results CSV), and reports errors as a JSON array of ``{"errorCode",
"message"}`` in either key order, with a 401 ``INVALID_SESSION_ID`` for an
expired session (§3.5). Every URL is built here, in one place: a results URL
with a double slash is a 404 on the second page (§9).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Generic, TypeVar
from urllib.parse import quote, urlencode, urlsplit

import httpx

from ..errors import InvalidInputError, MalformedReplyError, ProtocolError, SfBulkError
from ..models.session import Session
from .bulk1 import parse_error
from .reconcile_specs import ReconcileSpec

__all__ = ["RestCall", "check_id", "json_body", "parse_empty", "parse_json", "relative_path"]

T_co = TypeVar("T_co", covariant=True)
M = TypeVar("M")

_JSON_MEDIA = "application/json"


@dataclass(frozen=True)
class RestCall(Generic[T_co]):
    """One REST request, not yet bound to a session.

    ``path`` is relative to ``/services/data/v{version}/`` unless it starts with
    ``/`` (a URL path Salesforce handed back, such as a ``nextRecordsUrl``),
    which is used as it is on the session's instance. ``api_version`` pins the
    request to a version (a job's results must be read with the job's own).
    """

    method: str
    path: str
    parse: Callable[[httpx.Response], T_co]
    body: bytes | None = None
    media_type: str | None = None
    headers: Mapping[str, str] = field(default_factory=dict)
    query: Mapping[str, str] = field(default_factory=dict)
    idempotent: bool = True
    api_version: str | None = None
    #: What the request leaves behind, to reconcile a lost reply (see :mod:`.reconcile`).
    reconcile: ReconcileSpec | None = field(default=None, repr=False)

    def url(self, session: Session, api_version: str) -> str:
        """The absolute URL of this call for ``session``."""
        base = session.instance_url.rstrip("/")
        if self.path.startswith("/"):
            url = base + self.path
        else:
            url = f"{base}/services/data/v{self.api_version or api_version}/{self.path}"
        if self.query:
            url += ("&" if "?" in url else "?") + urlencode(self.query)
        return url

    def build(self, session: Session, api_version: str) -> httpx.Request:
        """The :class:`httpx.Request` for ``session`` (read per request, never cached)."""
        headers = {
            "Authorization": f"Bearer {session.session_id.get_secret_value()}",
            "Accept-Encoding": "gzip",
            "Accept": "application/json, text/csv",
            **self.headers,
        }
        if self.media_type is not None:
            headers["Content-Type"] = self.media_type
        return httpx.Request(
            self.method, self.url(session, api_version), headers=headers, content=self.body
        )


def check_id(value: str, what: str = "job id") -> str:
    """A 15- or 18-character Salesforce id, or :class:`InvalidInputError` before any I/O."""
    if not isinstance(value, str) or not value.isalnum() or len(value) not in (15, 18):
        raise InvalidInputError(f"{what} {value!r} is not a 15- or 18-character Salesforce id")
    return value


def relative_path(url: str) -> str:
    """The path (and query) of a URL Salesforce returned, checked to stay on the instance.

    ``nextRecordsUrl`` and ``resultUrl`` are paths (``/services/data/...``;
    one without its leading slash, as the docs print ``contentUrl``, is taken
    from the root); a full URL is reduced to its path. Anything else is refused.
    """
    parts = urlsplit(url)
    path = parts.path
    if path.startswith("services/data/") and not parts.netloc:
        path = "/" + path
    if not path.startswith("/services/data/"):
        raise ProtocolError(f"Salesforce returned an unexpected continuation URL path {path!r}")
    while "//" in path:
        path = path.replace("//", "/")
    return quote(path, safe="/") + (f"?{parts.query}" if parts.query else "")


def json_body(document: Mapping[str, object]) -> bytes:
    """A compact JSON request body."""
    return json.dumps(document, separators=(",", ":")).encode("utf-8")


def parse_json(model: Callable[[bytes], M], what: str) -> Callable[[httpx.Response], M]:
    """A reply parser: REST errors raised, then ``model`` applied to the JSON body.

    A success reply of another media type (an HTML page from a proxy), a body
    that is not JSON, or JSON of the wrong shape raises a
    :class:`~sfbulk_sdk.errors.ProtocolError` (:class:`~sfbulk_sdk.errors.MalformedReplyError`)
    with the status and a masked excerpt of the body.
    """

    def parse(response: httpx.Response) -> M:
        if response.status_code >= 400:
            raise parse_error(response)
        media = response.headers.get("content-type", "").split(";", 1)[0].strip().lower()
        if media and not media.endswith(("/json", "+json")):
            raise MalformedReplyError(
                f"could not parse {what}: the reply is {media[:60]}, not JSON", response=response
            )
        try:
            return model(response.content)
        except ProtocolError as exc:
            raise type(exc)(f"could not parse {what}: {exc}", response=response) from exc
        except (SfBulkError, ValueError) as exc:
            raise ProtocolError(f"could not parse {what}: {exc}", response=response) from None

    return parse


def parse_empty(response: httpx.Response) -> None:
    """A reply with no body worth reading (201 upload, 204 delete): errors raised."""
    if response.status_code >= 400:
        raise parse_error(response)
