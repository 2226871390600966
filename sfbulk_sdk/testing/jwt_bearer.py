"""Reading and checking the RS256 assertions of the OAuth JWT bearer flow.

The fake uses PyJWT and cryptography for this (both in the ``fake-org``
extra). They are imported only here, and only when an assertion or a
certificate has to be read, so that ``import sfbulk_sdk.testing`` works without
them; without them these functions raise :class:`JwtUnavailable`, whose
message says what to install.

Time claims are not checked here: the OAuth flow checks ``exp`` against the
org's own clock, which may be a manual one.
"""

from __future__ import annotations

from types import ModuleType

__all__ = [
    "MISSING_LIBRARIES",
    "AssertionRejected",
    "JwtUnavailable",
    "load_public_key",
    "unverified_claims",
    "verify_signature",
]

MISSING_LIBRARIES = (
    "the fake org's JWT bearer flow needs PyJWT and cryptography: install sfbulk-sdk[fake-org]"
)


class JwtUnavailable(RuntimeError):
    """PyJWT or cryptography is not installed."""


class AssertionRejected(ValueError):
    """The assertion is malformed or its signature does not verify (no token in the message)."""


def _jwt() -> ModuleType:
    try:
        import jwt
    except ImportError:
        raise JwtUnavailable(MISSING_LIBRARIES) from None
    return jwt


def load_public_key(pem: str) -> object:
    """The RSA public key of a PEM certificate (``BEGIN CERTIFICATE``) or public key.

    Raises :class:`ValueError` for anything else, :class:`JwtUnavailable`
    without cryptography.
    """
    try:
        from cryptography import x509
        from cryptography.hazmat.primitives import serialization
        from cryptography.hazmat.primitives.asymmetric import rsa
    except ImportError:
        raise JwtUnavailable(MISSING_LIBRARIES) from None
    data = pem.encode()
    try:
        if b"BEGIN CERTIFICATE" in data:
            key: object = x509.load_pem_x509_certificate(data).public_key()
        else:
            key = serialization.load_pem_public_key(data)
    except ValueError:
        raise ValueError("the app's certificate is not a PEM certificate or public key") from None
    if not isinstance(key, rsa.RSAPublicKey):
        raise ValueError("the app's certificate must hold an RSA key (assertions are RS256)")
    return key


def unverified_claims(assertion: str) -> dict[str, object]:
    """The claims of an assertion, before its signature is checked (to find the app by ``iss``)."""
    jwt = _jwt()
    try:
        header = jwt.get_unverified_header(assertion)
        claims = jwt.decode(assertion, options={"verify_signature": False})
    except jwt.PyJWTError:
        raise AssertionRejected("the assertion is not a JWT") from None
    if not isinstance(claims, dict) or not isinstance(header, dict):
        raise AssertionRejected("the assertion's claims are not a JSON object")
    if header.get("alg") != "RS256":
        raise AssertionRejected("the assertion is not signed with RS256")
    return {str(k): v for k, v in claims.items()}


def verify_signature(assertion: str, certificate: str) -> None:
    """Check the assertion's RS256 signature against the app's certificate."""
    jwt = _jwt()
    key = load_public_key(certificate)
    options = {
        "verify_signature": True,
        "verify_exp": False,
        "verify_nbf": False,
        "verify_iat": False,
        "verify_aud": False,
        "verify_iss": False,
    }
    try:
        jwt.decode(assertion, key, algorithms=["RS256"], options=options)
    except jwt.PyJWTError:
        raise AssertionRejected("the assertion's signature does not verify") from None
