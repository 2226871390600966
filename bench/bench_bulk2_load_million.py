"""Bulk 2.0 at a million rows through the SDK, with injected per-row failures (issue 9).

Runs the scenario of ``tests/client/bulk2_load_scenario.py`` on 1,000,000
Accounts against the fake org in-process: insert (one row in a thousand has no
Name), update every inserted row by Id, upsert them again by an external id with
one new row for every ten, delete half, each with failing rows; then a Bulk 2.0 query reads the
table back. The scenario asserts that every input row has exactly one outcome,
that update/upsert/delete failures are reported against the right input rows
(joined by Id or external id), that insert outcomes carry no guessed row, and
that the query returns every live record once with its final values. Prints the
counts and times of each step. The suite runs the same scenario at 100,000 rows
(``tests/client/test_bulk2_scale.py``) and, without the delete step, at
1,000,000 (``tests/client/test_bulk2_million.py``).

    python bench/bench_bulk2_load_million.py [--rows 1000000]
"""

from __future__ import annotations

import argparse
import resource
import sys
import time
import warnings
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.client import bulk2_load_scenario as scenario


def main(rows: int) -> None:
    warnings.simplefilter("ignore")
    started = time.perf_counter()
    report = scenario.run(rows)
    total = time.perf_counter() - started
    print(f"Bulk 2.0 through the SDK, {rows:,} Accounts, one row in {scenario.EVERY} failing:")
    for step in report.steps:
        joined = "no row: none guessed" if step.operation == "insert" else "each tied to its row"
        print(f"  {step.operation:7} {step.rows:>9,} rows: {step.succeeded:>9,} succeeded, "
              f"{step.failed:>6,} failed, {joined}; {step.seconds:6.1f} s")  # fmt: skip
    print(f"  query   {report.queried:>9,} live records read back once each; "
          f"{report.query_seconds:6.1f} s")  # fmt: skip
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"  total {total:.1f} s, peak RSS {peak:.0f} MB (fake org and client in one process)")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    main(parser.parse_args().rows)
