"""The fake org's OAuth token flows in-process: password, JWT bearer, client credentials.

Each flow's access token is an ordinary session: it drives a Bulk 1.0 call
(``X-SFDC-Session``) and is refused after the org's session timeout of
inactivity and after ``/services/oauth2/revoke``.
"""

from __future__ import annotations

import base64
import json
import subprocess
import sys

import httpx
import pytest
from oauth_support import (
    JWT_BEARER,
    LOGIN,
    TEST,
    assert_oauth_error,
    assert_token,
    assertion,
    client,
    expected_signature,
    jwt,
    open_job,
    session_works,
    token,
)

from sfbulk_sdk.testing import (
    DEFAULT_PASSWORD,
    DEFAULT_SECURITY_TOKEN,
    DEFAULT_USERNAME,
    ExternalClientApp,
    FakeOrg,
    ManualClock,
)
from tests.keys import KeyPair

MY_DOMAIN = "https://fake-org.my.salesforce.com"
PASSWORD = DEFAULT_PASSWORD + DEFAULT_SECURITY_TOKEN
TIMEOUT = 900


@pytest.fixture
def org(clock: ManualClock) -> FakeOrg:
    return FakeOrg(clock=clock, session_timeout=TIMEOUT)


@pytest.fixture
def app(org: FakeOrg, keys: KeyPair) -> ExternalClientApp:
    return org.oauth.add_app("Integration", certificate=keys.certificate, run_as=DEFAULT_USERNAME)


def password_form(app: ExternalClientApp, **changes: str) -> dict[str, str]:
    form = {
        "grant_type": "password",
        "client_id": app.client_id,
        "client_secret": app.client_secret,
        "username": DEFAULT_USERNAME,
        "password": PASSWORD,
    }
    return {**form, **changes}


def jwt_form(
    org: FakeOrg, app: ExternalClientApp, keys: KeyPair, *, ahead: float = 120, **claims: str
) -> dict[str, str]:
    exp = org.clock().timestamp() + ahead
    signed = assertion(
        keys.private_key,
        iss=claims.get("iss", app.client_id),
        sub=claims.get("sub", DEFAULT_USERNAME),
        aud=claims.get("aud", LOGIN),
        exp=exp,
    )
    return {"grant_type": JWT_BEARER, "assertion": signed}


def test_password_flow_token_is_a_session_that_expires(
    org: FakeOrg, app: ExternalClientApp
) -> None:
    with client(org) as http:
        body = assert_token(
            token(http, **password_form(app)),
            "access_token", "instance_url", "id", "token_type", "issued_at", "signature",
        )  # fmt: skip
        assert body["token_type"] == "Bearer" and body["instance_url"] == MY_DOMAIN
        user = org.state.accounts.default
        assert body["id"] == f"{LOGIN}/id/{org.org_id}/{user.user_id}"
        issued = body["issued_at"]
        assert issued.isdigit() and int(issued) == int(org.clock().timestamp() * 1000)
        assert body["signature"] == expected_signature(app.client_secret, body["id"], issued)
        session = body["access_token"]
        assert session.startswith(org.org_id[:15] + "!")
        job_id = open_job(http, body["instance_url"], session)
        assert session_works(http, MY_DOMAIN, session, job_id)
        # the same session is what REST's ``Authorization: Bearer`` is checked against
        assert org.state.accounts.authenticate(session) is user
        org.advance(TIMEOUT - 1)
        assert session_works(http, MY_DOMAIN, session, job_id)  # every use renews it
        org.advance(TIMEOUT + 1)
        assert not session_works(http, MY_DOMAIN, session, job_id)
    assert org.login_count == 0 and org.oauth.logins == 1
    assert org.stats()["all_logins"] == 1


def test_password_flow_checks_credentials_as_soap_login_does(
    org: FakeOrg, app: ExternalClientApp
) -> None:
    refused = "authentication failure"
    with client(org) as http:
        for changes in (
            {"password": "wrong" + DEFAULT_SECURITY_TOKEN},
            {"password": DEFAULT_PASSWORD},  # the token is needed: this user has one
            {"username": "nobody@example.com"},
        ):
            assert_oauth_error(
                token(http, **password_form(app, **changes)), 400, "invalid_grant", refused
            )
        assert_oauth_error(
            token(http, **password_form(app, client_secret="nope")),
            400, "invalid_client", "invalid client credentials",
        )  # fmt: skip
        assert_oauth_error(
            token(http, **password_form(app, client_id="3MVG9unknown")),
            400, "invalid_client_id", "client identifier invalid",
        )  # fmt: skip
        form = password_form(app)
        del form["username"]
        assert_oauth_error(
            token(http, **form), 400, "invalid_request", "missing required parameter: username"
        )
    grants = org.oauth.stats()["grants"]["password"]
    assert grants == {"requests": 6, "successes": 0, "failures": 6}
    assert org.failed_logins == 0  # SOAP's counter is SOAP's


def test_password_flow_shares_the_soap_login_allowance(clock: ManualClock) -> None:
    org = FakeOrg(clock=clock, max_logins_per_hour=2)
    app = org.oauth.add_app()
    login = (
        '<env:Envelope xmlns:env="http://schemas.xmlsoap.org/soap/envelope/"><env:Body>'
        f'<login xmlns="urn:partner.soap.sforce.com"><username>{DEFAULT_USERNAME}</username>'
        f"<password>{PASSWORD}</password></login></env:Body></env:Envelope>"
    )
    with client(org) as http:
        assert http.post("/services/Soap/u/62.0", content=login).status_code == 200
        assert_token(
            token(http, **password_form(app)),
            "access_token", "instance_url", "id", "token_type", "issued_at", "signature",
        )  # fmt: skip
        assert_oauth_error(
            token(http, **password_form(app)), 400, "rate_limit_exceeded", "login rate exceeded"
        )
        refused = http.post("/services/Soap/u/62.0", content=login)
        assert refused.status_code == 500 and "LOGIN_RATE_EXCEEDED" in refused.text
        org.advance(3600)
        assert token(http, **password_form(app)).status_code == 200
    assert org.login_count == 1 and org.oauth.logins == 2 and org.stats()["all_logins"] == 3


def test_a_flow_the_app_does_not_allow_is_refused(org: FakeOrg, keys: KeyPair) -> None:
    app = org.oauth.add_app(certificate=keys.certificate, flows=["refresh_token"])
    with client(org, MY_DOMAIN) as http:
        # a blocked username-password flow answers like a wrong password
        assert_oauth_error(
            token(http, **password_form(app)), 400, "invalid_grant", "authentication failure"
        )
        for form in (
            jwt_form(org, app, keys),
            {"grant_type": "client_credentials", "client_id": app.client_id,
             "client_secret": app.client_secret},
        ):  # fmt: skip
            assert_oauth_error(
                token(http, **form), 400, "unsupported_grant_type", "grant type not supported"
            )


def test_jwt_bearer_flow_and_revocation(
    org: FakeOrg, app: ExternalClientApp, keys: KeyPair
) -> None:
    with client(org, MY_DOMAIN) as http:  # posted to My Domain, audience login.salesforce.com
        body = assert_token(
            token(http, **jwt_form(org, app, keys)),
            "access_token", "scope", "instance_url", "id", "token_type",
        )  # fmt: skip
        assert body["scope"] == "api" and body["token_type"] == "Bearer"
        session = body["access_token"]
        job_id = open_job(http, MY_DOMAIN, session)
        assert session_works(http, MY_DOMAIN, session, job_id)

        revoked = http.post("/services/oauth2/revoke", data={"token": session})
        assert revoked.status_code == 200 and revoked.content == b""
        assert revoked.headers["cache-control"] == "no-store"
        assert not session_works(http, MY_DOMAIN, session, job_id)
        again = http.post("/services/oauth2/revoke", data={"token": session})
        assert_oauth_error(again, 400, "unsupported_token_type", "this token type is not supported")
        assert_oauth_error(
            http.post("/services/oauth2/revoke", data={}),
            400, "invalid_request", "missing required parameter: token",
        )  # fmt: skip
    stats = org.oauth.stats()
    assert stats["revocations"] == 1 and stats["revoke_failures"] == 2
    assert stats["grants"]["jwt_bearer"] == {"requests": 1, "successes": 1, "failures": 0}


def test_jwt_session_expires_after_the_timeout(
    org: FakeOrg, app: ExternalClientApp, keys: KeyPair
) -> None:
    with client(org, TEST) as http:
        session = token(http, **jwt_form(org, app, keys, aud=TEST)).json()["access_token"]
        job_id = open_job(http, MY_DOMAIN, session)
        org.advance(TIMEOUT + 1)
        assert not session_works(http, MY_DOMAIN, session, job_id)


def test_jwt_accepts_a_public_key_the_skew_and_site_urls(org: FakeOrg, keys: KeyPair) -> None:
    app = org.oauth.add_app(certificate=keys.public_key, scopes=["api", "web", "refresh_token"])
    org.oauth.site_urls.append("https://fake-org.my.site.com/partners")
    with client(org, MY_DOMAIN) as http:
        late = token(http, **jwt_form(org, app, keys, ahead=-25))  # within the 30 s skew
        assert late.status_code == 200 and late.json()["scope"] == "api web"
        site = jwt_form(org, app, keys, aud="https://fake-org.my.site.com/partners")
        assert token(http, **site).status_code == 200
        listed = assertion(
            keys.private_key,
            iss=app.client_id,
            sub=DEFAULT_USERNAME,
            aud=["https://elsewhere.example", TEST],
            exp=str(int(org.clock().timestamp()) + 60),  # a string is fine too
        )
        assert token(http, grant_type=JWT_BEARER, assertion=listed).status_code == 200


@pytest.mark.parametrize(
    ("case", "error", "description"),
    [
        ("wrong key", "invalid_grant", "invalid assertion"),
        ("expired", "invalid_grant", "invalid assertion"),
        ("too far ahead", "invalid_grant", "invalid assertion"),
        ("no exp", "invalid_grant", "invalid assertion"),
        ("my domain audience", "invalid_grant", "Audience validation failed"),
        ("unknown issuer", "invalid_client_id", "client identifier invalid"),
        ("unknown user", "invalid_grant", "user hasn't approved this consumer"),
        ("not approved", "invalid_grant", "user hasn't approved this consumer"),
        ("not a jwt", "invalid_grant", "invalid assertion"),
        ("HS256", "invalid_grant", "invalid assertion"),
    ],
)
def test_jwt_refusals(
    org: FakeOrg,
    app: ExternalClientApp,
    keys: KeyPair,
    other_keys: KeyPair,
    case: str,
    error: str,
    description: str,
) -> None:
    now = org.clock().timestamp()
    claims: dict[str, object] = {
        "iss": app.client_id, "sub": DEFAULT_USERNAME, "aud": LOGIN, "exp": now + 60,
    }  # fmt: skip
    key = keys.private_key
    if case == "wrong key":
        key = other_keys.private_key
    elif case == "expired":
        claims["exp"] = now - 31
    elif case == "too far ahead":
        claims["exp"] = now + 180 + 31
    elif case == "no exp":
        del claims["exp"]
    elif case == "my domain audience":
        claims["aud"] = MY_DOMAIN
    elif case == "unknown issuer":
        claims["iss"] = "3MVG9nobody"
    elif case == "unknown user":
        claims["sub"] = "ghost@example.com"
    elif case == "not approved":
        org.add_user("other@example.com", "pw")
        app.approved_users = {"OTHER@example.com"}
    signed = jwt.encode(claims, key, algorithm="RS256")
    if case == "not a jwt":
        signed = "not.a.jwt"
    elif case == "HS256":
        signed = jwt.encode(claims, "a-shared-secret-of-enough-length-1234", algorithm="HS256")
    with client(org, MY_DOMAIN) as http:
        reply = token(http, grant_type=JWT_BEARER, assertion=signed)
    assert_oauth_error(reply, 400, error, description)
    assert signed not in reply.text
    assert org.oauth.stats()["grants"]["jwt_bearer"]["failures"] == 1
    assert org.state.accounts.active_sessions == 0


def test_client_credentials_on_my_domain(org: FakeOrg, app: ExternalClientApp) -> None:
    app.scopes = ("api", "refresh_token", "sfap_api")
    with client(org, MY_DOMAIN) as http:
        body = assert_token(
            token(http, grant_type="client_credentials", client_id=app.client_id,
                  client_secret=app.client_secret),
            "access_token", "signature", "scope", "instance_url", "id", "token_type",
            "issued_at", "api_instance_url",
        )  # fmt: skip
        assert body["scope"] == "api sfap_api"  # never refresh_token in this flow
        assert body["signature"] == expected_signature(
            app.client_secret, body["id"], body["issued_at"]
        )
        basic = http.post(
            "/services/oauth2/token",
            data={"grant_type": "client_credentials"},
            auth=(app.client_id, app.client_secret),
        )
        assert basic.status_code == 200
        for session in (body["access_token"], basic.json()["access_token"]):
            job_id = open_job(http, MY_DOMAIN, session)
            assert session_works(http, MY_DOMAIN, session, job_id)
            assert org.state.accounts.authenticate(session) is org.state.accounts.default
        org.advance(TIMEOUT + 1)
        assert not session_works(http, MY_DOMAIN, body["access_token"], job_id)


@pytest.mark.parametrize("host", [LOGIN, TEST])
def test_client_credentials_refused_on_login_hosts(
    org: FakeOrg, app: ExternalClientApp, host: str
) -> None:
    with client(org, host) as http:
        reply = token(
            http, grant_type="client_credentials", client_id=app.client_id,
            client_secret=app.client_secret,
        )  # fmt: skip
        assert_oauth_error(reply, 400, "invalid_grant", "request not supported on this domain")
        # also under a path prefix, as clients building https://{domain}.salesforce.com send
        prefixed = token(
            http, url="/x/services/oauth2/token", grant_type="client_credentials",
            client_id=app.client_id, client_secret=app.client_secret,
        )  # fmt: skip
        assert prefixed.status_code == 400
    with client(org, MY_DOMAIN) as http:  # a login host in the path prefix counts as the host
        named = token(
            http, url=f"/{host[8:]}/services/oauth2/token", grant_type="client_credentials",
            client_id=app.client_id, client_secret=app.client_secret,
        )  # fmt: skip
        assert_oauth_error(named, 400, "invalid_grant", "request not supported on this domain")
        assert token(
            http, url="/my.prefix/services/oauth2/token", grant_type="client_credentials",
            client_id=app.client_id, client_secret=app.client_secret,
        ).status_code == 200  # fmt: skip
    assert org.oauth.stats()["grants"]["client_credentials"]["failures"] == 3


def test_client_credentials_refusals(org: FakeOrg) -> None:
    no_user = org.oauth.add_app("No run-as")
    no_scopes = org.oauth.add_app("No scopes", run_as=DEFAULT_USERNAME, scopes=["refresh_token"])
    with client(org, MY_DOMAIN) as http:

        def cc(app: ExternalClientApp, **changes: str) -> httpx.Response:
            form = {"grant_type": "client_credentials", "client_id": app.client_id,
                    "client_secret": app.client_secret}  # fmt: skip
            return token(http, **{**form, **changes})

        assert_oauth_error(cc(no_user), 400, "invalid_grant", "no client credentials user enabled")
        assert_oauth_error(cc(no_scopes), 400, "invalid_grant", "no valid scopes defined")
        wrong = cc(no_scopes, client_secret="wrong")
        assert_oauth_error(wrong, 400, "invalid_client", "invalid client credentials")
        assert_oauth_error(
            cc(no_scopes, client_id="3MVG9unknown"),
            400, "invalid_client_id", "client identifier invalid",
        )  # fmt: skip
        basic = http.post(
            "/services/oauth2/token",
            data={"grant_type": "client_credentials"},
            auth=(no_scopes.client_id, "wrong"),
        )
        assert_oauth_error(basic, 401, "invalid_client", "invalid client credentials")
        assert basic.headers["www-authenticate"].startswith("Basic")
        for reply in (wrong, basic):
            assert no_scopes.client_secret not in reply.text
    apps = org.oauth.stats()["apps"]
    assert apps[no_user.client_id] == {"successes": 0, "failures": 1}
    assert apps[no_scopes.client_id] == {"successes": 0, "failures": 3}


@pytest.mark.parametrize(
    ("method", "form", "content_type"),
    [
        ("POST", {}, None),
        ("POST", {"grant_type": "urn:ietf:params:oauth:grant-type:saml2-bearer"}, None),
        ("POST", {"grant_type": "urn:ietf:params:oauth:grant-type:device_code"}, None),
        ("POST", {"grant_type": "password"}, "application/json"),  # not a form: nothing read
    ],
)
def test_unsupported_grant_types(
    org: FakeOrg, method: str, form: dict[str, str], content_type: str | None
) -> None:
    with client(org) as http:
        if content_type:
            reply = http.request(
                method, "/services/oauth2/token", content=json.dumps(form),
                headers={"Content-Type": content_type},
            )  # fmt: skip
        else:
            reply = http.request(method, "/services/oauth2/token", data=form)
    assert_oauth_error(reply, 400, "unsupported_grant_type", "grant type not supported")
    assert org.oauth.stats()["grants"]["unsupported"] == {
        "requests": 1, "successes": 0, "failures": 1,
    }  # fmt: skip


def test_token_endpoint_needs_post(org: FakeOrg) -> None:
    with client(org) as http:
        assert_oauth_error(
            http.get("/services/oauth2/token"), 400, "invalid_request", "must use HTTP POST"
        )
        assert_oauth_error(
            http.get("/services/oauth2/revoke"), 400, "invalid_request", "must use HTTP POST"
        )


def test_basic_auth_values_are_form_decoded(org: FakeOrg) -> None:
    app = org.oauth.add_app(client_secret="se cret+/", run_as=DEFAULT_USERNAME)
    raw = f"{app.client_id}:se+cret%2B%2F".encode()
    header = "Basic " + base64.b64encode(raw).decode()
    with client(org, MY_DOMAIN) as http:
        reply = http.post(
            "/services/oauth2/token",
            data={"grant_type": "client_credentials"},
            headers={"Authorization": header},
        )
    assert reply.status_code == 200, reply.text


def test_sandbox_identity_urls_and_the_login_host(clock: ManualClock) -> None:
    org = FakeOrg(clock=clock, sandbox=True)
    app = org.oauth.add_app()
    with client(org, MY_DOMAIN) as http:
        assert token(http, **password_form(app)).json()["id"].startswith(f"{TEST}/id/")
    with client(org, LOGIN) as http:
        assert token(http, **password_form(app)).json()["id"].startswith(f"{LOGIN}/id/")


def test_nothing_secret_in_reprs_stats_or_errors(
    org: FakeOrg, app: ExternalClientApp, keys: KeyPair
) -> None:
    refresh = org.oauth.issue_refresh_token(app)
    with client(org, MY_DOMAIN) as http:
        session = token(http, **password_form(app)).json()["access_token"]
        failed = token(
            http, grant_type="refresh_token", refresh_token=refresh, client_id=app.client_id,
            client_secret="wrong",
        )  # fmt: skip
    shown = " ".join(
        [repr(app), repr(org.oauth), repr(org), repr(org.state), json.dumps(org.stats()),
         failed.text, repr(org.state.oauth.refresh(app, refresh)[0])]
    )  # fmt: skip
    for secret in (app.client_secret, refresh, session, keys.certificate, PASSWORD):
        assert secret not in shown
    assert json.loads(failed.text)["error"] == "invalid_client"


def test_the_package_imports_without_pyjwt_and_cryptography() -> None:
    code = (
        "import sys\n"
        "sys.modules['jwt'] = None\n"
        "sys.modules['cryptography'] = None\n"
        "import httpx\n"
        "from sfbulk_sdk.testing import FakeOrg, FakeOrgTransport\n"
        "org = FakeOrg()\n"
        "app = org.oauth.add_app(run_as=org.state.accounts.default.username)\n"
        "http = httpx.Client(transport=FakeOrgTransport(org), base_url=org.instance_url)\n"
        "r = http.post('/services/oauth2/token', data={'grant_type': "
        "'urn:ietf:params:oauth:grant-type:jwt-bearer', 'assertion': 'a.b.c'})\n"
        "print(r.status_code, r.json()['error'], r.json()['error_description'])\n"
        "try:\n"
        "    org.oauth.add_app(certificate='-----BEGIN CERTIFICATE-----')\n"
        "except RuntimeError as exc:\n"
        "    print('add_app:', exc)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True
    )
    lines = done.stdout.splitlines()
    assert lines[0].startswith("500 server_error ") and "PyJWT and cryptography" in lines[0]
    assert lines[1].startswith("add_app: ") and "install sfbulk-sdk[fake-org]" in lines[1]


def test_apps_and_refresh_tokens_are_checked_when_configured(org: FakeOrg) -> None:
    with pytest.raises(ValueError, match="certificate"):
        org.oauth.add_app(certificate="not a pem")
    with pytest.raises(KeyError):
        org.oauth.add_app(run_as="ghost@example.com")
    with pytest.raises(ValueError, match="unknown OAuth flows"):
        org.oauth.add_app(flows=["device"])  # type: ignore[list-item]
    app = org.oauth.add_app(client_id="3MVG9fixed", client_secret="s3cret")
    with pytest.raises(ValueError, match="already exists"):
        org.oauth.add_app(client_id="3MVG9fixed")
    assert org.oauth.app("3MVG9fixed") is app and org.oauth.apps == [app]
    with pytest.raises(KeyError):
        org.oauth.app("3MVG9other")
    with pytest.raises(ValueError, match="cannot be changed"):
        org.oauth.update_app(app, client_secret="new")
    org.oauth.update_app("3MVG9fixed", scopes="api web", rotate_refresh_tokens=True)
    assert app.scopes == ("api", "web") and app.rotate_refresh_tokens
    with pytest.raises(ValueError, match="refresh_token scope"):
        org.oauth.issue_refresh_token(app)
    org.oauth.update_app(app, scopes=["api", "refresh_token"], flows=["password"])
    with pytest.raises(ValueError, match="refresh-token flow"):
        org.oauth.issue_refresh_token(app)
    org.oauth.update_app(app, flows=["refresh_token"])
    with pytest.raises(ValueError, match="does not grant"):
        org.oauth.issue_refresh_token(app, scopes=["full"])
    with pytest.raises(KeyError):
        org.oauth.issue_refresh_token(app, "ghost@example.com")
    assert org.oauth.issue_refresh_token(app, scopes=["api"]).startswith("5Aep")
