"""SOQL date literals (``TODAY``, ``LAST_N_DAYS:30``, ``THIS_QUARTER``...) as date ranges.

Each literal names a range of whole days, ``[start, end)``, counted from the org's
current day (UTC: the fake org's users all live in UTC). A filter compares a field
with the range as Salesforce does: ``=`` is within it, ``<`` before its start, ``>``
from its end on, ``<=`` before its end, ``>=`` from its start on. Weeks start on
Sunday and the fiscal year is the calendar year (an org's defaults), so the
``FISCAL`` literals are the calendar ones.

``LAST_N_DAYS:n`` is today and the ``n`` days before it; ``NEXT_N_DAYS:n`` the ``n``
days after today; ``N_DAYS_AGO:n`` the one day ``n`` days back; the week, month,
quarter and year forms count whole periods before (``LAST_N_``) or after
(``NEXT_N_``) the current one, or the one period ``n`` back (``N_..._AGO``).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, timedelta

__all__ = ["DATE_LITERALS", "N_DATE_LITERALS", "date_range"]

Range = tuple[date, date]
NRange = Callable[[date, int], Range]


def _add_months(day: date, months: int) -> date:
    """The first day of the month ``months`` after ``day``'s month."""
    index = day.year * 12 + day.month - 1 + months
    return date(index // 12, index % 12 + 1, 1)


def _month(today: date) -> date:
    return today.replace(day=1)


def _quarter(today: date) -> date:
    return date(today.year, (today.month - 1) // 3 * 3 + 1, 1)


def _week(today: date) -> date:
    return today - timedelta(days=(today.weekday() + 1) % 7)  # Sunday


def _year(today: date) -> date:
    return date(today.year, 1, 1)


def _days(start: date, days: int) -> Range:
    return start, start + timedelta(days=days)


def _months(start: date, months: int) -> Range:
    return start, _add_months(start, months)


#: How long each period is, from its first day: (first day of the current one, step).
_PERIODS: dict[str, tuple[Callable[[date], date], Callable[[date, int], date]]] = {
    "WEEK": (_week, lambda d, n: d + timedelta(days=7 * n)),
    "MONTH": (_month, _add_months),
    "QUARTER": (_quarter, lambda d, n: _add_months(d, 3 * n)),
    "YEAR": (_year, lambda d, n: _add_months(d, 12 * n)),
}


def _period(kind: str, offset: int, count: int, today: date) -> Range:
    first, step = _PERIODS[kind]
    start = step(first(today), offset)
    return start, step(start, count)


#: The literals without a number, as functions of the current day.
DATE_LITERALS: dict[str, Callable[[date], Range]] = {
    "YESTERDAY": lambda t: _days(t - timedelta(days=1), 1),
    "TODAY": lambda t: _days(t, 1),
    "TOMORROW": lambda t: _days(t + timedelta(days=1), 1),
    "LAST_90_DAYS": lambda t: (t - timedelta(days=90), t + timedelta(days=1)),
    "NEXT_90_DAYS": lambda t: _days(t + timedelta(days=1), 90),
}


def _fixed(kind: str, offset: int) -> Callable[[date], Range]:
    return lambda today: _period(kind, offset, 1, today)


def _counted(kind: str, first: Callable[[int], int], count: Callable[[int], int]) -> NRange:
    return lambda today, n: _period(kind, first(n), count(n), today)


def _names(kind: str) -> tuple[str, ...]:
    """A period's names: the fiscal quarter and year are the calendar ones by default."""
    return (kind, f"FISCAL_{kind}") if kind in ("QUARTER", "YEAR") else (kind,)


for _kind in _PERIODS:
    for _name in _names(_kind):
        for _when, _offset in (("LAST", -1), ("THIS", 0), ("NEXT", 1)):
            DATE_LITERALS[f"{_when}_{_name}"] = _fixed(_kind, _offset)

#: The literals that take a number (``LAST_N_DAYS:n``), as functions of the day and n.
N_DATE_LITERALS: dict[str, NRange] = {
    "LAST_N_DAYS": lambda t, n: (t - timedelta(days=n), t + timedelta(days=1)),
    "NEXT_N_DAYS": lambda t, n: _days(t + timedelta(days=1), n),
    "N_DAYS_AGO": lambda t, n: _days(t - timedelta(days=n), 1),
}
for _kind in _PERIODS:
    for _name in _names(_kind):
        N_DATE_LITERALS[f"LAST_N_{_name}S"] = _counted(_kind, lambda n: -n, lambda n: n)
        N_DATE_LITERALS[f"NEXT_N_{_name}S"] = _counted(_kind, lambda n: 1, lambda n: n)
        N_DATE_LITERALS[f"N_{_name}S_AGO"] = _counted(_kind, lambda n: -n, lambda n: 1)


def date_range(name: str, n: int | None, today: date) -> Range:
    """The days ``[start, end)`` the literal ``name`` (with ``n`` for the numbered ones)
    names on ``today``."""
    if n is None:
        return DATE_LITERALS[name](today)
    return N_DATE_LITERALS[name](today, n)
