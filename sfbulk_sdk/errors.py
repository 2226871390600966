"""The one exception tree of sfbulk_sdk.

Errors are keyed by Salesforce's codes (``exceptionCode`` in Bulk 1.0,
``errorCode`` in Bulk 2.0/REST, the fault code of SOAP ``login()``), not by
HTTP status. httpx errors are wrapped, never leaked. No message ever holds a
session id, token or password. Every public call raises only these classes;
a reply that cannot be read keeps its HTTP status (``status_code``) and a short,
masked ``excerpt`` of its body (:func:`body_excerpt`).

::

    SfBulkError
    ├── InvalidInputError (also ValueError)   bad arguments, raised before any I/O
    ├── TransportError                        network trouble (retryable)
    │   └── RequestTimeoutError
    ├── ProtocolError                         a reply the SDK cannot understand
    │   └── MalformedReplyError (also ValueError) not the document expected: not XML/JSON/CSV,
    │       │                                 cut short, nested too deeply or of the wrong shape
    │       └── MalformedXmlError             XML that is not well-formed (or not readable)
    │           └── UnsafeXmlError            a DTD or entity: refused, nothing expanded
    ├── LoginError                            SOAP fault / OAuth error on login
    │   ├── LoginRateExceededError            LOGIN_RATE_EXCEEDED
    │   ├── LoginUnavailableError             the login server failed (HTTP 5xx; retryable)
    │   └── OAuthError                        an OAuth ``error`` (code kept as sent)
    │       ├── InvalidGrantError             invalid_grant
    │       │   └── RefreshTokenRevokedError  the refresh token is dead: re-authorise
    │       ├── InvalidClientError            invalid_client_id / invalid_client
    │       ├── UnsupportedGrantTypeError     unsupported_grant_type
    │       └── InvalidRequestError           invalid_request
    ├── APIError                              Salesforce answered with an error body
    │   ├── InvalidSessionError               InvalidSessionId / INVALID_SESSION_ID
    │   ├── InvalidJobError                   InvalidJob
    │   ├── InvalidJobStateError              InvalidJobState
    │   ├── InvalidBatchError                 InvalidBatch (e.g. results not ready)
    │   ├── InvalidOperationError             InvalidOperation / InvalidUrl / InvalidEntity
    │   ├── InvalidXmlError                   InvalidXml / InvalidXML
    │   ├── UnsupportedContentTypeError       UnsupportedContentType
    │   ├── AccessDeniedError                 InvalidUser / FeatureNotEnabled
    │   ├── ExceededQuotaError                ExceededQuota / REQUEST_LIMIT_EXCEEDED
    │   │   └── ThrottledError                too many requests at once, for now (retryable)
    │   ├── ClientInputError                  ClientInputError
    │   ├── ApiVersionError                   InvalidVersion / Gone / HttpsRequired
    │   ├── TooManyLockFailureError           TooManyLockFailure (retryable)
    │   ├── ProcessingTimeoutError            Timeout (retryable)
    │   ├── ServerError                       InternalServerError / HTTP 5xx (retryable)
    │   ├── NotFoundError                     NOT_FOUND (REST 404)
    │   └── JobNotCompleteError               JOB_NOT_COMPLETE (results asked too early)
    ├── BatchFailedError                      a batch ended Failed
    ├── JobFailedError                        a Bulk 2.0 job ended Failed
    ├── PollTimeoutError                      waiting passed its deadline
    ├── LoadInterruptedError                  the records failed mid-load (rows before: loaded)
    └── SessionError                          session stores and refresh
        ├── SessionStoreError                 a store backend failed
        └── LockTimeoutError                  no refresh lock within the wait bound
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import ClassVar

import httpx

from ._error_support import normalise_code, reduce_error
from ._redact import (
    body_excerpt,
    mask_secrets,
    redacted_request,
    redacted_response,
    response_excerpt,
)

__all__ = [
    "APIError",
    "AccessDeniedError",
    "ApiVersionError",
    "BatchFailedError",
    "ClientInputError",
    "ExceededQuotaError",
    "InvalidBatchError",
    "InvalidClientError",
    "InvalidGrantError",
    "InvalidInputError",
    "InvalidJobError",
    "InvalidJobStateError",
    "InvalidOperationError",
    "InvalidRequestError",
    "InvalidSessionError",
    "InvalidXmlError",
    "JobFailedError",
    "JobNotCompleteError",
    "LoadInterruptedError",
    "LockTimeoutError",
    "LoginError",
    "LoginRateExceededError",
    "LoginUnavailableError",
    "MalformedReplyError",
    "MalformedXmlError",
    "NotFoundError",
    "OAuthError",
    "PollTimeoutError",
    "ProcessingTimeoutError",
    "ProtocolError",
    "RefreshTokenRevokedError",
    "RequestTimeoutError",
    "ServerError",
    "SessionError",
    "SessionStoreError",
    "SfBulkError",
    "ThrottledError",
    "TooManyLockFailureError",
    "TransportError",
    "UnsafeXmlError",
    "UnsupportedContentTypeError",
    "UnsupportedGrantTypeError",
    "error_class_for_code",
    "login_error_class",
]

_BODY_LIMIT = 2000


class SfBulkError(Exception):
    """The root of every error the SDK raises."""

    retryable: ClassVar[bool] = False
    __reduce__ = reduce_error  # pickles, e.g. back from a process pool (see _error_support)


class InvalidInputError(SfBulkError, ValueError):
    """The caller's input is wrong; nothing was sent."""


class TransportError(SfBulkError):
    """The request did not complete (connection refused, reset, TLS, ...)."""

    retryable = True

    def __init__(
        self, message: str, *, request: httpx.Request | None = None, sent: bool | None = None
    ) -> None:
        super().__init__(message)
        #: The request that failed, without its credentials or body.
        self.request = redacted_request(request) if request is not None else None
        #: False when the request surely never reached the server (connect failed).
        self.sent = sent


class RequestTimeoutError(TransportError):
    """The request timed out."""


class ProtocolError(SfBulkError):
    """Salesforce's reply could not be understood.

    ``status_code`` is the reply's HTTP status and :attr:`excerpt` the start of
    its body, masked (``None`` when neither is known)."""

    def __init__(
        self,
        message: str,
        *,
        response: httpx.Response | None = None,
        status_code: int | None = None,
        excerpt: str | None = None,
    ) -> None:
        super().__init__(message)
        #: The reply; the request it points back to holds no credentials.
        self.response = redacted_response(response)
        self.status_code = response.status_code if response is not None else status_code
        self._excerpt = excerpt

    @property
    def excerpt(self) -> str | None:
        """At most 200 characters from the start of the body, secrets masked.

        Taken from the reply when it was read whole; for a streamed body, from
        the error of the decoder that refused it (this error's ``__cause__``).
        """
        if self._excerpt is not None:
            return self._excerpt
        found = response_excerpt(self.response)
        if found is None and isinstance(self.__cause__, ProtocolError):
            found = self.__cause__.excerpt
        return found

    @excerpt.setter
    def excerpt(self, value: str | None) -> None:
        self._excerpt = value


class MalformedReplyError(ProtocolError, ValueError):
    """A body that is not the document expected: not XML, JSON or CSV, cut short, nested
    too deeply, in an unknown encoding, or well formed but of the wrong shape.

    Raised by every public parser (``from_xml``, ``from_json``, ``from_csv``,
    the streaming decoders); a client call raises it with the reply's status."""


class MalformedXmlError(MalformedReplyError):
    """The body is not well-formed XML, or lacks the expected root element."""


class UnsafeXmlError(MalformedXmlError):
    """The XML holds a document type declaration (DTD) or an entity: it is refused
    before anything is expanded or fetched."""


class LoginError(SfBulkError):
    """Login was refused. ``code`` is the fault code (``INVALID_LOGIN``, ...)."""

    def __init__(
        self,
        code: str,
        message: str,
        *,
        status_code: int | None = None,
        excerpt: str | None = None,
    ) -> None:
        super().__init__(f"{code}: {message}" if message else code)
        self.code = code
        self.fault_code = code
        self.message = message
        self.status_code = status_code
        #: The start of the reply's body, masked (see :func:`body_excerpt`).
        self.excerpt = excerpt


class LoginRateExceededError(LoginError):
    """``LOGIN_RATE_EXCEEDED``: too many logins for this user in the last hour."""


class LoginUnavailableError(LoginError):
    """The login server failed, not the credentials (a 5xx that is no refusal, SOAP
    ``SERVER_UNAVAILABLE``, OAuth ``server_error`` / ``temporarily_unavailable``): retried."""

    retryable = True
    codes: ClassVar[tuple[str, ...]] = (
        "SERVER_UNAVAILABLE",
        "server_error",
        "temporarily_unavailable",
    )


class OAuthError(LoginError):
    """The OAuth token endpoint refused: ``error`` and ``error_description`` as Salesforce sent
    them (an unknown ``error`` is kept as it is)."""

    codes: ClassVar[tuple[str, ...]] = ()

    @property
    def error(self) -> str:
        """The OAuth ``error`` code (``invalid_grant``, ...)."""
        return self.code

    @property
    def error_description(self) -> str:
        """Salesforce's ``error_description``."""
        return self.message


class InvalidGrantError(OAuthError):
    """``invalid_grant``: the credentials, assertion or token were refused."""

    codes = ("invalid_grant",)


class RefreshTokenRevokedError(InvalidGrantError):
    """The refresh token is expired, revoked or was rotated away: the grant is gone.

    No worker sends it again; a user must re-authorise the app and give the SDK
    the new refresh token.
    """


class InvalidClientError(OAuthError):
    """``invalid_client_id`` / ``invalid_client``: the app's id or secret is wrong."""

    codes = ("invalid_client_id", "invalid_client")


class UnsupportedGrantTypeError(OAuthError):
    """``unsupported_grant_type``: the flow is not enabled (or was posted to the wrong place)."""

    codes = ("unsupported_grant_type",)


class InvalidRequestError(OAuthError):
    """``invalid_request``: a parameter is missing or malformed."""

    codes = ("invalid_request",)


_OAUTH_ERRORS: tuple[type[OAuthError], ...] = (
    InvalidGrantError,
    InvalidClientError,
    UnsupportedGrantTypeError,
    InvalidRequestError,
)


def login_error_class(code: str) -> type[LoginError]:
    """The class of a login refusal with ``code``: a SOAP fault code or an OAuth ``error``.

    OAuth codes are lower case (``invalid_grant``); an unknown lower-case code
    is an :class:`OAuthError` and keeps its code; SOAP fault codes are upper case.
    """
    if code == "LOGIN_RATE_EXCEEDED":
        return LoginRateExceededError
    if code in LoginUnavailableError.codes:
        return LoginUnavailableError
    for cls in _OAUTH_ERRORS:
        if code in cls.codes:
            return cls
    if code and code == code.lower():
        return OAuthError
    return LoginError


class APIError(SfBulkError):
    """Salesforce answered a request with an error body.

    ``code`` is the wire's code exactly as sent (unknown codes are kept),
    ``status_code`` the HTTP status and ``body`` the (truncated) response text.
    """

    codes: ClassVar[tuple[str, ...]] = ()

    def __init__(
        self,
        code: str,
        message: str,
        *,
        status_code: int | None = None,
        body: str | None = None,
        request: httpx.Request | None = None,
        response: httpx.Response | None = None,
    ) -> None:
        message = mask_secrets(message)
        text = f"{code}: {message}" if message else code
        if status_code is not None:
            text = f"{text} (HTTP {status_code})"
        super().__init__(text)
        self.code = code
        self.message = message
        self.status_code = status_code
        #: The start of the reply's body, credentials masked.
        self.body = mask_secrets(body[:_BODY_LIMIT]) if body is not None else None
        #: At most 200 characters of the body on one line, masked (see :func:`body_excerpt`).
        self.excerpt = body_excerpt(body)
        self.request = redacted_request(request) if request is not None else None
        #: The reply; the request it points back to holds no credentials.
        self.response = redacted_response(response)

    @property
    def exception_code(self) -> str:
        """Alias of :attr:`code`, as Bulk API 1.0 names it."""
        return self.code


class InvalidSessionError(APIError):
    """The session id was rejected (expired, logged out or invalid)."""

    codes = ("InvalidSessionId", "INVALID_SESSION_ID")


class InvalidJobError(APIError):
    """The job id or job definition is invalid."""

    codes = ("InvalidJob",)


class InvalidJobStateError(APIError):
    """The job's state does not allow this request."""

    codes = ("InvalidJobState",)


class InvalidBatchError(APIError):
    """The batch id is invalid, or its results are not ready."""

    codes = ("InvalidBatch",)


class InvalidOperationError(APIError):
    """The operation, URL or entity is not valid for the Bulk API."""

    codes = ("InvalidOperation", "InvalidUrl", "InvalidEntity", "MethodNotAllowed")


class InvalidXmlError(APIError):
    """The XML request body was malformed."""

    codes = ("InvalidXml", "InvalidXML")


class UnsupportedContentTypeError(APIError):
    """The request's Content-Type is not accepted."""

    codes = ("UnsupportedContentType",)


class AccessDeniedError(APIError):
    """The user or org may not use the Bulk API for this."""

    codes = (
        "InvalidUser",
        "FeatureNotEnabled",
        "TransactionSecurityBlock",
        "INSUFFICIENT_ACCESS",
    )


class ExceededQuotaError(APIError):
    """The org's batch or job allocation is used up."""

    codes = ("ExceededQuota", "REQUEST_LIMIT_EXCEEDED")


class ThrottledError(ExceededQuotaError):
    """Refused for now, not processed: the org's concurrent long-running requests are at
    their limit (``REQUEST_LIMIT_EXCEEDED``, ``ConcurrentRequests``), or HTTP 429 (or 420)
    without a Salesforce code, as a gateway sends it.

    Retryable (other workers' requests finish), also for a request that creates something.
    Chosen by :func:`error_class_for_code` from the message, not listed by code.
    """

    retryable = True


class ClientInputError(APIError):
    """Salesforce could not process the input."""

    codes = ("ClientInputError",)


class ApiVersionError(APIError):
    """The API version is retired or unsupported, or plain HTTP was used."""

    codes = ("InvalidVersion", "Gone", "HttpsRequired", "UNSUPPORTED_API_VERSION")


class TooManyLockFailureError(APIError):
    """More than 100 lock failures while processing a batch."""

    retryable = True
    codes = ("TooManyLockFailure",)


class ProcessingTimeoutError(APIError):
    """Salesforce timed out processing the request."""

    retryable = True
    codes = ("Timeout", "QUERY_TIMEOUT")


class ServerError(APIError):
    """Salesforce failed on its side (HTTP 5xx)."""

    retryable = True
    codes = (
        "InternalServerError",
        "TransactionSecurityInternalError",
        "TransactionSecurityDeveloperError",
        "SERVER_UNAVAILABLE",
    )


class BatchFailedError(SfBulkError):
    """A batch ended in state ``Failed``; ``state_message`` says why."""

    def __init__(self, job_id: str, batch_id: str, state_message: str | None) -> None:
        super().__init__(f"batch {batch_id} of job {job_id} failed: {state_message or 'no reason'}")
        self.job_id = job_id
        self.batch_id = batch_id
        self.state_message = state_message


class JobFailedError(SfBulkError):
    """A Bulk API 2.0 job ended ``Failed`` (HTTP 200 with ``state: "Failed"``).

    ``error_message`` is Salesforce's reason (``InvalidBatch : Field name not
    found : X``); records processed before the failure are not rolled back.
    """

    def __init__(
        self,
        job_id: str,
        error_message: str | None,
        *,
        records_processed: int | None = None,
        records_failed: int | None = None,
    ) -> None:
        super().__init__(f"job {job_id} failed: {error_message or 'no reason given'}")
        self.job_id = job_id
        self.error_message = error_message
        self.records_processed = records_processed
        self.records_failed = records_failed


class NotFoundError(APIError):
    """The job or resource does not exist (REST 404 ``NOT_FOUND``)."""

    codes = ("NOT_FOUND", "NotFound")


class JobNotCompleteError(APIError):
    """Results were asked for before the job completed (Bulk 2.0 412 ``JOB_NOT_COMPLETE``)."""

    codes = ("JOB_NOT_COMPLETE",)


class PollTimeoutError(SfBulkError):
    """Waiting for a job or batch passed its deadline. The work may still finish."""

    def __init__(
        self,
        message: str,
        *,
        job_id: str,
        batch_id: str | None = None,
        job_ids: Sequence[str] = (),
    ) -> None:
        super().__init__(message)
        self.job_id = job_id
        self.batch_id = batch_id
        #: Every job of the load still running (a Bulk 2.0 load may have several).
        self.job_ids: tuple[str, ...] = tuple(job_ids) or (job_id,)


class LoadInterruptedError(SfBulkError):
    """The records failed mid-load (that error is the ``__cause__``): the rows sent before
    were loaded; ``result`` holds their outcomes (a LoadResult), ``job_ids`` their jobs."""

    job_ids: tuple[str, ...] = ()
    result: object = None


class SessionError(SfBulkError):
    """A problem obtaining, storing or refreshing a session."""


class SessionStoreError(SessionError):
    """A session store backend failed."""


class LockTimeoutError(SessionError):
    """The single-flight refresh lock could not be taken in time."""


_ALL_API_ERRORS: tuple[type[APIError], ...] = (
    InvalidSessionError,
    InvalidJobError,
    InvalidJobStateError,
    InvalidBatchError,
    InvalidOperationError,
    InvalidXmlError,
    UnsupportedContentTypeError,
    AccessDeniedError,
    ExceededQuotaError,
    ClientInputError,
    ApiVersionError,
    TooManyLockFailureError,
    ProcessingTimeoutError,
    ServerError,
    NotFoundError,
    JobNotCompleteError,
)
_REQUEST_LIMIT = normalise_code("REQUEST_LIMIT_EXCEEDED")
_BY_CODE: dict[str, type[APIError]] = {
    normalise_code(code): cls for cls in _ALL_API_ERRORS for code in cls.codes
}


def error_class_for_code(
    code: str, status_code: int | None = None, message: str = ""
) -> type[APIError]:
    """The exception class for a Salesforce error code.

    Bulk 1.0 spellings (``InvalidJob``) and Bulk 2.0 spellings (``INVALIDJOB``)
    map to the same class. ``REQUEST_LIMIT_EXCEEDED`` whose ``message`` names the
    concurrent-request limit maps to :class:`ThrottledError` (the daily allocation
    stays :class:`ExceededQuotaError`). An unknown code maps to :class:`ThrottledError`
    for HTTP 429 and 420, :class:`ServerError` for HTTP 5xx and :class:`APIError` otherwise,
    keeping the code.
    """
    key = normalise_code(code)
    if key == _REQUEST_LIMIT and "concurrent" in message.lower():
        return ThrottledError
    found = _BY_CODE.get(key)
    if found is not None:
        return found
    if status_code in (420, 429):  # too many requests (420: an older spelling)
        return ThrottledError
    if status_code is not None and status_code >= 500:
        return ServerError
    return APIError
