"""SOQL date literals in the fake org: ``TODAY``, ``LAST_N_DAYS:n``, ``THIS_QUARTER``...

Each is a range of whole days from the org's clock (UTC); ``=`` is within it, ``<``
before it, ``>`` after it, ``<=`` / ``>=`` include it; on a date field and on a
dateTime field alike, through ``org.query`` and through both Bulk APIs.
"""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from sfbulk_sdk import Bulk
from sfbulk_sdk.auth import StaticSession
from sfbulk_sdk.testing import FakeOrg, FakeOrgTransport, ManualClock, SoqlError

# the org's clock starts on Monday 2024-05-06 (tests/testing/conftest.py)
TODAY = date(2024, 5, 6)
DAYS = [-40, -8, -3, -2, -1, 0, 1, 3, 6, 30, 60]


@pytest.fixture
def deals(org: FakeOrg) -> FakeOrg:
    org.insert(
        "Opportunity",
        [
            {
                "Name": str(offset),
                "StageName": "Prospecting",
                "CloseDate": (TODAY + timedelta(offset)).isoformat(),
            }
            for offset in DAYS
        ],
    )
    return org


def _offsets(org: FakeOrg, where: str) -> list[int]:
    rows = org.query(f"SELECT Name FROM Opportunity WHERE {where}")
    return sorted(int(str(row["Name"])) for row in rows)


@pytest.mark.parametrize(
    ("where", "expected"),
    [
        ("CloseDate = TODAY", [0]),
        ("CloseDate = yesterday", [-1]),
        ("CloseDate = TOMORROW", [1]),
        ("CloseDate > TODAY", [1, 3, 6, 30, 60]),
        ("CloseDate >= TODAY", [0, 1, 3, 6, 30, 60]),
        ("CloseDate < TODAY", [-40, -8, -3, -2, -1]),
        ("CloseDate <= YESTERDAY", [-40, -8, -3, -2, -1]),
        ("CloseDate != TODAY", [-40, -8, -3, -2, -1, 1, 3, 6, 30, 60]),
        ("CloseDate IN (TODAY, YESTERDAY)", [-1, 0]),
        ("CloseDate NOT IN (TODAY, YESTERDAY)", [-40, -8, -3, -2, 1, 3, 6, 30, 60]),
        ("CloseDate = THIS_WEEK", [-1, 0, 1, 3]),  # Sunday 5 May to Saturday 11 May
        ("CloseDate = LAST_WEEK", [-8, -3, -2]),
        ("CloseDate = NEXT_WEEK", [6]),
        ("CloseDate = LAST_N_DAYS:2", [-2, -1, 0]),  # today and the two days before
        ("CloseDate = NEXT_N_DAYS:3", [1, 3]),
        ("CloseDate = N_DAYS_AGO:3", [-3]),
        ("CloseDate = THIS_MONTH", [-3, -2, -1, 0, 1, 3, 6]),
        ("CloseDate = LAST_MONTH", [-8]),
        ("CloseDate = THIS_QUARTER", [-8, -3, -2, -1, 0, 1, 3, 6, 30]),
        ("CloseDate = LAST_QUARTER", [-40]),
        ("CloseDate = NEXT_N_MONTHS:2", [30, 60]),
        ("CloseDate = THIS_YEAR AND CloseDate < LAST_N_DAYS:7", [-40, -8]),
        ("CloseDate = LAST_90_DAYS", [-40, -8, -3, -2, -1, 0]),
        ("CloseDate = THIS_FISCAL_YEAR", DAYS),
    ],
)
def test_date_literals_on_a_date_field(deals: FakeOrg, where: str, expected: list[int]) -> None:
    assert _offsets(deals, where) == expected


def test_date_literals_on_a_datetime_field_follow_the_clock(
    deals: FakeOrg, clock: ManualClock
) -> None:
    assert len(_offsets(deals, "CreatedDate = TODAY")) == len(DAYS)
    assert _offsets(deals, "CreatedDate = YESTERDAY") == []
    clock.advance(24 * 3600)
    assert len(_offsets(deals, "CreatedDate = YESTERDAY")) == len(DAYS)
    assert len(_offsets(deals, "CreatedDate < TODAY")) == len(DAYS)
    assert _offsets(deals, "CloseDate = TODAY") == [1]


@pytest.mark.parametrize(
    ("where", "code"),
    [
        ("Name = TODAY", "INVALID_FIELD"),
        ("Amount > TODAY", "INVALID_FIELD"),
        ("CloseDate = LAST_N_DAYS", "MALFORMED_QUERY"),
        ("CloseDate = LAST_N_DAYS:x", "MALFORMED_QUERY"),
        ("CloseDate = LAST_N_DAYS:1.5", "MALFORMED_QUERY"),
        ("CloseDate = SOMEDAY", "MALFORMED_QUERY"),
    ],
)
def test_date_literals_refused_where_salesforce_refuses_them(
    deals: FakeOrg, where: str, code: str
) -> None:
    with pytest.raises(SoqlError) as info:
        deals.query(f"SELECT Name FROM Opportunity WHERE {where}")
    assert info.value.code == code


@pytest.mark.parametrize("api", ["bulk1", "bulk2"])
def test_bulk_queries_read_date_literals_on_the_orgs_clock(deals: FakeOrg, api: str) -> None:
    auth = StaticSession(deals.instance_url, deals.issue_session())
    with Bulk(auth=auth, transport=FakeOrgTransport(deals)) as bulk:
        rows = list(
            bulk.query("SELECT Name FROM Opportunity WHERE CloseDate = LAST_N_DAYS:1", api=api)  # type: ignore[arg-type]
        )
    assert sorted(int(str(r["Name"])) for r in rows) == [-1, 0]
