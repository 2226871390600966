"""The REST query resources of the fake org, in-process: ``query``, ``queryAll``, locators.

The JSON shape (key order, ``attributes``, typed values, nested relationships),
the batches and their ``nextRecordsUrl`` cursors, ``Sforce-Query-Options``, and
the REST checks and errors every ``/services/data`` request has.
"""

from __future__ import annotations

import json
import re
from datetime import date, datetime, time, timezone
from typing import Any

import httpx
import pytest
from bulk2_support import Bulk2Caller

from sfbulk_sdk.testing import FakeOrg, FakeOrgTransport, FieldSpec, FieldType, ManualClock
from sfbulk_sdk.testing.rest_results import CURSORS_PER_USER

VERSION = "62.0"
BASE = f"/services/data/v{VERSION}"
NEXT_URL = re.compile(rf"{re.escape(BASE)}/query/(01g[0-9A-Za-z]{{15}})-(\d+)")


def client(org: FakeOrg, session_id: str | None = None, version: str = VERSION) -> httpx.Client:
    return httpx.Client(
        transport=FakeOrgTransport(org),
        base_url=f"{org.instance_url}/services/data/v{version}",
        headers={"Authorization": f"Bearer {session_id or org.issue_session()}"},
    )


def query(rest: httpx.Client, soql: str, resource: str = "query", **headers: str) -> Any:
    reply = rest.get(f"/{resource}", params={"q": soql}, headers=headers)
    assert reply.status_code == 200, reply.text
    return reply.json()


def follow(rest: httpx.Client, url: str, **headers: str) -> Any:
    reply = rest.get(url.removeprefix(BASE), headers=headers)
    assert reply.status_code == 200, reply.text
    return reply.json()


def read_all(rest: httpx.Client, first: Any, **headers: str) -> list[Any]:
    """Every batch from ``first`` on, following ``nextRecordsUrl``."""
    batches = [first]
    while not batches[-1]["done"]:
        batches.append(follow(rest, batches[-1]["nextRecordsUrl"], **headers))
    return batches


def errors(reply: httpx.Response) -> list[tuple[str, str]]:
    return [(e["errorCode"], e["message"]) for e in reply.json()]


@pytest.fixture
def gadgets(org: FakeOrg) -> FakeOrg:
    """An org with a custom object of every value type."""
    org.declare_object(
        "Gadget__c",
        [
            FieldSpec("Count__c", FieldType.INT),
            FieldSpec("Weight__c", FieldType.DOUBLE, precision=18, scale=3),
            FieldSpec("Active__c", FieldType.BOOLEAN),
            FieldSpec("Day__c", FieldType.DATE),
            FieldSpec("Seen__c", FieldType.DATETIME),
            FieldSpec("At__c", FieldType.TIME),
            FieldSpec("Note__c", FieldType.STRING),
        ],
    )
    return org


def test_a_reply_has_salesforces_keys_in_order(org: FakeOrg) -> None:
    (acme,) = org.insert("Account", [{"Name": "Acme", "NumberOfEmployees": 12}])
    reply = client(org).get("/query", params={"q": "SELECT Id, Name FROM Account"})
    assert reply.status_code == 200
    assert reply.headers["content-type"].startswith("application/json")
    assert reply.headers["sforce-limit-info"] == "api-usage=1/100000"
    document = reply.json()
    assert list(document) == ["totalSize", "done", "records"]  # no nextRecordsUrl when done
    assert document["totalSize"] == 1 and document["done"] is True
    assert document["records"] == [
        {
            "attributes": {"type": "Account", "url": f"{BASE}/sobjects/Account/{acme}"},
            "Id": acme,
            "Name": "Acme",
        }
    ]


def test_fields_come_in_select_order_under_their_api_names(org: FakeOrg) -> None:
    org.insert("Account", [{"Name": "Acme", "NumberOfEmployees": 12, "Industry": "Energy"}])
    rest = client(org)
    (record,) = query(rest, "select industry, NAME, numberofemployees, id from account")["records"]
    assert list(record) == ["attributes", "Industry", "Name", "NumberOfEmployees", "Id"]
    # The object's own name may prefix a field, as in SOQL.
    (record,) = query(rest, "SELECT Account.Name FROM Account")["records"]
    assert list(record) == ["attributes", "Name"]


def test_values_are_json_typed(gadgets: FakeOrg) -> None:
    seen = datetime(2024, 5, 6, 7, 8, 9, 250_000, tzinfo=timezone.utc)
    (full,) = gadgets.insert(
        "Gadget__c",
        [
            {
                "Name": "Full",
                "Count__c": 42,
                "Weight__c": 1.5,
                "Active__c": True,
                "Day__c": date(2024, 1, 31),
                "Seen__c": seen,
                "At__c": time(13, 45),
                "Note__c": 'a "quoted" note, with ü',
            }
        ],
    )
    gadgets.insert("Gadget__c", [{"Name": "Empty"}])
    soql = (
        "SELECT Name, Count__c, Weight__c, Active__c, Day__c, Seen__c, At__c, Note__c "
        "FROM Gadget__c ORDER BY Name DESC"
    )
    raw = client(gadgets).get("/query", params={"q": soql}).text
    first, empty = json.loads(raw)["records"]
    assert first == {
        "attributes": {"type": "Gadget__c", "url": f"{BASE}/sobjects/Gadget__c/{full}"},
        "Name": "Full",
        "Count__c": 42,
        "Weight__c": 1.5,
        "Active__c": True,
        "Day__c": "2024-01-31",
        "Seen__c": "2024-05-06T07:08:09.250+0000",
        "At__c": "13:45:00.000Z",
        "Note__c": 'a "quoted" note, with ü',
    }
    assert '"Count__c": 42,' in raw and '"Active__c": true' in raw  # numbers and booleans bare
    assert isinstance(first["Count__c"], int)
    assert empty["Count__c"] is None and empty["Active__c"] is False and empty["Day__c"] is None


def test_relationship_paths_nest_with_their_own_attributes(org: FakeOrg) -> None:
    (parent,) = org.insert("Account", [{"Name": "Holding"}])
    (child,) = org.insert("Account", [{"Name": "Subsidiary", "ParentId": parent}])
    (alone,) = org.insert("Account", [{"Name": "Alone"}])
    contacts = org.insert(
        "Contact",
        [
            {"LastName": "Deep", "AccountId": child},
            {"LastName": "Shallow", "AccountId": alone},
            {"LastName": "Orphan"},
        ],
    )
    soql = (
        "SELECT LastName, Account.Parent.Name, Account.Name, Id, Account.Parent.Id "
        "FROM Contact ORDER BY LastName"
    )
    deep, orphan, shallow = query(client(org), soql)["records"]

    def attributes(sobject: str, rid: str) -> dict[str, str]:
        return {"type": sobject, "url": f"{BASE}/sobjects/{sobject}/{rid}"}

    assert deep == {
        "attributes": attributes("Contact", contacts[0]),
        "LastName": "Deep",
        "Account": {
            "attributes": attributes("Account", child),
            "Parent": {
                "attributes": attributes("Account", parent),
                "Name": "Holding",
                "Id": parent,
            },
            "Name": "Subsidiary",
        },
        "Id": contacts[0],
    }
    assert list(deep) == ["attributes", "LastName", "Account", "Id"]  # where first selected
    assert shallow["Account"] == {
        "attributes": attributes("Account", alone),
        "Parent": None,  # no parent record: null, not an object of nulls
        "Name": "Alone",
    }
    assert orphan == {
        "attributes": attributes("Contact", contacts[2]),
        "LastName": "Orphan",
        "Account": None,
        "Id": contacts[2],
    }


def test_more_rows_than_a_batch_page_through_a_cursor(org: FakeOrg) -> None:
    ids = org.insert("Account", [{"Name": f"Row {n:04d}"} for n in range(4500)])
    rest = client(org)
    first = query(rest, "SELECT Id, Name FROM Account ORDER BY Name")
    assert list(first) == ["totalSize", "done", "nextRecordsUrl", "records"]
    batches = read_all(rest, first)
    assert [len(b["records"]) for b in batches] == [2000, 2000, 500]
    assert {b["totalSize"] for b in batches} == {4500}
    assert [b["done"] for b in batches] == [False, False, True]
    urls = [NEXT_URL.fullmatch(b["nextRecordsUrl"]) for b in batches[:-1]]
    assert all(urls) and [int(u[2]) for u in urls if u] == [2000, 4000]
    assert len({u[1] for u in urls if u}) == 1  # one cursor for the whole result
    assert [r["Id"] for b in batches for r in b["records"]] == ids


def test_batch_size_comes_from_sforce_query_options(org: FakeOrg) -> None:
    org.insert("Account", [{"Name": f"Row {n}"} for n in range(2500)])
    rest = client(org)
    soql = "SELECT Id FROM Account"

    def sizes(option: str) -> list[int]:
        first = query(rest, soql, **{"Sforce-Query-Options": option})
        return [len(b["records"]) for b in read_all(rest, first)]

    assert sizes("batchSize=500") == [500] * 5
    assert sizes("batchSize=50") == [200] * 12 + [100]  # no smaller than 200
    assert sizes("batchSize=5000") == [2000, 500]  # nor larger than 2,000
    assert sizes("nonsense") == [2000, 500]
    # A continuation keeps the first request's size unless it asks for another.
    first = query(rest, soql, **{"Sforce-Query-Options": "batchSize=1000"})
    second = follow(rest, first["nextRecordsUrl"])
    assert len(second["records"]) == 1000 and second["nextRecordsUrl"].endswith("-2000")
    third = follow(rest, second["nextRecordsUrl"], **{"Sforce-Query-Options": "batchSize=200"})
    assert len(third["records"]) == 200 and third["nextRecordsUrl"].endswith("-2200")


def test_a_cursor_is_a_snapshot_and_any_offset_can_be_read(org: FakeOrg) -> None:
    ids = org.insert("Account", [{"Name": f"Row {n}"} for n in range(2100)])
    rest = client(org)
    first = query(rest, "SELECT Id FROM Account")
    org.insert("Account", [{"Name": "Later"}])
    url = first["nextRecordsUrl"]
    rest_of_it = follow(rest, url)
    assert rest_of_it["totalSize"] == 2100 and len(rest_of_it["records"]) == 100
    assert follow(rest, url) == rest_of_it  # read again
    cursor = NEXT_URL.fullmatch(url)
    assert cursor is not None
    from_50 = follow(rest, f"{BASE}/query/{cursor[1]}-50")
    assert [r["Id"] for r in from_50["records"]] == ids[50:2050]
    assert from_50["nextRecordsUrl"] == f"{BASE}/query/{cursor[1]}-2050"
    assert follow(rest, f"{BASE}/query/{cursor[1]}-2100") == {
        "totalSize": 2100,
        "done": True,
        "records": [],
    }


def test_query_all_returns_deleted_rows_too(org: FakeOrg) -> None:
    ids = org.insert("Account", [{"Name": f"Gone {n}"} for n in range(2300)])
    bulk = Bulk2Caller(org, version=VERSION)
    gone = bulk.load("delete", "Account", "Id\n" + "".join(f"{i}\n" for i in ids[:300]))
    assert gone.number_records_processed == 300
    rest = client(org)
    soql = "SELECT Id, IsDeleted FROM Account"
    assert query(rest, soql)["totalSize"] == 2000
    first = query(rest, soql, "queryAll")
    batches = read_all(rest, first)
    assert first["totalSize"] == 2300 and [len(b["records"]) for b in batches] == [2000, 300]
    flags = {r["Id"]: r["IsDeleted"] for b in batches for r in b["records"]}
    assert flags == {i: n < 300 for n, i in enumerate(ids)}
    # The continuation also answers under queryAll/, as simple-salesforce may ask for it.
    locator = first["nextRecordsUrl"].rsplit("/", 1)[1]
    assert rest.get(f"/queryAll/{locator}").json() == batches[1]


def test_date_literals_count_from_the_orgs_clock(clock: ManualClock, org: FakeOrg) -> None:
    org.insert("Account", [{"Name": "Old"}])
    clock.advance(3 * 86_400)
    org.insert("Account", [{"Name": "New"}])
    org.insert(
        "Contact",
        [
            {"LastName": "Born recently", "Birthdate": date(2024, 5, 1)},
            {"LastName": "Born long ago", "Birthdate": date(1990, 5, 1)},
        ],
    )
    rest = client(org)
    today = query(rest, "SELECT Name FROM Account WHERE CreatedDate = TODAY")
    assert [r["Name"] for r in today["records"]] == ["New"]
    recent = query(rest, "SELECT LastName FROM Contact WHERE Birthdate = LAST_N_DAYS:30")
    assert [r["LastName"] for r in recent["records"]] == ["Born recently"]
    old = query(rest, "SELECT Name FROM Account WHERE CreatedDate < LAST_N_DAYS:2 LIMIT 5")
    assert [r["Name"] for r in old["records"]] == ["Old"]


def test_engine_errors_are_rest_errors_with_the_engines_codes(org: FakeOrg) -> None:
    rest = client(org)
    cases = {
        "SELECT FROM Account": "MALFORMED_QUERY",
        "SELECT Id FROM Account WHERE": "MALFORMED_QUERY",
        "SELECT Nope FROM Account": "INVALID_FIELD",
        "SELECT Id FROM Nope__c": "INVALID_TYPE",
        "SELECT Id FROM Account WHERE Name = 3": "INVALID_FIELD",
    }
    for soql, code in cases.items():
        reply = rest.get("/query", params={"q": soql})
        assert reply.status_code == 400, soql
        ((found, message),) = errors(reply)
        assert found == code and message, soql
        assert list(reply.json()[0]) == ["message", "errorCode"]  # platform order
    for params in ({}, {"q": "  "}):
        reply = rest.get("/query", params=params)
        assert reply.status_code == 400
        assert errors(reply) == [("MALFORMED_QUERY", "A query string has to be specified")]


def test_bad_locators_answer_invalid_query_locator(clock: ManualClock, org: FakeOrg) -> None:
    org.insert("Account", [{"Name": f"Row {n}"} for n in range(2001)])
    rest = client(org)
    url = query(rest, "SELECT Id FROM Account")["nextRecordsUrl"]
    cursor = url.rsplit("/", 1)[1].rsplit("-", 1)[0]
    other_user = org.add_user("other@fake-org.example", "pw")
    stranger = client(org, org.issue_session(other_user.username))
    invalid = [("INVALID_QUERY_LOCATOR", "invalid query locator")]
    for path, caller in [
        ("/query/01g5j0000000999AAA-2000", rest),  # never opened
        (f"/query/{cursor}", rest),  # no offset
        (f"/query/{cursor}-x", rest),
        (f"/query/{cursor}-2002", rest),  # past the end
        (url.removeprefix(BASE), stranger),  # another user's
    ]:
        reply = caller.get(path)
        assert (reply.status_code, errors(reply)) == (400, invalid), path
    assert rest.get(url.removeprefix(BASE)).status_code == 200
    # Unused for 15 minutes, the cursor is gone; each read restarts that time.
    clock.advance(14 * 60)
    assert rest.get(url.removeprefix(BASE)).status_code == 200
    clock.advance(14 * 60)
    assert rest.get(url.removeprefix(BASE)).status_code == 200
    clock.advance(15 * 60)
    reply = rest.get(url.removeprefix(BASE))
    assert (reply.status_code, errors(reply)) == (400, invalid)


def test_a_user_holds_ten_cursors_and_the_oldest_goes_first(org: FakeOrg) -> None:
    org.insert("Account", [{"Name": f"Row {n}"} for n in range(2001)])
    rest = client(org)
    urls = [
        query(rest, "SELECT Id FROM Account")["nextRecordsUrl"].removeprefix(BASE)
        for _ in range(CURSORS_PER_USER + 1)
    ]
    assert len(set(urls)) == CURSORS_PER_USER + 1
    assert rest.get(urls[0]).status_code == 400
    assert all(rest.get(u).status_code == 200 for u in urls[1:])
    assert len(org.state.query_cursors) == CURSORS_PER_USER
    # A result that fits in one batch opens no cursor.
    assert "nextRecordsUrl" not in query(rest, "SELECT Id FROM Account LIMIT 2000")
    assert len(org.state.query_cursors) == CURSORS_PER_USER


def test_the_rest_checks_and_counting_apply(clock: ManualClock) -> None:
    org = FakeOrg(clock=clock, max_api_requests_per_day=4, session_timeout=600)
    org.insert("Account", [{"Name": "Acme"}])
    session = org.issue_session()
    rest = client(org, session)
    assert rest.get("/query", params={"q": "SELECT Id FROM Account"}).status_code == 200
    assert rest.get("/queryAll/", params={"q": "SELECT Id FROM Account"}).status_code == 200
    reply = rest.post("/query", params={"q": "SELECT Id FROM Account"})
    assert reply.status_code == 405 and errors(reply)[0][0] == "METHOD_NOT_ALLOWED"
    reply = rest.get("/query/01g5j0000000001AAA-2000")
    assert reply.status_code == 400 and errors(reply)[0][0] == "INVALID_QUERY_LOCATOR"
    assert reply.headers["sforce-limit-info"] == "api-usage=4/4"
    reply = rest.get("/query", params={"q": "SELECT Id FROM Account"})
    assert reply.status_code == 403 and errors(reply)[0][0] == "REQUEST_LIMIT_EXCEEDED"
    counted = org.requests
    assert (counted["query"], counted["query_all"], counted["query_more"]) == (2, 1, 1)

    org.state.settings.max_api_requests_per_day = 100
    reply = rest.get("/query/01g5j0000000001AAA-2000/more")
    assert reply.status_code == 404 and errors(reply)[0][0] == "NOT_FOUND"
    anonymous = httpx.Client(transport=FakeOrgTransport(org), base_url=rest.base_url)
    reply = anonymous.get("/query", params={"q": "SELECT Id FROM Account"})
    assert reply.status_code == 401 and reply.headers["www-authenticate"] == "Token"
    assert errors(reply) == [("INVALID_SESSION_ID", "Session expired or invalid")]
    assert client(org, session, "30.0").get("/query", params={"q": "x"}).status_code == 410
    assert client(org, session, "99.0").get("/query", params={"q": "x"}).status_code == 404
    clock.advance(601)
    assert rest.get("/query", params={"q": "SELECT Id FROM Account"}).status_code == 401


def test_faults_can_be_injected_on_the_query_resource(org: FakeOrg) -> None:
    org.inject_fault(r"/query$", status=503, exception_code="SERVER_UNAVAILABLE", message="busy")
    rest = client(org)
    reply = rest.get("/query", params={"q": "SELECT Id FROM Account"})
    assert (reply.status_code, errors(reply)) == (503, [("SERVER_UNAVAILABLE", "busy")])
    assert rest.get("/query", params={"q": "SELECT Id FROM Account"}).status_code == 200
