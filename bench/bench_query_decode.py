"""The query path's per-record decoding beside the csv floor, in process (no network).

A result file as the fake org writes it (every value quoted, N Accounts x 11
columns) is decoded into one dict per record three ways, in alternating
rounds, and the process CPU of each is printed with its ratio to the floor:

* ``floor``: the csv module alone, the very floor of ``bench_loads_peers.py``
  (read the file, ``csv.reader`` over the whole text, ``dict(zip(header, row))``
  per row);
* ``decoder``: :class:`~sfbulk_sdk.core.decoders.CsvRecordDecoder` fed the
  body 64 KiB at a time, as the client streams it;
* ``decoder (csv path)``: the same body with one escaped quote per chunk of
  records, so that every chunk takes the decoder's :mod:`csv` path.

    .venv/bin/python bench/bench_query_decode.py --records 100000
"""

from __future__ import annotations

import argparse
import csv
import io
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from sfbulk_sdk.core.decoders import CsvRecordDecoder

sys.path.insert(0, str(Path(__file__).resolve().parent / "peers"))

import clients

FIELDS = ["Id", "Name", "AccountNumber", "Site", "Industry", "NumberOfEmployees", "Phone"]
FIELDS += ["Fax", "Website", "TickerSymbol", "Sic"]
SLICE = 1 << 16


def body(count: int, quote_every: int = 0) -> bytes:
    """An all-quoted result file; with ``quote_every``, a value holding a quote that often."""
    out = io.StringIO(newline="")
    writer = csv.writer(out, quoting=csv.QUOTE_ALL, lineterminator="\n")
    writer.writerow(FIELDS)
    for n in range(count):
        name = f'Account "{n}"' if quote_every and n % quote_every == 0 else f"Account {n}"
        first = [f"001{n:015d}", name, f"AC-{n:08d}", "Head office", "Energy", str(n % 5000)]
        rest = [f"555-{n % 10000:04d}", "555-0199", f"https://example.com/a/{n}", "FAKE", "4911"]
        writer.writerow([*first, *rest])
    return out.getvalue().encode("utf-8")


def floor(data: bytes) -> int:
    """The floor of ``bench_loads_peers.py`` (``clients.floor_query``), over a file of ``data``."""
    with tempfile.NamedTemporaryFile(suffix=".csv") as handle:
        handle.write(data)
        handle.flush()
        return int(clients.floor_query(argparse.Namespace(csv=handle.name)))


def decoder(data: bytes) -> int:
    decode = CsvRecordDecoder()
    count = 0
    for at in range(0, len(data), SLICE):
        for row in decode.feed(data[at : at + SLICE]):
            count += row["Name"] is not None
    for row in decode.close():
        count += row["Name"] is not None
    return count


def cpu(work: Callable[[bytes], int], data: bytes, records: int) -> float:
    started = time.process_time()
    counted = work(data)
    spent = time.process_time() - started
    if counted != records:
        raise SystemExit(f"{work.__name__} counted {counted:,} records, not {records:,}")
    return spent


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--records", type=int, default=100_000)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    n = args.records
    plain, quoted = body(n), body(n, quote_every=300)
    runs: dict[str, list[float]] = {"floor": [], "decoder": [], "decoder (csv path)": []}
    for _ in range(args.rounds):  # alternate, so that a busy moment hits every variant
        runs["floor"].append(cpu(floor, plain, n))
        runs["decoder"].append(cpu(decoder, plain, n))
        runs["decoder (csv path)"].append(cpu(decoder, quoted, n))
    best_floor = min(runs["floor"])
    print(f"{n:,} records x {len(FIELDS)} fields, best of {args.rounds} rounds (process CPU)")
    print("| variant | CPU | per record | / floor |")
    print("|---|---|---|---|")
    for name, times in runs.items():
        best = min(times)
        print(f"| {name} | {best:.3f} s | {best / n * 1e6:.2f} us | {best / best_floor:.2f}x |")


if __name__ == "__main__":
    main()
