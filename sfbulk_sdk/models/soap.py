"""The SOAP partner ``login()`` reply: envelope unwrapping and faults, sans-IO.

* success: ``Envelope/Body/loginResponse/result`` is the content of a
  :class:`~sfbulk_sdk.models.LoginResult` (see :meth:`LoginResult.from_soap_reply
  <sfbulk_sdk.models.LoginResult.from_soap_reply>`);
* failure: ``Envelope/Body/Fault`` becomes a
  :class:`~sfbulk_sdk.errors.LoginError` carrying the fault code
  (``detail/LoginFault/exceptionCode``, else ``faultcode`` without its
  ``sf:`` prefix) and message;
* anything else raises :class:`~sfbulk_sdk.errors.ProtocolError`.

Building the login request is :mod:`sfbulk_sdk.auth.soap`'s job; this module
only reads replies, so the models never depend on an authenticator. The session
id of a result is never quoted in an error, and the caller's secrets are hidden
should a fault message echo them.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from pydantic import ValidationError

from .._redact import body_excerpt
from ..errors import LoginError, MalformedXmlError, ProtocolError, login_error_class
from .xml import XSI_NS, build_tree

__all__ = [
    "FAULT_NS",
    "LOGIN_RATE_EXCEEDED_CODE",
    "PARTNER_NS",
    "SOAP_ENV_NS",
    "login_reply_error",
    "parse_login_envelope",
    "unusable_result_error",
]

SOAP_ENV_NS = "http://schemas.xmlsoap.org/soap/envelope/"
PARTNER_NS = "urn:partner.soap.sforce.com"
FAULT_NS = "urn:fault.partner.soap.sforce.com"

#: The fault code raised as :class:`~sfbulk_sdk.errors.LoginRateExceededError`.
LOGIN_RATE_EXCEEDED_CODE = "LOGIN_RATE_EXCEEDED"

_NAMESPACES: dict[str, str | None] = {
    SOAP_ENV_NS: "soapenv",
    PARTNER_NS: None,
    FAULT_NS: "sf",
    XSI_NS: "xsi",
}

#: Shorter secrets are not searched for: they would garble ordinary words, and
#: Salesforce passwords have at least 8 characters.
_MIN_REDACTED = 6


def _local(name: str) -> str:
    return name.rpartition(":")[2]


def _child(node: object, local_name: str) -> object:
    """The child of ``node`` with this local name, whatever its namespace prefix."""
    if not isinstance(node, Mapping):
        return None
    for key, value in node.items():
        if _local(key) == local_name:
            return value
    return None


def _text(node: object) -> str:
    return node.strip() if isinstance(node, str) else ""


def _redact(text: str, secrets: Iterable[str]) -> str:
    """Hide the caller's secrets should a reply ever echo them."""
    for secret in sorted(secrets, key=len, reverse=True):
        if len(secret) >= _MIN_REDACTED:
            text = text.replace(secret, "***")
    return text


def login_reply_error(
    reason: str,
    status_code: int | None,
    *,
    excerpt: str | None = None,
    kind: type[ProtocolError] = ProtocolError,
) -> ProtocolError:
    """The :class:`~sfbulk_sdk.errors.ProtocolError` (or ``kind``) for a login reply that
    ``reason``; ``excerpt`` is the masked start of its body."""
    where = f" (HTTP {status_code})" if status_code is not None else ""
    return kind(f"SOAP login reply{where} {reason}", status_code=status_code, excerpt=excerpt)


def _login_error(
    fault: object, status_code: int | None, secrets: Iterable[str]
) -> LoginError | ProtocolError:
    faultcode = _text(_child(fault, "faultcode"))
    faultstring = _text(_child(fault, "faultstring"))
    login_fault = None
    detail = _child(fault, "detail")
    if isinstance(detail, Mapping):
        login_fault = next((v for v in detail.values() if isinstance(v, Mapping)), None)
    code = _text(_child(login_fault, "exceptionCode")) or _local(faultcode)
    message = _text(_child(login_fault, "exceptionMessage"))
    if not message:
        message = faultstring
        prefix = f"{code}:"
        if message.startswith(prefix):
            message = message[len(prefix) :].strip()
    if not code:
        return login_reply_error("is a SOAP fault without a fault code", status_code)
    message = _redact(message, secrets)
    return login_error_class(code)(code, message, status_code=status_code)


def parse_login_envelope(
    body: str | bytes, *, status_code: int | None = None, secrets: Iterable[str] = ()
) -> object:
    """The content of ``loginResponse/result`` in the body of a SOAP ``login()`` reply.

    Attributes are dropped and ``xsi:nil`` elements are ``None``: the content
    is ready for :meth:`LoginResult.model_validate
    <sfbulk_sdk.models.LoginResult.model_validate>`.

    A SOAP fault raises :class:`~sfbulk_sdk.errors.LoginError` carrying the
    fault code (:class:`~sfbulk_sdk.errors.LoginRateExceededError` for
    ``LOGIN_RATE_EXCEEDED``); anything else that is not a login result raises
    :class:`~sfbulk_sdk.errors.ProtocolError`. ``status_code``, when given, is
    attached to the error, and a result is only accepted with a 2xx status.
    ``secrets`` (the caller's password and token) are replaced by ``***``
    should a fault message quote them.
    """
    secrets = tuple(secrets)
    excerpt = body_excerpt(body if isinstance(body, (str, bytes)) else None, secrets)
    try:
        root, content = build_tree(body, _NAMESPACES)
    except MalformedXmlError as exc:
        # The parser's message names only what is wrong (a DTD, the encoding,
        # a line and column), never the body's text.
        raise login_reply_error(
            f"is not a readable SOAP envelope: {exc}", status_code, excerpt=excerpt, kind=type(exc)
        ) from None
    envelope = content if _local(root) == "Envelope" else None
    soap_body = _child(envelope, "Body")
    if not isinstance(soap_body, Mapping):
        raise login_reply_error("is not a SOAP envelope", status_code, excerpt=excerpt)
    fault = _child(soap_body, "Fault")
    if fault is not None:
        raise _login_error(fault, status_code, secrets)
    result = _child(_child(soap_body, "loginResponse"), "result")
    if not isinstance(result, Mapping):
        raise login_reply_error(
            "holds neither loginResponse/result nor a Fault", status_code, excerpt=excerpt
        )
    if status_code is not None and not 200 <= status_code < 300:
        raise login_reply_error(
            "holds a login result with an error status", status_code, excerpt=excerpt
        )
    return result


def unusable_result_error(
    error: ValidationError, status_code: int | None, *, excerpt: str | None = None
) -> ProtocolError:
    """The :class:`~sfbulk_sdk.errors.ProtocolError` for a result the model refused.

    It names only the locations and types of the problems: the input holds the
    session id.
    """
    problems = "; ".join(
        f"{'.'.join(str(p) for p in err['loc'])}: {err['type']}"
        for err in error.errors(include_input=False, include_url=False)
    )
    return login_reply_error(
        f"has an unusable login result ({problems})", status_code, excerpt=excerpt
    )
