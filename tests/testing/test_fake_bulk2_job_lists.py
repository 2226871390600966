"""``GET jobs/ingest`` lists the org's Bulk 1.0 ingest jobs too, as ``jobType: Classic``.

A real org's ingest listing holds both kinds (a Classic job in its own states:
``Open``, ``Closed``, ``Aborted``, ``Failed``); ``jobType=Classic`` keeps those only,
``jobType=V2Ingest`` the Bulk 2.0 ones only. Query jobs are in neither.
"""

from __future__ import annotations

import httpx

from sfbulk_sdk import Bulk
from sfbulk_sdk.auth import StaticSession
from sfbulk_sdk.models.bulk2 import Bulk2JobState, JobList, JobType
from sfbulk_sdk.testing import FakeOrg, FakeOrgTransport


def _listing(org: FakeOrg, query: str = "") -> JobList:
    session = org.issue_session()
    with httpx.Client(
        transport=FakeOrgTransport(org),
        base_url=org.instance_url,
        headers={"Authorization": f"Bearer {session}"},
    ) as http:
        reply = http.get(f"/services/data/v66.0/jobs/ingest{query}")
    assert reply.status_code == 200, reply.text
    return JobList.from_json(reply.content)


def test_an_ingest_listing_holds_classic_jobs_in_their_own_states() -> None:
    org = FakeOrg()
    auth = StaticSession(org.instance_url, org.issue_session())
    with Bulk(auth=auth, transport=FakeOrgTransport(org)) as bulk:
        closed = bulk.create_job("insert", "Contact")
        open_one = bulk.create_job("update", "Account")
        bulk.create_job("query", "Contact")  # a query job: in no ingest listing
        v2 = bulk.create_ingest_job("insert", "Contact")
        assert closed.id and open_one.id and v2.id
        bulk.close_job(closed.id)
    every = {(j.id, j.job_type, j.state) for j in _listing(org)}
    assert every == {
        (v2.id, JobType.V2_INGEST, Bulk2JobState.OPEN),
        (closed.id, JobType.CLASSIC, Bulk2JobState.CLOSED),
        (open_one.id, JobType.CLASSIC, Bulk2JobState.OPEN),
    }
    assert {j.id for j in _listing(org, "?jobType=Classic")} == {closed.id, open_one.id}
    assert {j.id for j in _listing(org, "?jobType=V2Ingest")} == {v2.id}
    assert list(_listing(org, "?isPkChunkingEnabled=true")) == []
