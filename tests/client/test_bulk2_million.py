"""A million Bulk 2.0 rows through the SDK and the fake org in-process (issue 9).

1,000,000 Accounts are inserted (one in a thousand without a Name, so it
fails), every inserted row is updated by Id (some with a Name too long, some
with an Id of no record), then upserted again by an external id along with one
new row for every ten (some too long); then a Bulk 2.0 query (``/resultPages``,
four at once) reads the table back. :mod:`tests.client.bulk2_load_scenario`
asserts that every input row of every job has exactly one outcome, that the
failed update and upsert rows are exactly the injected ones, reported against
their input rows (joined by Id and by the external id), that no insert outcome
carries a guessed row, and that the query returns every live record once with
the values the loads left; :func:`~tests.client.bulk2_load_scenario.check_counts`
checks the counts against the injection rule. The delete step runs at 100,000
rows (``test_bulk2_scale.py``). Time and peak memory are printed (``pytest
-s``), never asserted.
"""

from __future__ import annotations

import resource
import sys
import time

import pytest

from tests.client import bulk2_load_scenario as scenario

ROWS = 1_000_000


def cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def peak_mb() -> float:
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / (1024 * 1024) if sys.platform == "darwin" else peak / 1024


@pytest.mark.filterwarnings("ignore::sfbulk_sdk.deprecations.LoginDeprecationWarning")
def test_a_million_rows_loaded_and_queried_back_every_outcome_tied_to_its_row() -> None:
    started, cpu = time.perf_counter(), cpu_seconds()
    report = scenario.run(ROWS, delete=False)
    scenario.check_counts(report, ROWS)
    print(
        f"\n{scenario.summary(report)}; total {time.perf_counter() - started:.1f}s "
        f"({cpu_seconds() - cpu:.1f}s CPU), peak RSS {peak_mb():.0f} MB"
    )
