"""Non-idempotent requests whose reply is lost are reconciled, never blindly sent again.

The fake org fails a request *after* acting on it (the batch is created, the job
opened, the data stored; then the reply is a 5xx or the connection is cut) or
*before* (nothing happened). Either way the client asks what arrived (the job's
batches and their request content, the job list, the job's state) and sends
only what did not: afterwards the org holds each batch, job and record once.
"""

from __future__ import annotations

import anyio
import pytest

from sfbulk_sdk import AsyncBulk, Bulk, errors
from sfbulk_sdk.auth import StaticSession
from sfbulk_sdk.core import reconcile
from sfbulk_sdk.core.reconcile_specs import BatchUpload, Ledger
from sfbulk_sdk.models import BatchInfo, ContentType
from sfbulk_sdk.testing import FakeOrg, FakeOrgTransport
from sfbulk_sdk.testing.faults import Chaos, Fault
from sfbulk_sdk.testing.http import FakeRequest
from tests.timing import FakeTime

#: How the reply is lost: an error reply or a cut connection.
LOSSES = {"500": {"status": 500}, "reset": {"drop_connection": True}}
DATA = b"LastName\nA\nB\nC\n"


def _bulk(org: FakeOrg) -> Bulk:
    auth = StaticSession(org.instance_url, org.issue_session())
    return Bulk(auth=auth, transport=FakeOrgTransport(org), **FakeTime().sync())


@pytest.mark.parametrize("after", [True, False], ids=["after acting", "before acting"])
@pytest.mark.parametrize("loss", sorted(LOSSES))
def test_a_bulk1_batch_whose_reply_is_lost_is_sent_only_if_it_never_arrived(
    loss: str, after: bool
) -> None:
    org = FakeOrg()
    with _bulk(org) as bulk:
        job = bulk.create_job("insert", "Contact", content_type="CSV")
        assert job.id is not None
        org.inject_fault(r"/batch$", method="POST", after=after, **LOSSES[loss])  # type: ignore[arg-type]
        info = bulk.add_batch(job.id, DATA)
        bulk.close_job(job.id)
        bulk.wait_for_batch(job.id, info.id)
    batches = org.batches(job.id)
    assert [b.id for b in batches] == [info.id]  # one batch: the first one, or the resent one
    assert org.requests["fault"] == 1 and org.requests["batch_create"] == 1  # never sent twice
    assert org.requests["batch_request"] == (1 if after else 0)  # its content was compared
    assert sorted(r["LastName"] for r in org.records("Contact")) == ["A", "B", "C"]


def test_a_lost_batch_reply_never_adopts_a_batch_the_client_already_holds() -> None:
    org = FakeOrg()
    with _bulk(org) as bulk:
        job = bulk.create_job("insert", "Contact", content_type="CSV")
        assert job.id is not None
        first = bulk.add_batch(job.id, DATA)
        org.inject_fault(r"/batch$", method="POST", after=False, status=500)
        second = bulk.add_batch(job.id, DATA)  # the same content; the first is not taken for it
    assert second.id != first.id
    assert sorted(b.id for b in org.batches(job.id)) == sorted([first.id, second.id])


@pytest.mark.parametrize("after", [True, False], ids=["after acting", "before acting"])
@pytest.mark.parametrize("loss", sorted(LOSSES))
def test_a_bulk2_job_creation_whose_reply_is_lost_finds_the_job(loss: str, after: bool) -> None:
    org = FakeOrg()
    with _bulk(org) as bulk:
        other = bulk.create_ingest_job("insert", "Contact")  # held: never taken for the new one
        bulk.create_ingest_job("update", "Contact")  # other settings: never taken either
        org.inject_fault(r"/jobs/ingest$", method="POST", after=after, **LOSSES[loss])  # type: ignore[arg-type]
        job = bulk.create_ingest_job("insert", "Contact")
    jobs = org.state.bulk2.ingest_jobs()
    assert len(jobs) == 3 and job.id != other.id and job.id in {j.id for j in jobs}
    assert org.requests["fault"] == 1 and org.requests["ingest_create"] == 3  # never twice
    assert org.requests["ingest_list"] == 1


@pytest.mark.parametrize("after", [True, False], ids=["after acting", "before acting"])
@pytest.mark.parametrize("loss", sorted(LOSSES))
def test_a_lost_multipart_create_and_upload_finds_its_job(loss: str, after: bool) -> None:
    org = FakeOrg()
    with _bulk(org) as bulk:
        held = bulk.create_ingest_job_with_data("insert", "Contact", DATA)  # never taken
        bulk.create_ingest_job("insert", "Contact")  # Open, no data: never taken either
        org.inject_fault(r"/jobs/ingest$", method="POST", after=after, **LOSSES[loss])  # type: ignore[arg-type]
        job = bulk.create_ingest_job_with_data("insert", "Contact", b"LastName\nD\nE\n")
        assert job.id is not None and job.id != held.id
        bulk.wait_for_ingest_job(job.id)
        bulk.wait_for_ingest_job(held.id or "")
    assert len(org.state.bulk2.ingest_jobs()) == 3
    assert org.requests["ingest_create"] == 3  # the lost one was never sent twice
    assert org.requests["ingest_list"] == 1
    # every record once: the second job's data was not loaded twice
    assert sorted(r["LastName"] for r in org.records("Contact")) == ["A", "B", "C", "D", "E"]


@pytest.mark.parametrize("after", [True, False], ids=["after acting", "before acting"])
@pytest.mark.parametrize("loss", sorted(LOSSES))
def test_a_bulk2_upload_and_close_whose_replies_are_lost_are_reconciled(
    loss: str, after: bool
) -> None:
    org = FakeOrg()
    with _bulk(org) as bulk:
        job = bulk.create_ingest_job("insert", "Contact")
        assert job.id is not None
        org.inject_fault(r"/batches$", method="PUT", after=after, **LOSSES[loss])  # type: ignore[arg-type]
        bulk.upload_job_data(job.id, DATA)  # a second upload would be refused: not raised
        org.inject_fault(rf"/{job.id}$", method="PATCH", after=after, **LOSSES[loss])  # type: ignore[arg-type]
        closed = bulk.upload_complete(job.id)  # closing twice would be refused: not raised
        assert closed.id == job.id
        done = bulk.wait_for_ingest_job(job.id)
    assert done.number_records_processed == 3
    assert sorted(r["LastName"] for r in org.records("Contact")) == ["A", "B", "C"]
    # An Open job's state cannot tell whether the data arrived: it is sent again, and a
    # refusal of the second upload proves that the first arrived.
    assert org.requests["ingest_upload"] == (2 if after else 1)


def test_a_bulk1_job_creation_whose_reply_is_lost_is_sent_again() -> None:
    org = FakeOrg()
    with _bulk(org) as bulk:
        org.inject_fault(r"/job$", method="POST", after=True, drop_connection=True)
        job = bulk.create_job("insert", "Contact", content_type="CSV")
    # Bulk 1.0 cannot list jobs: the first job stays Open and empty; no record is in it.
    assert len(org.jobs()) == 2 and job.id == org.jobs()[-1].id
    assert all(org.batches(j.id) == [] for j in org.jobs() if j.id is not None)


@pytest.mark.parametrize("api", ["bulk1", "bulk2"])
@pytest.mark.parametrize("client", ["sync", "async"])
def test_a_load_with_every_step_losing_its_reply_loads_every_record_once(
    api: str, client: str
) -> None:
    org = FakeOrg()
    for path, method in [
        (r"/job$", "POST"),
        (r"/batch$", "POST"),
        (r"/jobs/ingest$", "POST"),
        (r"/batches$", "PUT"),
        (r"/jobs/ingest/\w+$", "PATCH"),
    ]:
        org.inject_fault(path, method=method, after=True, drop_connection=True, count=2)
    rows = [{"FirstName": f"F{i}", "LastName": f"L{i}"} for i in range(12_000)]
    options: dict[str, object] = {"api": api, "batch_size": 1_000, "job_size": 60_000}
    session = org.issue_session()
    if client == "sync":
        auth = StaticSession(org.instance_url, session)
        with Bulk(auth=auth, transport=FakeOrgTransport(org), **FakeTime().sync()) as bulk:
            result = bulk.insert("Contact", rows, progress=None, **options)  # type: ignore[arg-type]
    else:

        async def run() -> object:
            auth = StaticSession(org.instance_url, session)
            async with AsyncBulk(
                auth=auth, transport=FakeOrgTransport(org), **FakeTime().async_()
            ) as bulk:
                return await bulk.insert("Contact", rows, progress=None, **options)  # type: ignore[arg-type]

        result = anyio.run(run)
    assert result.ok and len(result) == 12_000  # type: ignore[attr-defined]
    names = sorted(str(r["FirstName"]) for r in org.records("Contact"))
    assert names == sorted(f"F{i}" for i in range(12_000))  # every record once
    left = {f.path for f in org.faults.active()}
    other_api = {r"/job$", r"/batch$"} if api == "bulk2" else {r"/jobs/ingest$", r"/batches$"}
    assert left <= other_api | {r"/jobs/ingest/\w+$"}  # every step of this API lost replies
    assert api == "bulk1" or left == other_api


def test_a_reply_naming_a_batch_adopted_meanwhile_is_reconciled_in_turn() -> None:
    ledger = Ledger()
    spec = BatchUpload("750000000000001AAA", DATA, ContentType.CSV)
    info = BatchInfo(id="751000000000001AAA", job_id=spec.job_id, state="Queued")
    reconcile.claim(spec, info, ledger)  # the reply is this request's own
    assert ledger.holds(info.id)
    with pytest.raises(errors.TransportError) as caught:
        reconcile.claim(spec, info, ledger)  # a second reply naming it: another request's
    assert caught.value.sent is True and caught.value.retryable


def test_the_fault_controls_take_after_acting_faults_and_a_chaos_plan() -> None:
    org = FakeOrg()

    def control(method: str, path: str, body: bytes = b"") -> tuple[int, bytes]:
        reply = org.handle(FakeRequest(method, path, body=body))
        return reply.status, reply.body

    status, _ = control("POST", "/_fake/faults", b'{"path": "/batch$", "after": true}')
    assert status == 201 and org.faults.active()[0].after is True
    assert org.faults.active()[0] == Fault("/batch$", after=True)
    status, body = control("POST", "/_fake/chaos", b'{"seed": 7, "rate": 0.5}')
    assert status == 201 and b'"seed": 7' in body
    assert isinstance(org.faults.chaos, Chaos) and org.faults.chaos.rate == 0.5
    assert control("GET", "/_fake/chaos")[0] == 200
    assert control("POST", "/_fake/chaos", b'{"rate": 0.5}')[0] == 400  # a seed is needed
    assert control("DELETE", "/_fake/chaos") == (200, b'{"cleared": true}')
    assert org.faults.chaos is None


def test_a_chaos_plan_is_reproducible_and_near_its_rate() -> None:
    def fates(seed: int) -> list[str]:
        plan = Chaos(seed=seed, rate=0.05)
        out = []
        for n in range(2_000):
            fault, _ = plan.draw("POST", f"/services/async/64.0/job/750x{n:014d}/batch")
            out.append("ok" if fault is None else f"{fault.after}-{fault.drop_connection}")
        return out

    first = fates(3)
    assert first == fates(3) and first != fates(4)  # the seed decides, and only it
    struck = [f for f in first if f != "ok"]
    assert 60 <= len(struck) <= 140  # 5 % of 2,000, give or take
    assert len(set(struck)) == 4  # before and after, reset and error reply, all drawn
