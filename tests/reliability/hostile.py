"""Hostile and broken bodies, and the checks every refusal of one must pass.

Imported as ``from tests.reliability.hostile import ...`` by the reliability
tests. Every body here is refused by every parse path it reaches; what the
refusal must look like is :func:`assert_refusal`: an SDK error (nothing else),
carrying the HTTP status when there is one, a short excerpt of the body, and no
secret anywhere in the error, its excerpt or the exceptions chained to it.
"""

from __future__ import annotations

import contextlib
import pickle

import httpx

from sfbulk_sdk import errors
from sfbulk_sdk.models.xml import NS

#: A session id as Salesforce writes one (org id, "!", token): hostile bodies carry it.
SESSION_ID = "00Dx0000000HOST!AQ4AQHostileSessionTokenValue.1234567890"
ACCESS_TOKEN = "00Dx0000000HOST!AccessTokenThatMustNeverShow.abcdefghij"
REFRESH_TOKEN = "5Aep861HostileRefreshTokenValue0123456789"
SECRETS = (SESSION_ID, ACCESS_TOKEN, REFRESH_TOKEN, "AQ4AQHostileSessionTokenValue")

#: The deepest nesting tried (the brief's 100,000 levels).
DEEP = 100_000

JOB = "750x0000000001AAAA"
BATCH = "751x0000000001AAAA"
RESULT = "752x0000000001A"
INSTANCE = "https://na1.example.test/"
STATIC_SESSION = "00Dx0000000TEST!STATIC.session.id"

_HTML = (
    "<!DOCTYPE html><html><head><title>502 Bad Gateway</title></head><body>"
    f"<h1>Bad Gateway</h1><p>upstream said: Authorization: Bearer {SESSION_ID}</p>"
    "</body></html>"
)

#: XML bodies no XML parse path may accept, by the class of defect.
HOSTILE_XML: dict[str, bytes] = {
    "dtd-internal-entity": (
        b'<?xml version="1.0"?><!DOCTYPE jobInfo [<!ENTITY x "EXPANDED">]>'
        b"<jobInfo><id>&x;</id></jobInfo>"
    ),
    "external-entity": (
        b'<?xml version="1.0"?><!DOCTYPE r [<!ENTITY ext SYSTEM "file:///no/such/secret.txt">]>'
        b"<r>&ext;</r>"
    ),
    "parameter-entity": (
        b'<?xml version="1.0"?><!DOCTYPE r [<!ENTITY % p SYSTEM "http://127.0.0.1:9/x.dtd">'
        b" %p;]><r/>"
    ),
    "billion-laughs": (
        b'<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">'
        + b"".join(
            f'<!ENTITY lol{i} "{("&lol" + (str(i - 1) if i > 1 else "") + ";") * 10}">'.encode()
            for i in range(1, 10)
        )
        + b"]><lolz>&lol9;</lolz>"
    ),
    "doctype-only": b'<!DOCTYPE queryResult SYSTEM "http://127.0.0.1:9/q.dtd"><queryResult/>',
    "undeclared-entity": b"<jobInfo><id>&undeclared;</id></jobInfo>",
    "unknown-encoding": b'<?xml version="1.0" encoding="x-no-such-codec"?><jobInfo/>',
    "multibyte-encoding": b'<?xml version="1.0" encoding="shift_jis"?><jobInfo/>',
    "deep-nesting": b"<a>" * DEEP + b"</a>" * DEEP,
    "truncated": f'<jobInfo xmlns="{NS}"><id>750x0000000001AAAA</id><state>Op'.encode(),
    "html-page": _HTML.encode(),
    "binary": bytes(range(256)) * 4,
    "empty": b"",
    "not-xml": b"Service Unavailable: the server is down for maintenance",
    "json-instead": b'{"id": "750x0000000001AAAA", "state": "Open"}',
    "two-roots": f'<jobInfo xmlns="{NS}"/><jobInfo xmlns="{NS}"/>'.encode(),
    "invalid-utf8": f'<jobInfo xmlns="{NS}"><id>\xff\xfe</id></jobInfo>'.encode("latin-1"),
}

#: Kinds of hostile XML that must be refused as :class:`~sfbulk_sdk.errors.UnsafeXmlError`.
UNSAFE_XML = frozenset(
    {"dtd-internal-entity", "external-entity", "parameter-entity", "billion-laughs", "doctype-only"}
)

#: JSON bodies no JSON parse path may accept.
HOSTILE_JSON: dict[str, bytes] = {
    "deep-array": b"[" * DEEP + b"]" * DEEP,
    "deep-object": b'{"a":' * DEEP + b"1" + b"}" * DEEP,
    "deep-in-a-field": b'{"id": "x", "extra": ' + b"[" * 5000 + b"]" * 5000 + b"}",
    "truncated": b'{"id": "7505j000000ZZZZAAA", "state": "Op',
    "html-page": _HTML.encode(),
    "binary": bytes(range(256)) * 4,
    "empty": b"",
    "not-json": b"Service Unavailable",
    "invalid-utf8": b'{"id": "\xff\xfe"}',
    "nan": b'{"id": NaN}',
    "huge-integer": b'{"numberRecordsProcessed": ' + b"9" * 5000 + b"}",
    "xml-instead": f'<jobInfo xmlns="{NS}"><id>750x0000000001AAAA</id></jobInfo>'.encode(),
    "trailing-garbage": b'{"id": "7505j000000ZZZZAAA"} trailing',
}

#: CSV bodies no CSV parse path may accept (each is refused in its own way).
HOSTILE_CSV: dict[str, bytes] = {
    "binary": b'"Id","Name"\n' + bytes(range(128, 256)) * 4,
    "html-page": _HTML.encode(),
    "unterminated-quote": b'"Id","Name"\n"001","unterminated\n',
    "stray-quote": b'"Id","Name"\n"001"x,"A"\n',
    "ragged-long": b'"Id","Name"\n"001","A","surplus"\n',
    "ragged-short": b'"Id","Name"\n"001","A"\n"002"\n',
    "field-too-large": b'"Id","Name"\n"001","' + b"x" * 140_000 + b'"\n',
    "invalid-utf8": b'"Id","Name"\n"001","\xff\xfe"\n',
}


def walk_chain(error: BaseException) -> list[BaseException]:
    """``error`` and every exception chained to it (``__cause__`` and ``__context__``)."""
    seen: list[BaseException] = []
    pending: list[BaseException | None] = [error]
    while pending:
        current = pending.pop()
        if current is None or any(current is s for s in seen):
            continue
        seen.append(current)
        pending += [current.__cause__, current.__context__]
    return seen


def _kept_texts(link: BaseException) -> list[str]:
    """The text of the reply and request an error keeps (their bodies, when read)."""
    texts: list[str] = []
    response = getattr(link, "response", None)
    if isinstance(response, httpx.Response):
        with contextlib.suppress(httpx.ResponseNotRead):
            texts.append(response.text)
        texts.append(repr(response.headers))
    request = getattr(link, "request", None)
    if isinstance(request, httpx.Request):
        with contextlib.suppress(httpx.RequestNotRead):
            texts.append(request.content.decode("utf-8", "replace"))
        texts.append(repr(request.headers))
    return texts


def assert_no_secret(error: BaseException, secrets: tuple[str, ...] = SECRETS) -> None:
    """No secret in the message, repr, excerpt, body, the reply and request kept, the
    error's pickle, or any chained exception."""
    try:
        pickled = pickle.dumps(error)
    except Exception:  # an error that cannot be pickled cannot carry a secret that way
        pickled = b""
    for secret in secrets:
        assert secret.encode() not in pickled, f"{type(error).__name__}'s pickle holds a secret"
    for link in walk_chain(error):
        texts = [str(link), repr(link), repr(link.args), *_kept_texts(link)]
        for name in ("excerpt", "body", "message"):
            value = getattr(link, name, None)
            if isinstance(value, str):
                texts.append(value)
        for text in texts:
            for secret in secrets:
                assert secret not in text, f"{type(link).__name__} carries a secret: {text[:300]}"


def assert_refusal(
    error: BaseException,
    *,
    status: int | None = None,
    kind: type[errors.SfBulkError] = errors.SfBulkError,
    excerpt: bool = True,
    streamed: bool = False,
) -> None:
    """What every refusal of a body must be: typed, with its status and excerpt, secret-free.

    Pydantic's ``ValidationError`` may only be a cause, never the error itself.
    A ``streamed`` body's refusal is the stream's ``ProtocolError``, whose cause
    is the decoder's error of ``kind``.
    """
    assert isinstance(error, errors.SfBulkError), f"{type(error).__name__}: {error}"
    typed = error.__cause__ if streamed and isinstance(error, errors.ProtocolError) else error
    assert isinstance(typed, kind), f"{type(typed).__name__} is not a {kind.__name__}: {error}"
    if status is not None:
        assert getattr(error, "status_code", None) == status
    if excerpt:
        found = getattr(error, "excerpt", None)
        assert found is None or isinstance(found, str)
        if found is not None:
            assert len(found) <= 200, found
            assert "\n" not in found
    assert_no_secret(error)


def reply(status: int, body: bytes, media: str | None) -> httpx.Response:
    """A reply with ``body`` and, when given, a ``Content-Type``."""
    headers = {"content-type": media} if media else {}
    return httpx.Response(status, headers=headers, content=body)


def job_xml(operation: str = "insert", content_type: str = "CSV") -> bytes:
    """A ``jobInfo`` of job ``JOB`` on Account."""
    return (
        f'<?xml version="1.0" encoding="UTF-8"?><jobInfo xmlns="{NS}"><id>{JOB}</id>'
        f"<operation>{operation}</operation><object>Account</object>"
        f"<state>Open</state><contentType>{content_type}</contentType></jobInfo>"
    ).encode()
