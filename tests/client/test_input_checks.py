"""What the clients refuse before sending anything: bad constructor arguments, calls
without a session or a current job, bad job input."""

from __future__ import annotations

import pytest

from sfbulk_sdk import Bulk, errors
from sfbulk_sdk.testing import FakeOrg, FakeOrgTransport
from tests.client.mock_replies import JOB, SECRET
from tests.org_clients import soap_auth


def test_constructor_checks() -> None:
    with pytest.raises(errors.InvalidInputError):
        Bulk("https://na1.example.test/")
    with pytest.raises(errors.InvalidInputError):
        Bulk("ftp://x", SECRET)
    with pytest.raises(errors.InvalidInputError, match="retired"):
        Bulk(api_version="26.0")
    with pytest.raises(errors.InvalidInputError, match="not authenticated"):
        Bulk().get_job(JOB)
    with pytest.raises(errors.InvalidInputError, match="job_create"):
        Bulk().batch_create("a,b\n1,2\n")


def test_bad_input_raises_before_any_request() -> None:
    org = FakeOrg()
    with Bulk(auth=soap_auth(), transport=FakeOrgTransport(org)) as bulk:
        with pytest.raises(errors.InvalidInputError):
            bulk.create_job("upsert", "Contact")
        with pytest.raises(errors.InvalidInputError):
            bulk.create_job("insert", "Contact; DROP")
    assert sum(org.requests.values()) == 0
