"""Bulk 2.0 at scale through the SDK, with injected per-row failures (issue 9).

100,000 Accounts are inserted, then updated, upserted by an external id and
partly deleted, each operation with failing rows; every outcome is tied back to
its input row (by ``Id`` or the external id; inserts, which have no reliable
key, get none) and the table is read back with a Bulk 2.0 query. The checks
live in :mod:`tests.client.bulk2_load_scenario`; the 1,000,000-row run of the
same scenario is ``bench/bench_bulk2_load_million.py`` (it takes minutes, too
long for the suite).
"""

from __future__ import annotations

import pytest

from tests.client import bulk2_load_scenario as scenario

ROWS = 100_000


def _hits(rows: int, offset: int, first: int = 1) -> int:
    """How many of rows ``first..rows`` the scenario makes fail at ``offset``."""
    return sum(1 for r in range(first, rows + 1) if r % scenario.EVERY == offset)


@pytest.mark.slow  # about a minute: a hundred thousand rows through four jobs and a query
@pytest.mark.filterwarnings("ignore::sfbulk_sdk.deprecations.LoginDeprecationWarning")
def test_a_hundred_thousand_rows_every_outcome_tied_to_its_row() -> None:
    report = scenario.run(ROWS)
    counts = {s.operation: (s.rows, s.succeeded, s.failed) for s in report.steps}
    no_name = _hits(ROWS, 7)
    inserted = ROWS - no_name
    assert counts["insert"] == (ROWS, inserted, no_name)
    bad = _hits(inserted, 11) + _hits(inserted, 13)
    assert counts["update"] == (inserted, inserted - bad, bad)
    half = inserted // 2
    assert counts["upsert"] == (2 * half, 2 * half - _hits(2 * half, 17), _hits(2 * half, 17))
    doomed = inserted - half
    assert counts["delete"] == (doomed, doomed - _hits(doomed, 19), _hits(doomed, 19))
    # live: the inserted rows, plus the new upserts that did not fail, less the deleted ones
    created = half - _hits(2 * half, 17, first=half + 1)
    assert report.queried == inserted + created - (doomed - _hits(doomed, 19))
    print(
        "\n"
        + ", ".join(f"{s.operation} {s.rows:,} rows {s.seconds:.1f}s" for s in report.steps)
        + f", query {report.queried:,} rows {report.query_seconds:.1f}s"
    )
