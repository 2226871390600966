"""simple-salesforce's REST queries, unchanged, against the fake served over HTTPS.

``Salesforce.query``, ``query_more``, ``query_all``, ``query_all_iter`` and
``include_deleted`` (``queryAll``) over real HTTP, with the server in a
background thread on a free port (see ``test_fake_third_party.py``).
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from datetime import date, datetime, timezone
from typing import Any

import pytest
from bulk2_support import Bulk2Caller
from fakeorg_support import Tls

from sfbulk_sdk.testing import FakeOrg
from sfbulk_sdk.testing.server import serve_in_thread

requests = pytest.importorskip("requests")
simple_salesforce = pytest.importorskip("simple_salesforce")

VERSION = "59.0"
BATCH_500 = {"Sforce-Query-Options": "batchSize=500"}


@pytest.fixture(scope="module")
def served(tls: Tls) -> Iterator[tuple[FakeOrg, str]]:
    org = FakeOrg()
    with serve_in_thread(org, certfile=tls.cert_file, keyfile=tls.key_file) as url:
        yield org, url


@pytest.fixture(autouse=True)
def trust_test_ca(tls: Tls, monkeypatch: pytest.MonkeyPatch) -> None:
    """requests prefers these variables over ``Session.verify``: point them at the test CA."""
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(tls.ca_file))
    monkeypatch.setenv("CURL_CA_BUNDLE", str(tls.ca_file))


@pytest.fixture
def sf(served: tuple[FakeOrg, str], tls: Tls) -> Iterator[Any]:
    org, url = served
    session = requests.Session()
    session.verify = str(tls.ca_file)
    yield simple_salesforce.Salesforce(
        instance_url=url, session_id=org.issue_session(), version=VERSION, session=session
    )
    session.close()  # an idle TLS connection would hold up server shutdown


def test_query_answers_typed_records(served: tuple[FakeOrg, str], sf: Any) -> None:
    org, _ = served
    (acme,) = org.insert(
        "Account",
        [{"Name": "Typed Acme", "NumberOfEmployees": 250, "AnnualRevenue": 1_500_000.5}],
    )
    (contact,) = org.insert(
        "Contact",
        [
            {
                "LastName": "Typed",
                "AccountId": acme,
                "Birthdate": date(1990, 2, 3),
                "DoNotCall": True,
                "EmailBouncedDate": datetime(2024, 1, 2, 3, 4, 5, tzinfo=timezone.utc),
            }
        ],
    )
    result = sf.query(
        "SELECT Id, LastName, Birthdate, DoNotCall, EmailBouncedDate, Email, "
        "Account.Name, Account.NumberOfEmployees, Account.AnnualRevenue "
        "FROM Contact WHERE LastName = 'Typed'"
    )
    assert result["totalSize"] == 1 and result["done"] is True
    assert "nextRecordsUrl" not in result
    (record,) = result["records"]
    assert record["attributes"] == {
        "type": "Contact",
        "url": f"/services/data/v{VERSION}/sobjects/Contact/{contact}",
    }
    assert record["Id"] == contact and record["LastName"] == "Typed"
    assert record["Birthdate"] == "1990-02-03"
    assert record["DoNotCall"] is True and record["Email"] is None
    assert record["EmailBouncedDate"] == "2024-01-02T03:04:05.000+0000"
    account = record["Account"]
    assert account["attributes"]["type"] == "Account"
    assert account["attributes"]["url"].endswith(f"/sobjects/Account/{acme}")
    assert account["Name"] == "Typed Acme"
    assert account["NumberOfEmployees"] == 250 and isinstance(account["NumberOfEmployees"], int)
    assert account["AnnualRevenue"] == 1_500_000.5


def test_relationship_without_a_parent_is_none(served: tuple[FakeOrg, str], sf: Any) -> None:
    org, _ = served
    org.insert("Contact", [{"LastName": "No Account Here"}])
    (record,) = sf.query_all(
        "SELECT Account.Name, LastName FROM Contact WHERE LastName = 'No Account Here'"
    )["records"]
    assert record["Account"] is None and record["LastName"] == "No Account Here"


def test_query_all_reads_every_batch(served: tuple[FakeOrg, str], sf: Any) -> None:
    org, _ = served
    ids = org.insert("Account", [{"Name": f"Many {n:04d}"} for n in range(4500)])
    soql = "SELECT Id, Name FROM Account WHERE Name LIKE 'Many %' ORDER BY Name"
    before = org.requests["query_more"]
    result = sf.query_all(soql)
    assert result["totalSize"] == 4500 and result["done"] is True
    assert [r["Id"] for r in result["records"]] == ids
    assert org.requests["query_more"] - before == 2  # batches of 2,000

    before = org.requests["query_more"]
    smaller = sf.query_all(soql, headers=BATCH_500)
    assert [r["Id"] for r in smaller["records"]] == ids
    assert org.requests["query_more"] - before == 8  # nine batches of 500

    first = sf.query(soql, headers=BATCH_500)
    assert len(first["records"]) == 500 and first["done"] is False
    locator = first["nextRecordsUrl"].rsplit("/", 1)[1]
    second = sf.query_more(locator)  # by identifier rather than URL
    assert [r["Id"] for r in second["records"]] == ids[500:1000]


def test_query_all_iter_fetches_batches_as_it_goes(served: tuple[FakeOrg, str], sf: Any) -> None:
    org, _ = served
    ids = org.insert("Account", [{"Name": f"Lazy {n:04d}"} for n in range(1100)])
    soql = "SELECT Id FROM Account WHERE Name LIKE 'Lazy %' ORDER BY Name"
    queries, more = org.requests["query"], org.requests["query_more"]
    records = sf.query_all_iter(soql, headers={"Sforce-Query-Options": "batchSize=200"})
    head = list(itertools.islice(records, 150))
    assert (org.requests["query"] - queries, org.requests["query_more"] - more) == (1, 0)
    tail = list(records)
    assert [r["Id"] for r in head + tail] == ids
    assert org.requests["query_more"] - more == 5  # six batches of 200


def test_query_all_with_deleted_rows(served: tuple[FakeOrg, str], sf: Any) -> None:
    org, _ = served
    ids = org.insert("Account", [{"Name": f"Deleted {n:04d}"} for n in range(2500)])
    doomed = ids[::5]
    job = Bulk2Caller(org, version=VERSION).load(
        "delete", "Account", "Id\n" + "".join(f"{i}\n" for i in doomed)
    )
    assert job.number_records_processed == len(doomed)
    soql = "SELECT Id, IsDeleted FROM Account WHERE Name LIKE 'Deleted %'"
    live = sf.query_all(soql)
    assert live["totalSize"] == 2000
    assert not any(r["IsDeleted"] for r in live["records"])
    everything = sf.query_all(soql, include_deleted=True)
    assert everything["totalSize"] == 2500
    assert {r["Id"] for r in everything["records"] if r["IsDeleted"]} == set(doomed)
    # The continuation asked for by identifier under queryAll/.
    first = sf.query(soql, include_deleted=True, headers=BATCH_500)
    locator = first["nextRecordsUrl"].rsplit("/", 1)[1]
    assert len(sf.query_more(locator, include_deleted=True)["records"]) == 500


def test_errors_raise_simple_salesforces_exceptions(sf: Any) -> None:
    with pytest.raises(simple_salesforce.SalesforceMalformedRequest) as info:
        sf.query("SELECT Id FROM Account WHERE")
    assert info.value.status == 400
    assert info.value.content[0]["errorCode"] == "MALFORMED_QUERY"
    with pytest.raises(simple_salesforce.SalesforceMalformedRequest) as info:
        sf.query_all("SELECT Nope__c FROM Account")
    assert info.value.content[0]["errorCode"] == "INVALID_FIELD"
    with pytest.raises(simple_salesforce.SalesforceMalformedRequest) as info:
        sf.query_more("01g5j0000000999AAA-2000")
    assert info.value.content == [
        {"message": "invalid query locator", "errorCode": "INVALID_QUERY_LOCATOR"}
    ]
