"""A faithful in-memory Salesforce org for tests: SOAP ``login()``, OAuth 2.0, Bulk API 1.0 and 2.0,
the REST ``query`` and ``describe`` calls.

Use it in-process as an httpx transport::

    from sfbulk_sdk.testing import FakeOrg, FakeOrgTransport

    org = FakeOrg()
    client = httpx.Client(transport=FakeOrgTransport(org), base_url=org.instance_url)

as an ASGI app (``create_app(org)``, needs the ``fake-org`` extra), or as a
real HTTP(S) server (:mod:`sfbulk_sdk.testing.server`, or ``sfbulk fake-org``).
See ``docs/testing.md``.

:func:`create_app` is imported on first use, so that this package works without
Starlette installed.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..core.clock import Clock, ManualClock
from .accounts import DEFAULT_PASSWORD, DEFAULT_SECURITY_TOKEN, DEFAULT_USERNAME, FakeUser
from .faults import Fault
from .http import FakeRequest, FakeResponse
from .ids import checksum_suffix, is_valid_id, normalize_id, to_18
from .oauth import ExternalClientApp, OAuthFlow, OAuthRegistry, OAuthStats
from .org import FakeOrg
from .schema import FieldSpec, FieldType, FieldValue, SObjectSpec
from .settings import OrgSettings
from .soql import SoqlError
from .state import OrgState, OrgStats, WriteError
from .transport import FakeOrgTransport

if TYPE_CHECKING:
    from .asgi import create_app

__all__ = [
    "DEFAULT_PASSWORD",
    "DEFAULT_SECURITY_TOKEN",
    "DEFAULT_USERNAME",
    "Clock",
    "ExternalClientApp",
    "FakeOrg",
    "FakeOrgTransport",
    "FakeRequest",
    "FakeResponse",
    "FakeUser",
    "Fault",
    "FieldSpec",
    "FieldType",
    "FieldValue",
    "ManualClock",
    "OAuthFlow",
    "OAuthRegistry",
    "OAuthStats",
    "OrgSettings",
    "OrgState",
    "OrgStats",
    "SObjectSpec",
    "SoqlError",
    "WriteError",
    "checksum_suffix",
    "create_app",
    "is_valid_id",
    "normalize_id",
    "to_18",
]


def __getattr__(name: str) -> object:
    if name == "create_app":  # needs Starlette (the fake-org extra): imported when asked for
        from .asgi import create_app

        return create_app
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
