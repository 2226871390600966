"""Bulk 2.0 at scale through the SDK, with injected per-row failures (issue 9).

100,000 Accounts are inserted, then updated, upserted by an external id and
partly deleted, each operation with failing rows; every outcome is tied back to
its input row (by ``Id`` or the external id; inserts, which have no reliable
key, get none) and the table is read back with a Bulk 2.0 query. The checks
live in :mod:`tests.client.bulk2_load_scenario`; the 1,000,000-row run is
``tests/client/test_bulk2_million.py``.
"""

from __future__ import annotations

import pytest

from tests.client import bulk2_load_scenario as scenario

ROWS = 100_000


@pytest.mark.filterwarnings("ignore::sfbulk_sdk.deprecations.LoginDeprecationWarning")
def test_a_hundred_thousand_rows_every_outcome_tied_to_its_row() -> None:
    report = scenario.run(ROWS)
    scenario.check_counts(report, ROWS)
    print("\n" + scenario.summary(report))
