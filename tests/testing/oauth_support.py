"""Helpers for the fake org's OAuth tests: RSA keys, a self-signed certificate, assertions.

The key pair and certificate are made here with ``cryptography`` (nothing is
read from disk); assertions are signed with PyJWT. A few Bulk 1.0 calls show
whether an access token works as a session.
"""

from __future__ import annotations

import base64
import hashlib
import hmac

import httpx
import pytest

jwt = pytest.importorskip("jwt", reason="the OAuth tests need PyJWT (the fake-org extra)")
pytest.importorskip("cryptography", reason="the OAuth tests need cryptography")

from cryptography.hazmat.primitives.asymmetric import rsa  # noqa: E402
from fakeorg_support import DATALOAD  # noqa: E402

from sfbulk_sdk.testing import FakeOrg, FakeOrgTransport  # noqa: E402
from tests.keys import KeyPair, make_key_pair  # noqa: E402, F401 - re-exported for the tests

JWT_BEARER = "urn:ietf:params:oauth:grant-type:jwt-bearer"
LOGIN = "https://login.salesforce.com"
TEST = "https://test.salesforce.com"
BULK = "/services/async/64.0"
JOB = (
    f'<jobInfo xmlns="{DATALOAD}"><operation>insert</operation><object>Account</object>'
    "<contentType>CSV</contentType></jobInfo>"
)


def assertion(
    key: rsa.RSAPrivateKey,
    *,
    iss: str,
    sub: str,
    exp: float | str | None,
    aud: str | list[str] = LOGIN,
) -> str:
    """An RS256 JWT bearer assertion (``exp=None`` leaves the claim out)."""
    claims: dict[str, object] = {"iss": iss, "sub": sub, "aud": aud}
    if exp is not None:
        claims["exp"] = exp
    return jwt.encode(claims, key, algorithm="RS256")


def expected_signature(secret: str, identity: str, issued_at: str) -> str:
    """Salesforce's ``signature``: base64 HMAC-SHA256 of ``id + issued_at``."""
    digest = hmac.new(secret.encode(), (identity + issued_at).encode(), hashlib.sha256).digest()
    return base64.b64encode(digest).decode()


def client(org: FakeOrg, base_url: str = "https://login.salesforce.com") -> httpx.Client:
    """An in-process client; ``base_url`` is the host the requests say they go to."""
    return httpx.Client(transport=FakeOrgTransport(org), base_url=base_url)


def token(http: httpx.Client, url: str = "/services/oauth2/token", **form: str) -> httpx.Response:
    """POST a token request (form-encoded)."""
    return http.post(url, data=form)


def assert_oauth_error(reply: httpx.Response, status: int, error: str, description: str) -> None:
    """An OAuth error answer: status, exactly the two keys, the OAuth headers."""
    assert reply.status_code == status, reply.text
    assert reply.headers["content-type"] == "application/json"
    assert reply.headers["cache-control"] == "no-store"
    assert reply.json() == {"error": error, "error_description": description}


def assert_token(reply: httpx.Response, *keys: str) -> dict[str, str]:
    """A 200 token answer with exactly ``keys``; returns the body."""
    assert reply.status_code == 200, reply.text
    assert reply.headers["content-type"] == "application/json"
    assert reply.headers["cache-control"] == "no-store"
    body: dict[str, str] = reply.json()
    assert sorted(body) == sorted(keys)
    assert all(isinstance(v, str) for v in body.values())
    return body


def open_job(http: httpx.Client, base: str, session: str) -> str:
    """Create a Bulk 1.0 job with ``session`` as ``X-SFDC-Session``; returns its id."""
    reply = http.post(
        f"{base}{BULK}/job",
        content=JOB,
        headers={"X-SFDC-Session": session, "Content-Type": "application/xml"},
    )
    assert reply.status_code == 201, reply.text
    return reply.text.split("<id>")[1].split("<")[0]


def get_job(http: httpx.Client, base: str, session: str, job_id: str) -> httpx.Response:
    """``GET .../job/{id}`` with ``session`` as ``X-SFDC-Session``."""
    return http.get(
        f"{base}{BULK}/job/{job_id}",
        headers={"X-SFDC-Session": session, "Content-Type": "application/xml"},
    )


def session_works(http: httpx.Client, base: str, session: str, job_id: str) -> bool:
    """Whether a Bulk 1.0 call with ``session`` succeeds (else it must be InvalidSessionId)."""
    reply = get_job(http, base, session, job_id)
    if reply.status_code == 200:
        return True
    assert reply.status_code == 400 and "<exceptionCode>InvalidSessionId<" in reply.text
    return False
