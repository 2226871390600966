"""A connection spec's API version has one home: the spec, not its login as well."""

from __future__ import annotations

from pathlib import Path

import pytest

from sfbulk_sdk.auth import ClientCredentials, SoapLogin
from sfbulk_sdk.auth.soap import DEFAULT_SOAP_API_VERSION
from sfbulk_sdk.errors import InvalidInputError
from sfbulk_sdk.plans import AuthSpec, ConnectionSpec, StoreSpec
from sfbulk_sdk.spark.options import connection_from_options

pytestmark = pytest.mark.filterwarnings("ignore::sfbulk_sdk.deprecations.LoginDeprecationWarning")

SOAP = AuthSpec("soap", "https://login.salesforce.com", username="ada@example.com")


@pytest.mark.parametrize(("version", "soap_version"), [("62.0", "62.0"), (None, None)])
def test_the_spec_version_reaches_the_login_and_the_client(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, version: str | None, soap_version: str | None
) -> None:
    monkeypatch.setenv("SFBULK_PASSWORD", "pw")
    spec = ConnectionSpec(SOAP, StoreSpec(str(tmp_path)), api_version=version)
    login = spec.auth.authenticator(spec.api_version)
    assert isinstance(login, SoapLogin)
    assert login.api_version == (soap_version or DEFAULT_SOAP_API_VERSION)
    with spec.connect() as client:
        assert client.api_version == login.api_version
    assert "api_version" not in spec.to_dict()["auth"]  # type: ignore[operator]
    assert ConnectionSpec.from_dict(spec.to_dict()) == spec


def test_an_oauth_client_keeps_the_spec_version(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SFBULK_CLIENT_SECRET", "s")
    auth = AuthSpec("client_credentials", "https://acme.my.salesforce.com", client_id="abc")
    spec = ConnectionSpec(auth, StoreSpec(str(tmp_path)), api_version="61.0")
    assert isinstance(spec.auth.authenticator(spec.api_version), ClientCredentials)
    with spec.connect() as client:
        assert client.api_version == "61.0"


def test_spark_options_give_the_version_once() -> None:
    spec = connection_from_options(
        {
            "loginUrl": "https://login.salesforce.com",
            "username": "ada",
            "store": "/x",
            "apiVersion": "60.0",
        }
    )
    assert spec.api_version == "60.0"
    assert not hasattr(spec.auth, "api_version")


@pytest.mark.parametrize(
    "address",
    [
        "redis://127.0.0.1:6379/0?password=hunter2",
        "rediss://127.0.0.1:6380/0?db=1&Password=hunter2",
        "mongodb://127.0.0.1:27017/?authSource=admin&password=hunter2",
        "mongodb://h:27017/?tlsCertificateKeyFilePassword=hunter2",
        "mongodb://h:27017/?authMechanism=MONGODB-AWS&authMechanismProperties=AWS_SESSION_TOKEN:hunter2",
    ],
)
def test_a_store_password_in_a_query_parameter_is_refused_unechoed(address: str) -> None:
    with pytest.raises(
        InvalidInputError, match=r"query parameter .*SFBULK_STORE_PASSWORD"
    ) as raised:
        StoreSpec(address)
    assert "hunter2" not in str(raised.value)


def test_a_store_address_with_harmless_parameters_is_kept() -> None:
    assert StoreSpec("redis://127.0.0.1:6379/0?db=1&socket_timeout=5").scheme == "redis"
    assert StoreSpec("mongodb://h:27017/?authSource=admin&tls=true").scheme == "mongodb"
