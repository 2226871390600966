"""simple-salesforce and salesforce-bulk, unchanged, against the fake served over HTTPS.

The server runs in a background thread on a free 127.0.0.1 port with a
certificate from a throwaway ``trustme`` CA. Both clients log in through
SOAP: they build ``https://{domain}.salesforce.com/services/Soap/u/{v}``, so
``domain="127.0.0.1:{port}/login"`` makes that URL land on the fake (which
accepts a login path under any prefix) and the ``serverUrl`` it returns
brings every later call back to it.
"""

from __future__ import annotations

import csv
import io
import os
import subprocess
import sys
from collections.abc import Iterator

import pytest
from fakeorg_support import Tls

from sfbulk_sdk.testing import DEFAULT_PASSWORD, DEFAULT_SECURITY_TOKEN, DEFAULT_USERNAME, FakeOrg
from sfbulk_sdk.testing.server import serve_in_thread

requests = pytest.importorskip("requests")
simple_salesforce = pytest.importorskip("simple_salesforce")
salesforce_bulk = pytest.importorskip("salesforce_bulk")

VERSION = "59.0"


@pytest.fixture(scope="module")
def served(tls: Tls) -> Iterator[tuple[FakeOrg, str]]:
    org = FakeOrg(query_result_file_rows=3)
    with serve_in_thread(org, certfile=tls.cert_file, keyfile=tls.key_file) as url:
        yield org, url


@pytest.fixture(autouse=True)
def trust_test_ca(tls: Tls, monkeypatch: pytest.MonkeyPatch) -> None:
    """requests prefers these variables over ``Session.verify``: point them at the test CA."""
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(tls.ca_file))
    monkeypatch.setenv("CURL_CA_BUNDLE", str(tls.ca_file))


def domain_for(url: str) -> str:
    return url.removeprefix("https://") + "/login"


def test_simple_salesforce_bulk_insert_then_query(
    served: tuple[FakeOrg, str], tls: Tls, request: pytest.FixtureRequest
) -> None:
    org, url = served
    session = requests.Session()
    request.addfinalizer(session.close)  # an idle TLS connection would hold up server shutdown
    session.verify = str(tls.ca_file)
    sf = simple_salesforce.Salesforce(
        username=DEFAULT_USERNAME,
        password=DEFAULT_PASSWORD,
        security_token=DEFAULT_SECURITY_TOKEN,
        domain=domain_for(url),
        version=VERSION,
        session=session,
    )
    logins = org.login_count
    assert sf.bulk_url == f"{url}/services/async/{VERSION}/"
    records = [
        {"Name": f"SSF {n}", "NumberOfEmployees": n, "Industry": "Energy" if n % 2 else None}
        for n in range(7)
    ]
    results = sf.bulk.Account.insert(records, batch_size=3)
    assert len(results) == 7 and all(r["success"] and r["created"] for r in results)
    stored = {r["Id"]: r for r in org.records("Account") if r["Name"].startswith("SSF ")}
    assert {r["id"] for r in results} == set(stored)
    by_name = {r["Name"]: r for r in stored.values()}
    assert by_name["SSF 3"]["NumberOfEmployees"] == 3 and by_name["SSF 3"]["Industry"] == "Energy"
    assert by_name["SSF 2"]["Industry"] is None

    # The query answer spans several result files (3 rows each): simple-salesforce reads them all.
    rows = sf.bulk.Account.query(
        "SELECT Id, Name, NumberOfEmployees FROM Account WHERE Name LIKE 'SSF %'"
    )
    assert sorted((r["Name"], r["NumberOfEmployees"]) for r in rows) == sorted(
        (f"SSF {n}", n) for n in range(7)
    )
    assert {r["Id"] for r in rows} == set(stored)
    assert all(r["attributes"]["type"] == "Account" for r in rows)

    updated = sf.bulk.Account.update([{"Id": i, "Industry": "Retail"} for i in stored])
    assert all(r["success"] and not r["created"] for r in updated)
    assert {r["Industry"] for r in org.records("Account") if r["Id"] in stored} == {"Retail"}
    deleted = sf.bulk.Account.delete([{"Id": i} for i in list(stored)[:2]])
    assert all(r["success"] for r in deleted)
    assert len(sf.bulk.Account.query_all("SELECT Id FROM Account WHERE Name LIKE 'SSF %'")) == 7
    assert len(sf.bulk.Account.query("SELECT Id FROM Account WHERE Name LIKE 'SSF %'")) == 5
    assert org.login_count == logins  # one login for the whole session


def test_simple_salesforce_direct_session(
    served: tuple[FakeOrg, str], tls: Tls, request: pytest.FixtureRequest
) -> None:
    org, url = served
    session = requests.Session()
    request.addfinalizer(session.close)
    session.verify = str(tls.ca_file)
    sf = simple_salesforce.Salesforce(
        instance_url=url, session_id=org.issue_session(), version=VERSION, session=session
    )
    results = sf.bulk.Contact.insert([{"LastName": "Direct"}, {"FirstName": "NoLast"}])
    assert results[0]["success"] is True
    assert results[1]["success"] is False
    assert results[1]["errors"][0]["statusCode"] == "REQUIRED_FIELD_MISSING"


def test_salesforce_bulk_insert_then_query(served: tuple[FakeOrg, str]) -> None:
    org, url = served
    bulk = salesforce_bulk.SalesforceBulk(
        username=DEFAULT_USERNAME,
        password=DEFAULT_PASSWORD,
        security_token=DEFAULT_SECURITY_TOKEN,
        domain=domain_for(url),
        API_version=VERSION,
    )
    assert bulk.endpoint == f"{url}/services/async/{VERSION}"

    job = bulk.create_insert_job("Contact", contentType="CSV")
    rows = [
        {"FirstName": f"SB{n}", "LastName": f"Bulk {n}", "Description": "line one\nline two"}
        for n in range(5)
    ]
    # CsvDictsAdapter streams the batch with Transfer-Encoding: chunked.
    batch = bulk.post_batch(job, salesforce_bulk.CsvDictsAdapter(iter(rows)))
    bulk.wait_for_batch(job, batch, timeout=60, sleep_interval=1)
    assert bulk.batch_state(batch) == "Completed"
    bulk.close_job(job)
    results = bulk.get_batch_results(batch)
    assert [(r.success, r.created, r.error) for r in results] == [("true", "true", "")] * 5
    stored = {r["Id"]: r for r in org.records("Contact") if (r["FirstName"] or "").startswith("SB")}
    assert {r.id for r in results} == set(stored)
    assert {r["Description"] for r in stored.values()} == {"line one\nline two"}
    assert bulk.job_status(job)["state"] == "Closed"

    for content_type in ("CSV", "JSON"):
        query_job = bulk.create_query_job("Contact", contentType=content_type)
        query_batch = bulk.query(
            query_job, "SELECT Id, LastName FROM Contact WHERE FirstName LIKE 'SB%'"
        )
        bulk.close_job(query_job)
        while not bulk.is_batch_done(query_batch):
            pass  # the fake finishes the batch on the next request
        found: list[dict[str, str]] = []
        files = list(bulk.get_all_results_for_query_batch(query_batch))
        assert len(files) == 2  # five rows, three per result file
        for result in files:
            raw = result.read().decode()
            if content_type == "CSV":
                import csv

                found.extend(csv.DictReader(io.StringIO(raw)))
            else:
                import json

                found.extend(json.loads(raw))
        assert {r["Id"] for r in found} == set(stored)
        assert sorted(r["LastName"] for r in found) == [f"Bulk {n}" for n in range(5)]


def test_salesforce_bulk_sees_errors_and_abort(served: tuple[FakeOrg, str]) -> None:
    org, url = served
    bulk = salesforce_bulk.SalesforceBulk(
        sessionId=org.issue_session(), host=url, API_version=VERSION
    )
    with pytest.raises(salesforce_bulk.BulkApiError) as info:
        bulk.create_insert_job("Nope__c", contentType="CSV")
    assert info.value.status_code == 400 and "Unable to find object: Nope__c" in str(info.value)
    job = bulk.create_insert_job("Account", contentType="CSV")
    bulk.abort_job(job)
    assert bulk.job_status(job)["state"] == "Aborted"
    org.inject_fault(
        r"/job$", status=400, exception_code="InvalidSessionId", message="Invalid session id"
    )
    with pytest.raises(salesforce_bulk.BulkApiError) as info:
        bulk.create_insert_job("Account", contentType="CSV")
    assert info.value.status_code == 400 and "InvalidSessionId" in str(info.value)


@pytest.fixture
def fake_org_process(tls: Tls) -> Iterator[str]:
    """``sfbulk fake-org`` over HTTPS as its own process; yields its URL."""
    pytest.importorskip("typer")
    command = [
        sys.executable, "-c", "from sfbulk_sdk.cli import main; main()", "fake-org",
        "--port", "0", "--certfile", str(tls.cert_file), "--keyfile", str(tls.key_file),
        "--log-level", "warning",
    ]  # fmt: skip
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    with subprocess.Popen(
        command, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, env=env
    ) as process:
        try:
            assert process.stdout is not None
            yield process.stdout.readline().split()[-1]
        finally:
            process.terminate()
            process.wait(30)


def test_simple_salesforce_bulk2_insert_then_query(
    fake_org_process: str, tls: Tls, request: pytest.FixtureRequest
) -> None:
    """simple-salesforce's Bulk 2.0 handler, unchanged, against ``sfbulk fake-org``."""
    url = fake_org_process
    session = requests.Session()
    request.addfinalizer(session.close)
    session.verify = str(tls.ca_file)
    sf = simple_salesforce.Salesforce(
        username=DEFAULT_USERNAME,
        password=DEFAULT_PASSWORD,
        security_token=DEFAULT_SECURITY_TOKEN,
        domain=domain_for(url),
        version=VERSION,
        session=session,
    )
    records = [{"LastName": f"B2 {n}", "Email": f"b2.{n}@example.com"} for n in range(9)]
    records.append({"LastName": "", "Email": "missing.last@example.com"})  # required field
    (summary,) = sf.bulk2.Contact.insert(records=records, wait=1)
    assert summary["numberRecordsProcessed"] == 10
    assert summary["numberRecordsFailed"] == 1
    table = session.get(f"{url}/_fake/records/Contact").json()
    stored = {r["LastName"]: r for r in table if str(r["LastName"]).startswith("B2 ")}
    assert sorted(stored) == sorted(f"B2 {n}" for n in range(9))
    failed = sf.bulk2.Contact.get_failed_records(summary["job_id"])
    failed_rows = list(csv.DictReader(io.StringIO(failed)))
    assert [row["Email"] for row in failed_rows] == ["missing.last@example.com"]
    assert failed_rows[0]["sf__Error"].startswith("REQUIRED_FIELD_MISSING")

    pages = sf.bulk2.Contact.query(
        "SELECT Id, LastName, Email FROM Contact WHERE LastName LIKE 'B2 %'", max_records=4, wait=1
    )
    rows = [row for page in pages for row in csv.DictReader(io.StringIO(page))]
    assert sorted(r["LastName"] for r in rows) == sorted(stored)
    assert {r["Id"] for r in rows} == {str(r["Id"]) for r in stored.values()}
    assert {r["Email"] for r in rows} == {str(r["Email"]) for r in stored.values()}
