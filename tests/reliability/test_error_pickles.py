"""Every SDK error pickles and unpickles: a worker process can hand it back.

``BaseException`` pickles as ``cls(*args)``, which the SDK's errors, taking
other arguments than their one message, could not survive (``LoginError(code,
message)``): a wrong password inside a ``ProcessPoolExecutor`` worker broke the
pool. Each class exported by :mod:`sfbulk_sdk.errors` is built here the way the
SDK raises it (its parsers and helpers, with credentials in the request and the
reply), pickled and unpickled; the copy has the same type, message and public
attributes, and the request and reply it keeps are still masked.
"""

from __future__ import annotations

import contextlib
import inspect
import multiprocessing
import pickle
from concurrent.futures import ProcessPoolExecutor
from datetime import datetime, timezone

import httpx
import pytest
from pydantic import SecretStr

from sfbulk_sdk import Bulk, errors
from sfbulk_sdk.auth import ClientCredentials, RefreshToken, SoapLogin
from sfbulk_sdk.core.bulk1 import parse_error
from sfbulk_sdk.core.grants import GrantRecord, revoked_error
from sfbulk_sdk.core.oauth import parse_token_response
from sfbulk_sdk.core.outcomes import LoadResult
from sfbulk_sdk.core.states import poll_timeout
from sfbulk_sdk.core.transport_errors import redirected, wrap_transport_error
from sfbulk_sdk.models import JobInfo
from sfbulk_sdk.models.soap import parse_login_envelope
from sfbulk_sdk.stores._common import raise_store_error
from sfbulk_sdk.testing import FakeOrg, FakeOrgTransport
from tests.reliability.hostile import (
    ACCESS_TOKEN,
    BATCH,
    JOB,
    REFRESH_TOKEN,
    SESSION_ID,
    assert_no_secret,
)

pytestmark = pytest.mark.filterwarnings("ignore::sfbulk_sdk.deprecations.LoginDeprecationWarning")

INSTANCE = "https://na1.example.test"
NOW = datetime(2026, 1, 1, tzinfo=timezone.utc)
_BULK_NS = "http://www.force.com/2009/06/asyncapi/dataload"


def _request(path: str = "/services/async/62.0/job") -> httpx.Request:
    """A request as the client sends it: credentials in its headers and body."""
    return httpx.Request(
        "POST",
        INSTANCE + path,
        headers={"X-SFDC-Session": SESSION_ID, "Authorization": f"Bearer {ACCESS_TOKEN}"},
        content=f"<sessionId>{SESSION_ID}</sessionId>".encode(),
    )


def _reply(status: int, body: str, content_type: str = "application/xml") -> httpx.Response:
    return httpx.Response(
        status,
        content=body.encode(),
        headers={"Content-Type": content_type, "Set-Cookie": f"sid={SESSION_ID}"},
        request=_request(),
    )


def _bulk1_error(code: str, message: str, status: int = 400) -> errors.APIError:
    body = (
        f'<?xml version="1.0" encoding="UTF-8"?><error xmlns="{_BULK_NS}">'
        f"<exceptionCode>{code}</exceptionCode>"
        f"<exceptionMessage>{message} (session {SESSION_ID})</exceptionMessage></error>"
    )
    return parse_error(_reply(status, body))


def _soap_fault(code: str) -> errors.LoginError:
    body = (
        '<?xml version="1.0" encoding="UTF-8"?>'
        '<soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/" '
        'xmlns:sf="urn:fault.partner.soap.sforce.com"><soapenv:Body><soapenv:Fault>'
        f"<faultcode>sf:{code}</faultcode><faultstring>{code}: refused</faultstring>"
        f"<detail><sf:LoginFault><sf:exceptionCode>{code}</sf:exceptionCode>"
        "<sf:exceptionMessage>Invalid username, password, security token; or user locked "
        "out.</sf:exceptionMessage></sf:LoginFault></detail>"
        "</soapenv:Fault></soapenv:Body></soapenv:Envelope>"
    )
    with pytest.raises(errors.LoginError) as caught:
        parse_login_envelope(body, status_code=500, secrets=("hunter2",))
    return caught.value


def _token_refusal(status: int, body: str, content_type: str = "application/json") -> Exception:
    with pytest.raises(errors.LoginError) as caught:
        parse_token_response(_reply(status, body, content_type), secrets=(REFRESH_TOKEN,))
    return caught.value


def _oauth(code: str) -> Exception:
    echoed = f'"error_description": "{code} for refresh_token={REFRESH_TOKEN}"'
    return _token_refusal(400, f'{{"error": "{code}", {echoed}}}')


def _raised(call: object) -> Exception:
    with pytest.raises(errors.SfBulkError) as caught:
        call()  # type: ignore[operator]
    return caught.value


def _malformed_xml() -> Exception:
    return _raised(lambda: JobInfo.from_xml(b"<jobInfo><id>750"))


def _streamed_protocol_error() -> errors.ProtocolError:
    """A streamed reply the decoder refused: the excerpt comes from the chained cause."""
    reply = httpx.Response(200, stream=httpx.ByteStream(b"<html>"), request=_request())
    error = errors.ProtocolError("the result stream is not CSV", response=reply)
    error.__cause__ = errors.MalformedReplyError("not CSV", excerpt="<html><body>proxy")
    return error


def _interrupted() -> errors.LoadInterruptedError:
    result = LoadResult("insert", "Account", "bulk2", size=3, jobs=[JOB])
    error = errors.LoadInterruptedError(f"the records failed after 3 rows (jobs {JOB})")
    error.job_ids = tuple(result.jobs)
    error.result = result
    error.__cause__ = errors.InvalidInputError("row 4 is wider than the header")
    return error


def _store_error() -> Exception:
    backend = ConnectionError(f"refused SET sfbulk:session:x {SESSION_ID}")
    return _raised(lambda: raise_store_error("redis store: SET failed", backend, SESSION_ID))


def _revoked() -> errors.RefreshTokenRevokedError:
    record = GrantRecord(
        refresh_token=SecretStr(REFRESH_TOKEN),
        updated_at=NOW,
        revoked_at=NOW,
        revoked_reason="expired access/refresh token",
    )
    return revoked_error(record, unanswered_since=NOW)


def _instances() -> dict[str, BaseException]:
    """One error of each exported class (and a few second cases), made as the SDK makes it."""
    found: dict[str, BaseException] = {
        "SfBulkError": errors.SfBulkError("something went wrong"),
        "InvalidInputError": _raised(
            lambda: ClientCredentials("app", "secret", "https://login.salesforce.com")
        ),
        "TransportError": wrap_transport_error(httpx.ConnectError("refused"), _request()),
        "RequestTimeoutError": wrap_transport_error(httpx.ReadTimeout("slow"), _request()),
        "ProtocolError": redirected(
            httpx.Response(302, headers={"Location": "https://evil.test/"}, request=_request())
        ),
        "ProtocolError-streamed": _streamed_protocol_error(),
        "MalformedReplyError": _raised(lambda: JobInfo.from_json(b'{"id": "750')),
        "MalformedXmlError": _malformed_xml(),
        "UnsafeXmlError": _raised(
            lambda: JobInfo.from_xml(b'<!DOCTYPE x [<!ENTITY e "e">]><jobInfo/>')
        ),
        "LoginError": _soap_fault("INVALID_LOGIN"),
        "LoginRateExceededError": _soap_fault("LOGIN_RATE_EXCEEDED"),
        "LoginUnavailableError": _token_refusal(503, "<html>down</html>", "text/html"),
        "OAuthError": _oauth("invalid_scope"),
        "InvalidGrantError": _oauth("invalid_grant"),
        "RefreshTokenRevokedError": _revoked(),
        "InvalidClientError": _oauth("invalid_client"),
        "UnsupportedGrantTypeError": _oauth("unsupported_grant_type"),
        "InvalidRequestError": _oauth("invalid_request"),
        "APIError": _bulk1_error("SomethingNew", "a code the SDK does not know"),
        "ThrottledError": _bulk1_error(
            "REQUEST_LIMIT_EXCEEDED", "ConcurrentRequests (concurrent requests limit)", 403
        ),
        "ServerError": _bulk1_error("InternalServerError", "oops", 500),
        "BatchFailedError": errors.BatchFailedError(JOB, BATCH, "InvalidBatch : no header"),
        "JobFailedError": errors.JobFailedError(
            JOB, "InvalidBatch : Field name not found : X", records_processed=3, records_failed=1
        ),
        "PollTimeoutError": poll_timeout(JOB, BATCH, 600.0),
        "LoadInterruptedError": _interrupted(),
        "SessionError": errors.SessionError("no session"),
        "SessionStoreError": _store_error(),
        "LockTimeoutError": errors.LockTimeoutError("refresh lock not acquired within 60s"),
    }
    for name in errors.__all__:
        cls = getattr(errors, name)
        if (
            inspect.isclass(cls)
            and issubclass(cls, errors.APIError)
            and "codes" in vars(cls)
            and cls.codes
        ):
            found[name] = _bulk1_error(cls.codes[0], f"{name} as Salesforce sends it")
    return found


def _exported_error_classes() -> set[str]:
    return {
        name
        for name in errors.__all__
        if inspect.isclass(getattr(errors, name))
        and issubclass(getattr(errors, name), BaseException)
    }


def _comparable(value: object) -> object:
    """A value to compare: a request or reply by what it holds (they have no ``==``)."""
    if isinstance(value, httpx.Request):
        return ("request", value.method, str(value.url), value.headers.multi_items())
    if isinstance(value, httpx.Response):
        try:
            body: object = value.content
        except httpx.ResponseNotRead:
            body = "unread"
        try:
            request = _comparable(value.request)
        except RuntimeError:
            request = None
        return ("response", value.status_code, value.headers.multi_items(), body, request)
    if isinstance(value, LoadResult):
        return ("load", value.operation, value.sobject, value.size, value.jobs)
    return value


def _public(error: BaseException) -> dict[str, object]:
    """The error's public attributes and properties (not the traceback, args or chain)."""
    names = {name for name in dir(error) if not name.startswith("_")}
    names -= set(dir(BaseException))
    return {
        name: _comparable(getattr(error, name))
        for name in sorted(names)
        if not callable(getattr(error, name))
    }


def test_every_exported_error_class_is_covered() -> None:
    classes = {name.split("-")[0] for name in _instances()}
    assert _exported_error_classes() - classes == set()
    for name, error in _instances().items():
        assert type(error).__name__ == name.split("-")[0], name


@pytest.mark.parametrize("name", sorted(_instances()))
def test_an_error_survives_pickling_whole_and_masked(name: str) -> None:
    error = _instances()[name]
    copy = pickle.loads(pickle.dumps(error))
    assert type(copy) is type(error)
    assert str(copy) == str(error)
    assert copy.args == error.args
    assert _public(copy) == _public(error)
    assert_no_secret(error)
    assert_no_secret(copy)
    response = getattr(copy, "response", None)
    kept = [getattr(copy, "request", None)]
    if isinstance(response, httpx.Response):
        assert "set-cookie" not in response.headers
        with contextlib.suppress(RuntimeError):  # a reply built by hand has no request
            kept.append(response.request)
    for request in kept:
        if isinstance(request, httpx.Request):
            assert request.headers["X-SFDC-Session"] == "[redacted]"
            assert request.headers["Authorization"] == "[redacted]"
            assert request.content == b""


def test_a_streamed_replys_excerpt_survives_without_its_cause() -> None:
    error = _streamed_protocol_error()
    copy = pickle.loads(pickle.dumps(error))
    assert copy.__cause__ is None  # as for every exception: the chain stays behind
    assert copy.excerpt == error.excerpt == "<html><body>proxy"


def test_a_pickled_copy_is_still_caught_as_its_family() -> None:
    copy = pickle.loads(pickle.dumps(_instances()["RefreshTokenRevokedError"]))
    with pytest.raises(errors.InvalidGrantError, match="Re-authorise the app"):
        raise copy
    assert copy.error == "invalid_grant"


# -- across a process pool ---------------------------------------------------------


def _wrong_password_job(instance_url: str) -> None:
    """In a worker: a job with a wrong password (the fake org lives in this process)."""
    org = FakeOrg()
    user = org.state.accounts.default
    auth = SoapLogin(user.username, "wrong-password", "x", login_url=org.instance_url)
    with Bulk(auth=auth, transport=FakeOrgTransport(org)) as bulk:
        bulk.create_job("insert", "Account")


def _dead_refresh_token(instance_url: str) -> None:
    org = FakeOrg()
    app = org.oauth.add_app("A", rotate_refresh_tokens=True)
    auth = RefreshToken(
        app.client_id, REFRESH_TOKEN, client_secret=app.client_secret, login_url=org.instance_url
    )
    with Bulk(auth=auth, transport=FakeOrgTransport(org)) as bulk:
        bulk.create_job("insert", "Account")


def test_a_refused_login_in_a_worker_process_comes_back_as_the_error() -> None:
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(1, mp_context=context) as pool:
        with pytest.raises(errors.LoginError, match="INVALID_LOGIN") as login:
            pool.submit(_wrong_password_job, INSTANCE).result(timeout=120)
        with pytest.raises(errors.RefreshTokenRevokedError) as revoked:
            pool.submit(_dead_refresh_token, INSTANCE).result(timeout=120)
        # the pool is not broken: it still runs work
        assert pool.submit(str, 1).result(timeout=60) == "1"
    assert login.value.code == "INVALID_LOGIN"
    assert revoked.value.code == "invalid_grant"
    assert_no_secret(login.value, ("wrong-password",))
    assert_no_secret(revoked.value, (REFRESH_TOKEN,))
