"""The insert's row work in one process: this SDK's encoding and outcomes beside the csv floor.

No network and no fake org: the CPU a load spends per row on the client,
apart from the HTTP it sends. For ``--records`` Account dicts of 10 fields
(the load benchmark's, ``bench/peers/clients.py``), each round measures
(process CPU time, the best of ``--rounds`` alternating rounds):

* ``floor``: the csv module encoding the dicts into 10,000-row UTF-8 batches;
* ``encode``: ``inputs.prepare`` with the Bulk 1.0 limits (the bodies a
  ``bulk.insert`` uploads, every record checked);
* ``bulk1 outcomes``: reading a Bulk 1.0 result file per batch (as Salesforce
  writes it) into a ``LoadResult``, then ``ids()``;
* ``bulk2 outcomes``: one Bulk 2.0 insert job's successful results (the fake
  org's layout: the two ``sf__`` columns, then the 10 uploaded values, every
  value quoted) streamed through the load's reader into a ``LoadResult``.

Numbers are printed, never asserted:

    .venv/bin/python bench/bench_insert_rows.py [--records 100000] [--rounds 3]
"""

from __future__ import annotations

import argparse
import csv
import io
import platform
import sys
import time
from collections.abc import Callable
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent / "peers"))

from clients import FIELDS, floor_insert, make_records

from sfbulk_sdk import inputs
from sfbulk_sdk.core import bulk1
from sfbulk_sdk.core import flow as f
from sfbulk_sdk.core.bulk2_outcomes import JobRows, Joiner, ResultRows, outcome_sink
from sfbulk_sdk.core.outcomes import LoadResult


def _cpu(work: Callable[[], object]) -> float:
    started = time.process_time()
    work()
    return time.process_time() - started


def _encode(records: list[dict[str, object]]) -> list[inputs.EncodedBody]:
    limits = inputs.Limits(bulk1.BATCH_MAX_RECORDS, bulk1.BATCH_MAX_BYTES, bulk1.BATCH_MAX_CHARS)
    return list(inputs.prepare(records, limits=limits).bodies)


def _bulk1_files(bodies: list[inputs.EncodedBody]) -> list[tuple[int, int, bytes]]:
    files = []
    for body in bodies:
        lines = [b'"Id","Success","Created","Error"\n']
        lines += [b'"001%015d","true","true",""\n' % (body.first_row + k) for k in range(body.rows)]
        files.append((body.first_row, body.rows, b"".join(lines)))
    return files


def _bulk1_outcomes(files: list[tuple[int, int, bytes]], size: int) -> None:
    result = LoadResult("insert", "Account", "bulk1")
    for first, rows, data in files:
        result.grow(rows)
        result.add_bulk1_results(first, rows, data)
    ids = result.ids()
    if len(ids) != size or not result.ok:
        raise SystemExit(f"the Bulk 1.0 outcomes are wrong: {result!r}")


def _bulk2_file(records: list[dict[str, object]]) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, quoting=csv.QUOTE_ALL, lineterminator="\n")
    writer.writerow(["sf__Id", "sf__Created", *FIELDS])
    writer.writerows(
        [f"001{n:015d}", "true", *(r[name] for name in FIELDS)] for n, r in enumerate(records)
    )
    return out.getvalue().encode("utf-8")


def _bulk2_outcomes(data: bytes, size: int) -> None:
    result = LoadResult("insert", "Account", "bulk2", rows_known=False)
    job = JobRows("750000000000001", range(result.grow(size), size), [])
    sink = outcome_sink("successful", job, Joiner([job], None), result, FIELDS, {}, "")
    reader = ResultRows(lambda r: r, ",", sink, lead=True)
    flow = reader.read(httpx.Response(200, headers={"content-type": "text/csv"}))
    step = f.start(flow)
    chunks = [data[at : at + (1 << 16)] for at in range(0, len(data), 1 << 16)]
    for chunk in [*chunks, b""]:  # the body as the network hands it over, then its end
        step = f.resume(flow, f.Reply(chunk))
    if not isinstance(step, f.Done) or not result.ok or result.size != size:
        raise SystemExit(f"the Bulk 2.0 outcomes are wrong: {result!r}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--records", type=int, default=100_000)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    n = args.records
    records = make_records(n)
    files = _bulk1_files(_encode(records))
    bulk2_file = _bulk2_file(records)
    made = _cpu(lambda: make_records(n))
    best: dict[str, float] = {}
    for _ in range(args.rounds):
        # the floor builds its own dicts: their cost is taken off
        timings = {
            "floor (csv module)": _cpu(lambda: floor_insert(argparse.Namespace(records=n))) - made,
            "encode": _cpu(lambda: _encode(records)),
            "bulk1 outcomes": _cpu(lambda: _bulk1_outcomes(files, n)),
            "bulk2 outcomes": _cpu(lambda: _bulk2_outcomes(bulk2_file, n)),
        }
        for name, seconds in timings.items():
            best[name] = min(best.get(name, seconds), seconds)
    print(f"{n:,} Accounts x 10 fields, {platform.machine()}, Python {platform.python_version()}")
    print(f"best of {args.rounds} rounds, process CPU; building the dicts: {made * 1000:.0f} ms")
    floor = best["floor (csv module)"]
    for name, seconds in best.items():
        print(
            f"  {name:20s} {seconds * 1000:8.1f} ms  {seconds / n * 1e9:6.0f} ns/row  "
            f"{seconds / floor:5.2f}x floor"
        )
    sdk = best["encode"] + best["bulk1 outcomes"]
    print(f"Bulk 1.0 row work (encode + outcomes) / floor: {sdk / floor:.2f}x")
    sdk2 = best["encode"] + best["bulk2 outcomes"]
    print(f"Bulk 2.0 row work (encode + outcomes) / floor: {sdk2 / floor:.2f}x")


if __name__ == "__main__":
    main()
