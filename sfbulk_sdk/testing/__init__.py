"""A faithful in-memory Salesforce org for tests: SOAP ``login()`` and Bulk API 1.0.

Use it in-process as an httpx transport::

    from sfbulk_sdk.testing import FakeOrg

    org = FakeOrg()
    client = httpx.Client(transport=org.transport(), base_url=org.instance_url)

as an ASGI app (``org.asgi_app()``), or as a real HTTP(S) server
(:mod:`sfbulk_sdk.testing.server`, or ``sfbulk fake-org``). See
``docs/testing.md``.
"""

from .bulk import PkChunking
from .clock import Clock, ManualClock, SystemClock
from .faults import Fault
from .http import FakeRequest, FakeResponse
from .ids import checksum_suffix, is_valid_id, normalize_id, to_18
from .org import (
    DEFAULT_PASSWORD,
    DEFAULT_SECURITY_TOKEN,
    DEFAULT_USERNAME,
    FakeOrg,
    WriteError,
)
from .schema import FieldSpec, FieldType, SObjectSpec
from .soap import FakeUser
from .soql import SoqlError
from .transport import FakeOrgTransport

__all__ = [
    "DEFAULT_PASSWORD",
    "DEFAULT_SECURITY_TOKEN",
    "DEFAULT_USERNAME",
    "Clock",
    "FakeOrg",
    "FakeOrgTransport",
    "FakeRequest",
    "FakeResponse",
    "FakeUser",
    "Fault",
    "FieldSpec",
    "FieldType",
    "ManualClock",
    "PkChunking",
    "SObjectSpec",
    "SoqlError",
    "SystemClock",
    "WriteError",
    "checksum_suffix",
    "is_valid_id",
    "normalize_id",
    "to_18",
]
