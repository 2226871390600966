"""A schema users can trust: the standard fields, loading an org's describe, serving it back.

The describe documents here are written for these tests, in the shape of a real
org's ``GET /services/data/vXX.X/sobjects/{name}/describe`` (only the keys the
fake reads, plus a few it must ignore).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from bulk2_support import Bulk2Caller, csv_rows

from sfbulk_sdk.models.bulk2 import Bulk2JobState
from sfbulk_sdk.testing import FakeOrg, FieldType, WriteError


def field(name: str, ftype: str, **extra: Any) -> dict[str, Any]:
    """A describe field entry with a real org's defaults for a plain createable field."""
    entry: dict[str, Any] = {
        "name": name,
        "label": name.replace("__c", "").replace("_", " "),
        "type": ftype,
        "length": 0,
        "precision": 0,
        "scale": 0,
        "digits": 0,
        "nillable": True,
        "createable": True,
        "updateable": True,
        "defaultedOnCreate": False,
        "externalId": False,
        "idLookup": False,
        "unique": False,
        "caseSensitive": False,
        "calculated": False,
        "autoNumber": False,
        "referenceTo": [],
        "relationshipName": None,
        "picklistValues": [],
        "restrictedPicklist": False,
        "defaultValue": None,
        "filterable": True,  # a key the fake ignores
    }
    entry.update(extra)
    return entry


def picklist(*values: str, default: str | None = None) -> list[dict[str, Any]]:
    return [
        {"active": True, "defaultValue": v == default, "label": v, "validFor": None, "value": v}
        for v in values
    ]


def invoice_describe() -> dict[str, Any]:
    return {
        "name": "Invoice__c",
        "label": "Invoice",
        "labelPlural": "Invoices",
        "keyPrefix": "a1B",
        "custom": True,
        "queryable": True,
        "fields": [
            field("Id", "id", length=18, nillable=False, createable=False, updateable=False),
            field("OwnerId", "reference", referenceTo=["Group", "User"], defaultedOnCreate=True),
            field("Name", "string", length=80, autoNumber=True, createable=False, updateable=False),
            field("Number__c", "string", length=10, externalId=True, unique=True, idLookup=True),
            field("Memo__c", "textarea", length=255),
            field(
                "Status__c",
                "picklist",
                length=255,
                picklistValues=picklist("Draft", "Sent", "Paid", default="Draft"),
                restrictedPicklist=True,
                defaultedOnCreate=True,
            ),
            field("Tags__c", "multipicklist", length=4099, picklistValues=picklist("A", "B")),
            field("Paid__c", "boolean", nillable=False, defaultedOnCreate=True, defaultValue=False),
            field("Lines__c", "int", digits=3),
            field("Rate__c", "double", precision=5, scale=2),
            field("Amount__c", "currency", precision=8, scale=2, nillable=False),
            field("Discount__c", "percent", precision=3, scale=0),
            field("Due__c", "date"),
            field("Sent__c", "datetime"),
            field("Cutoff__c", "time"),
            field("Contact_Email__c", "email", length=80),
            field("Phone__c", "phone", length=40),
            field("Site__c", "url", length=255),
            field("Code__c", "combobox", length=20),
            field("Big__c", "long", digits=18),
            field(
                "Account__c",
                "reference",
                referenceTo=["Account"],
                relationshipName="Account__r",
                length=18,
            ),
            field(
                "Region__c", "reference", referenceTo=["Region__c"], relationshipName="Region__r"
            ),
            field("Total__c", "currency", precision=10, scale=2, calculated=True, createable=False),
            field("Billing__c", "address"),
            field("Scan__c", "base64"),
        ],
    }


def loaded() -> FakeOrg:
    return FakeOrg(sobject_describes=[json.dumps(invoice_describe())])


# ---------------------------------------------------------------------------
# the standard objects


def test_standard_objects_have_the_common_standard_fields() -> None:
    org = FakeOrg()
    expected: dict[str, dict[str, tuple[FieldType, int | None]]] = {
        "Account": {
            "Rating": (FieldType.PICKLIST, 40),
            "Site": (FieldType.STRING, 80),
            "AccountSource": (FieldType.PICKLIST, 255),
            "Ownership": (FieldType.PICKLIST, 40),
            "TickerSymbol": (FieldType.STRING, 20),
            "Sic": (FieldType.STRING, 20),
            "SicDesc": (FieldType.STRING, 80),
            "Fax": (FieldType.PHONE, 40),
            "YearStarted": (FieldType.STRING, 4),
            "ShippingStreet": (FieldType.TEXTAREA, 255),
            "ShippingPostalCode": (FieldType.STRING, 20),
            "BillingLatitude": (FieldType.DOUBLE, None),
        },
        "Contact": {
            "Salutation": (FieldType.PICKLIST, 40),
            "MiddleName": (FieldType.STRING, 40),
            "Suffix": (FieldType.STRING, 40),
            "ReportsToId": (FieldType.REFERENCE, None),
            "HomePhone": (FieldType.PHONE, 40),
            "OtherPhone": (FieldType.PHONE, 40),
            "AssistantName": (FieldType.STRING, 40),
            "AssistantPhone": (FieldType.PHONE, 40),
            "MailingStreet": (FieldType.TEXTAREA, 255),
            "OtherCity": (FieldType.STRING, 40),
            "HasOptedOutOfEmail": (FieldType.BOOLEAN, None),
            "DoNotCall": (FieldType.BOOLEAN, None),
        },
        "Lead": {"Street": (FieldType.TEXTAREA, 255), "Rating": (FieldType.PICKLIST, 40)},
        "Opportunity": {"NextStep": (FieldType.STRING, 255), "IsWon": (FieldType.BOOLEAN, None)},
        "Case": {"Subject": (FieldType.STRING, 255), "CaseNumber": (FieldType.STRING, 30)},
    }
    for sobject, fields in expected.items():
        spec = org.state.describe(sobject)
        for name, (ftype, length) in fields.items():
            found = spec.field(name)
            assert found is not None, f"{sobject}.{name}"
            assert (found.field_type, found.length) == (ftype, length), f"{sobject}.{name}"
        assert spec.field("Jigsaw") is None
    assert org.state.describe("Case").key_prefix == "500"


def test_a_benchmark_load_written_from_salesforces_field_list(org: FakeOrg) -> None:
    """The load that failed with ``Field name not found : Rating`` now goes through."""
    header = "Name,Rating,Site,AccountSource,Ownership,TickerSymbol,Sic,YearStarted,ShippingCity"
    row = "Acme,Hot,HQ,Web,Public,ACME,1234,1999,Paris"
    job = Bulk2Caller(org).load("insert", "Account", f"{header}\n{row}\n")
    assert job.state is Bulk2JobState.JOB_COMPLETE and job.number_records_failed == 0
    assert org.records("Account")[0]["ShippingCity"] == "Paris"
    too_long = Bulk2Caller(org).load("insert", "Account", "Name,YearStarted\nOld,19999\n")
    assert too_long.number_records_failed == 1


def test_computed_standard_fields(org: FakeOrg) -> None:
    first, second = org.insert(
        "Case", [{"Subject": "Broken"}, {"Subject": "Fixed", "Status": "Closed"}]
    )
    cases = {c["Id"]: c for c in org.records("Case")}
    assert (cases[first]["Status"], cases[first]["Priority"], cases[first]["IsClosed"]) == (
        "New",
        "Medium",
        False,
    )
    assert cases[second]["IsClosed"] is True
    numbers = [cases[first]["CaseNumber"], cases[second]["CaseNumber"]]
    assert numbers == sorted(numbers) and len(set(numbers)) == 2 and len(str(numbers[0])) == 8
    org.insert(
        "Opportunity",
        [
            {
                "Name": "Deal",
                "StageName": "Closed Won",
                "CloseDate": "2024-01-31",
                "Amount": 200,
                "Probability": 50,
            }
        ],
    )
    deal = org.records("Opportunity")[0]
    assert (deal["IsClosed"], deal["IsWon"], deal["ExpectedRevenue"]) == (True, True, 100.0)
    with pytest.raises(WriteError, match="CaseNumber"):  # computed: not writable
        org.insert("Case", [{"Subject": "x", "CaseNumber": "1"}])


# ---------------------------------------------------------------------------
# loading a describe


def test_loading_a_describe_declares_the_object_and_its_fields() -> None:
    org = loaded()
    spec = org.state.describe("Invoice__c")
    assert (spec.key_prefix, spec.label, spec.custom) == ("a1B", "Invoice", True)
    types = {f.name: f.field_type for f in spec.fields}
    assert types["Number__c"] is FieldType.STRING and types["Cutoff__c"] is FieldType.TIME
    assert types["Tags__c"] is FieldType.MULTIPICKLIST and types["Code__c"] is FieldType.STRING
    assert types["Big__c"] is FieldType.INT and types["Account__c"] is FieldType.REFERENCE
    for skipped in ("Billing__c", "Scan__c", "Region__c"):
        assert skipped not in types
    number = spec.field("Number__c")
    assert number is not None and (number.length, number.external_id, number.unique) == (
        10,
        True,
        True,
    )
    status = spec.field("Status__c")
    assert status is not None and status.restricted_picklist and status.default == "Draft"
    assert status.picklist_values == ("Draft", "Sent", "Paid")
    amount = spec.field("Amount__c")
    assert amount is not None and amount.required and (amount.precision, amount.scale) == (8, 2)
    paid = spec.field("Paid__c")
    assert paid is not None and not paid.required and paid.default is False
    total = spec.field("Total__c")
    assert total is not None and not total.createable and not total.updateable
    owner = spec.field("OwnerId")
    assert owner is not None and owner.reference_to == "User"  # the system field stays


def test_values_are_checked_against_the_described_fields() -> None:
    org = loaded()
    account = org.insert("Account", [{"Name": "Acme"}])[0]
    ids = org.insert(
        "Invoice__c",
        [
            {
                "Number__c": "INV-1",
                "Amount__c": "123456.78",
                "Tags__c": "A;B",
                "Cutoff__c": "13:45:00.000Z",
                "Account__c": account,
                "Lines__c": "999",
            }
        ],
    )
    record = org.record("Invoice__c", ids[0])
    assert record is not None
    assert (record["Status__c"], record["Paid__c"], record["Amount__c"]) == (
        "Draft",
        False,
        123456.78,
    )
    assert record["Name"] == "00000001" and record["Total__c"] is None  # auto number, no formula
    assert str(record["Cutoff__c"]) == "13:45:00"
    failures = {
        "STRING_TOO_LONG": {"Number__c": "INV-000000001", "Amount__c": "1"},
        "INVALID_TYPE_ON_FIELD_IN_RECORD": {"Amount__c": "lots"},
        "INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST": {"Amount__c": "1", "Status__c": "Lost"},
        "NUMBER_OUTSIDE_VALID_RANGE": {"Amount__c": "1234567.5"},
        "REQUIRED_FIELD_MISSING": {"Number__c": "INV-2"},
        "INVALID_FIELD_FOR_INSERT_UPDATE": {"Amount__c": "1", "Total__c": "2"},
        "INVALID_EMAIL_ADDRESS": {"Amount__c": "1", "Contact_Email__c": "nobody"},
    }
    for code, row in failures.items():
        with pytest.raises(WriteError) as caught:
            org.insert("Invoice__c", [row])
        assert caught.value.failures[0][1].status_code == code, row
    with pytest.raises(WriteError, match="NUMBER_OUTSIDE_VALID_RANGE"):
        org.insert("Invoice__c", [{"Amount__c": "1", "Lines__c": "1000"}])
    with pytest.raises(WriteError, match="bad value for restricted picklist field: Lost"):
        org.insert("Invoice__c", [{"Amount__c": "1", "Status__c": "Lost"}])


def test_a_bulk_load_fails_the_same_rows(org: FakeOrg) -> None:
    org.state.load_describe(invoice_describe())
    bulk = Bulk2Caller(org)
    data = "Number__c,Amount__c,Rate__c\nINV-1,10,1.5\nINV-000000002,10,1\nINV-3,10,1234\n"
    job = bulk.load("insert", "Invoice__c", data)
    assert (job.number_records_processed, job.number_records_failed) == (3, 2)
    failed = sorted(
        r[1].split(":")[0] for r in csv_rows(bulk.results(str(job.id), "failedResults").text)[1:]
    )
    assert failed == ["NUMBER_OUTSIDE_VALID_RANGE", "STRING_TOO_LONG"]
    query = bulk.create_query("SELECT Number__c, Cutoff__c, Paid__c FROM Invoice__c")
    assert bulk.page(str(query.id)).rows == [
        ["Number__c", "Cutoff__c", "Paid__c"],
        ["INV-1", "", "false"],
    ]


def test_a_describe_extends_a_standard_object() -> None:
    org = FakeOrg()
    org.insert("Contact", [{"FirstName": "Ada", "LastName": "Lovelace"}])
    org.state.load_describe(
        {
            "name": "Contact",
            "keyPrefix": "003",
            "fields": [
                field("Name", "string", length=121, createable=False, updateable=False),
                field("Loyalty__c", "picklist", picklistValues=picklist("Gold", "Silver")),
            ],
        }
    )
    org.insert("Contact", [{"LastName": "Hopper", "Loyalty__c": "Platinum"}])  # not restricted
    names = [c["Name"] for c in org.records("Contact")]
    assert names == ["Ada Lovelace", "Hopper"]  # Name stays computed, rows stay


def test_bad_describe_documents() -> None:
    org = FakeOrg()
    with pytest.raises(ValueError, match="'name'"):
        org.state.load_describe({"fields": []})
    with pytest.raises(ValueError, match="'fields'"):
        org.state.load_describe('{"name": "X__c"}')
    with pytest.raises(ValueError, match="taken"):
        org.state.load_describe({"name": "Y__c", "keyPrefix": "001", "fields": []})
    with pytest.raises(json.JSONDecodeError):
        org.state.load_describe(b"not json")


# ---------------------------------------------------------------------------
# serving describe


def described(org: FakeOrg, name: str) -> dict[str, Any]:
    reply = Bulk2Caller(org).request("GET", f"/sobjects/{name}/describe")
    assert reply.status_code == 200 and reply.headers["content-type"] == "application/json"
    document: dict[str, Any] = reply.json()
    return document


def by_name(document: dict[str, Any]) -> Iterator[tuple[str, dict[str, Any]]]:
    for entry in document["fields"]:
        yield entry["name"], entry


def test_the_fake_serves_describe_back() -> None:
    org = loaded()
    document = described(org, "invoice__c")
    assert (document["name"], document["keyPrefix"], document["label"]) == (
        "Invoice__c",
        "a1B",
        "Invoice",
    )
    assert document["custom"] is True and list(document) == sorted(document)
    fields = dict(by_name(document))
    assert fields["Id"]["type"] == "id" and fields["Id"]["nillable"] is False
    assert {k: fields["Number__c"][k] for k in ("type", "length", "externalId", "unique")} == {
        "type": "string",
        "length": 10,
        "externalId": True,
        "unique": True,
    }
    assert fields["Amount__c"]["nillable"] is False and fields["Amount__c"]["precision"] == 8
    assert fields["Account__c"]["referenceTo"] == ["Account"]
    assert fields["Account__c"]["relationshipName"] == "Account__r"
    assert fields["Status__c"]["restrictedPicklist"] is True
    assert [v["value"] for v in fields["Status__c"]["picklistValues"]] == ["Draft", "Sent", "Paid"]
    assert fields["Name"]["autoNumber"] is True and fields["Name"]["createable"] is False
    # a formula field has no formula in the fake: it comes back as a read-only field
    assert (fields["Total__c"]["createable"], fields["Total__c"]["updateable"]) == (False, False)
    assert all(list(entry) == sorted(entry) for entry in document["fields"])
    account = dict(by_name(described(org, "Account")))
    assert account["Rating"]["type"] == "picklist" and account["Site"]["length"] == 80


def test_a_served_describe_loads_into_another_org() -> None:
    original = loaded()
    copy = FakeOrg(sobject_describes=[described(original, "Invoice__c")])
    want = original.state.describe("Invoice__c")
    got = copy.state.describe("Invoice__c")
    assert got.key_prefix == want.key_prefix

    def summary(spec: Any) -> list[tuple[Any, ...]]:
        return [
            (
                f.name,
                f.field_type,
                f.length,
                f.required,
                f.unique,
                f.external_id,
                f.createable,
                f.precision,
                f.scale,
                f.picklist_values,
                f.restricted_picklist,
                f.reference_to,
            )
            for f in spec.fields
        ]

    assert summary(got) == summary(want)


def test_the_describe_control() -> None:
    org = FakeOrg()
    bulk = Bulk2Caller(org)
    reply = bulk.client.post(f"{org.instance_url}/_fake/sobjects", json=invoice_describe())
    assert reply.status_code == 201
    assert reply.json()["name"] == "Invoice__c" and "Number__c" in reply.json()["fields"]
    assert bulk.request("GET", "/sobjects/Invoice__c/describe").status_code == 200
