"""The SOQL subset: parsing, filtering, ordering, relationships and refusals."""

from __future__ import annotations

from datetime import date, datetime, timezone

import pytest

from sfbulk_sdk.testing import FakeOrg, FieldSpec, FieldType, SoqlError
from sfbulk_sdk.testing.soql import InList, Junction, Negation, parse_soql


@pytest.fixture
def data(org: FakeOrg) -> FakeOrg:
    org.insert(
        "Account",
        [
            {"Name": "Acme", "Industry": "Energy", "NumberOfEmployees": 50, "AnnualRevenue": 1.5e6},
            {"Name": "beta corp", "Industry": "Retail", "NumberOfEmployees": 5},
            {"Name": "Gamma", "Industry": None, "AnnualRevenue": 9.1226e8},
            {"Name": "Delta 100%", "Industry": "Energy", "NumberOfEmployees": 500},
        ],
    )
    acme = org.query("SELECT Id FROM Account WHERE Name = 'Acme'")[0]["Id"]
    org.insert(
        "Contact",
        [
            {
                "FirstName": "Ada",
                "LastName": "Lovelace",
                "AccountId": acme,
                "Birthdate": "1815-12-10",
            },
            {"LastName": "Orphan"},
        ],
    )
    return org


def names(rows: list[dict[str, object]]) -> list[object]:
    return [r["Name"] for r in rows]


def test_parse_tree() -> None:
    q = parse_soql(
        "select Id, Name from Account where (Industry = 'Energy' or Industry = null) "
        "and not Name in ('x', 'y') order by Name desc nulls last, Id limit 5"
    )
    assert q.fields == ("Id", "Name") and q.sobject == "Account" and q.limit == 5
    assert isinstance(q.where, Junction) and q.where.op == "AND"
    assert isinstance(q.where.items[0], Junction) and q.where.items[0].op == "OR"
    negated = q.where.items[1]
    assert isinstance(negated, Negation) and isinstance(negated.item, InList)
    assert [(o.path, o.descending, o.nulls_first) for o in q.order_by] == [
        ("Name", True, False),
        ("Id", False, None),
    ]


@pytest.mark.parametrize(
    ("where", "expected"),
    [
        ("Name = 'ACME'", ["Acme"]),  # text equality ignores case
        ("Name != 'Acme'", ["beta corp", "Gamma", "Delta 100%"]),
        ("Name <> 'Acme'", ["beta corp", "Gamma", "Delta 100%"]),
        ("Industry != 'Energy'", ["beta corp", "Gamma"]),  # != also matches null
        ("Industry = null", ["Gamma"]),
        ("Industry != null", ["Acme", "beta corp", "Delta 100%"]),
        ("NumberOfEmployees > 5", ["Acme", "Delta 100%"]),
        ("NumberOfEmployees >= 5", ["Acme", "beta corp", "Delta 100%"]),
        ("NumberOfEmployees < 50", ["beta corp"]),
        ("NumberOfEmployees <= 50", ["Acme", "beta corp"]),
        ("AnnualRevenue > 1000000.5", ["Acme", "Gamma"]),
        ("Name LIKE 'b%'", ["beta corp"]),
        ("Name LIKE '_amma'", ["Gamma"]),
        ("Name LIKE '%\\%'", ["Delta 100%"]),  # escaped wildcard
        ("Industry IN ('energy', 'Retail')", ["Acme", "beta corp", "Delta 100%"]),
        ("Industry NOT IN ('Energy')", ["beta corp", "Gamma"]),
        ("Industry = 'Energy' AND NumberOfEmployees > 100", ["Delta 100%"]),
        ("Industry = 'Retail' OR NumberOfEmployees > 100", ["beta corp", "Delta 100%"]),
        ("(Industry = 'Retail' OR Industry = null) AND Name LIKE '%a'", ["Gamma"]),
        ("NOT (Industry = 'Energy')", ["beta corp", "Gamma"]),
    ],
)
def test_where(data: FakeOrg, where: str, expected: list[str]) -> None:
    assert names(data.query(f"SELECT Name FROM Account WHERE {where}")) == expected


def test_id_filters_accept_15_and_18_characters(data: FakeOrg) -> None:
    acme = data.query("SELECT Id FROM Account WHERE Name = 'Acme'")[0]["Id"]
    assert isinstance(acme, str)
    for literal in (acme, acme[:15], acme.lower()):
        assert names(data.query(f"SELECT Name FROM Account WHERE Id = '{literal}'")) == ["Acme"]


def test_order_by_and_limit(data: FakeOrg) -> None:
    assert names(data.query("SELECT Name FROM Account ORDER BY Name")) == [
        "Acme",
        "beta corp",  # case-insensitive ordering
        "Delta 100%",
        "Gamma",
    ]
    # ASC puts nulls first by default, DESC puts them last.
    assert names(data.query("SELECT Name FROM Account ORDER BY Industry, Name")) == [
        "Gamma",
        "Acme",
        "Delta 100%",
        "beta corp",
    ]
    assert names(data.query("SELECT Name FROM Account ORDER BY NumberOfEmployees DESC")) == [
        "Delta 100%",
        "Acme",
        "beta corp",
        "Gamma",
    ]
    assert names(
        data.query("SELECT Name FROM Account ORDER BY NumberOfEmployees DESC NULLS FIRST LIMIT 2")
    ) == ["Gamma", "Delta 100%"]


def test_typed_values_and_relationships(data: FakeOrg) -> None:
    rows = data.query(
        "SELECT Name, Birthdate, Account.Name, Account.Industry, CreatedDate FROM Contact "
        "WHERE Birthdate < 1900-01-01"
    )
    assert rows == [
        {
            "Name": "Ada Lovelace",
            "Birthdate": date(1815, 12, 10),
            "Account.Name": "Acme",
            "Account.Industry": "Energy",
            "CreatedDate": datetime(2024, 5, 6, 7, 8, 9, tzinfo=timezone.utc),
        }
    ]
    orphan = data.query("SELECT LastName, Account.Name FROM Contact WHERE AccountId = null")
    assert orphan == [{"LastName": "Orphan", "Account.Name": None}]
    assert data.query("SELECT Name FROM Contact WHERE Account.Name = 'acme'") == [
        {"Name": "Ada Lovelace"}
    ]
    assert data.query(
        "SELECT Name FROM Contact WHERE CreatedDate >= 2024-05-06T07:08:09Z AND LastName LIKE 'O%'"
    ) == [{"Name": "Orphan"}]


def test_custom_fields(org: FakeOrg) -> None:
    org.declare_object(
        "Video__c",
        [
            FieldSpec("Views__c", FieldType.INT),
            FieldSpec("Live__c", FieldType.BOOLEAN),
            FieldSpec("Account__c", FieldType.REFERENCE, reference_to="Account"),
        ],
    )
    (acct,) = org.insert("Account", [{"Name": "Owner Co"}])
    org.insert(
        "Video__c",
        [{"Name": "a", "Views__c": 3, "Live__c": True, "Account__c": acct}, {"Name": "b"}],
    )
    assert org.query("SELECT Name FROM Video__c WHERE Live__c = true") == [{"Name": "a"}]
    assert org.query("SELECT Name FROM Video__c WHERE Live__c = false") == [{"Name": "b"}]
    assert org.query("SELECT Account__r.Name FROM Video__c WHERE Views__c = 3") == [
        {"Account__r.Name": "Owner Co"}
    ]


@pytest.mark.parametrize(
    ("soql", "code"),
    [
        ("SELECT Nope FROM Account", "INVALID_FIELD"),
        ("SELECT Name FROM Nope__c", "INVALID_TYPE"),
        ("SELECT Foo.Name FROM Contact", "INVALID_FIELD"),
        ("SELECT Name FROM Account WHERE Name = 5", "INVALID_FIELD"),
        ("SELECT Name FROM Account WHERE NumberOfEmployees = '5'", "INVALID_FIELD"),
        ("SELECT Name FROM Account WHERE Id = 'xyz'", "INVALID_QUERY_FILTER_OPERATOR"),
        (
            "SELECT Name FROM Account WHERE Name = 'a' AND Name = 'b' OR Name = 'c'",
            "MALFORMED_QUERY",
        ),
        ("SELECT Name FROM Account WHERE", "MALFORMED_QUERY"),
        ("SELECT Name Account", "MALFORMED_QUERY"),
        ("SELECT COUNT() FROM Account", "FUNCTIONALITY_NOT_ENABLED"),
        ("SELECT Name, (SELECT Id FROM Contacts) FROM Account", "FUNCTIONALITY_NOT_ENABLED"),
        ("SELECT Name FROM Account GROUP BY Name", "FUNCTIONALITY_NOT_ENABLED"),
        ("SELECT Name FROM Account LIMIT 5 OFFSET 2", "FUNCTIONALITY_NOT_ENABLED"),
        ("SELECT Name FROM Account WHERE Name > null", "MALFORMED_QUERY"),
        ("SELECT Name FROM Account WHERE Name = 'unterminated", "MALFORMED_QUERY"),
    ],
)
def test_refusals(data: FakeOrg, soql: str, code: str) -> None:
    with pytest.raises(SoqlError) as info:
        data.query(soql)
    assert info.value.code == code


def test_deleted_rows_only_with_include_deleted(data: FakeOrg) -> None:
    from sfbulk_sdk.models.enums import Operation
    from sfbulk_sdk.testing.store import Writer

    table = data.state.db.table("Account")
    assert table is not None
    gamma = data.query("SELECT Id FROM Account WHERE Name = 'Gamma'")[0]["Id"]
    writer = Writer(
        data.state.db,
        table,
        Operation.DELETE,
        user_id=data.state.accounts.default.user_id,
        now=data.clock(),
    )
    assert writer.write({"Id": gamma}).success
    assert "Gamma" not in names(data.query("SELECT Name FROM Account"))
    deleted = data.query(
        "SELECT Name, IsDeleted FROM Account WHERE Name = 'Gamma'", include_deleted=True
    )
    assert deleted == [{"Name": "Gamma", "IsDeleted": True}]
