"""Insert and query N Accounts x 10 fields: this SDK beside its peers and the csv floor.

Every client runs in its own process against a fresh fake org that runs in
another process (``sfbulk fake-org`` over HTTPS with a throwaway trustme CA,
on loopback). For each client process the table shows the whole process:
CPU (user + sys, from ``wait4``), wall time and peak RSS (``ru_maxrss``),
interpreter start and imports included (the SDK's bytecode is written first,
as a wheel install has it). The insert is timed on an empty
org; the query reads N Accounts seeded beforehand through the fake's
controls (the same rows for every client). Clients:

* ``sdk-bulk1`` / ``sdk-bulk2``: ``bulk.insert("Account", dicts, api=...)``
  (a ``LoadResult`` with every outcome in input order) and
  ``for row in bulk.query(soql, api=...)``; uploads uncompressed, as the
  peers send them (``--gzip`` adds a compressed ``sdk-bulk1`` run);
* ``simple-salesforce-bulk1`` / ``-bulk2``: ``sf.bulk.Account.insert`` /
  ``query`` and ``sf.bulk2.Account.insert`` (then each job's successful and
  failed records) / ``query`` pages read with ``csv.DictReader``;
* ``salesforce-bulk``: one job, 10,000-row ``CsvDictsAdapter`` batches,
  ``get_batch_results``; the query's result files read with ``csv.DictReader``;
* ``floor``: the csv module alone (build the dicts and encode them to CSV
  batches; decode an all-quoted result file into dicts with ``csv.reader``).

Nothing is asserted beyond each client's record count; numbers are printed
with the ratios the issue asks for. ``--repeat N`` runs every client N times,
round by round (each round runs every client once, so a slow spell of a shared
machine falls on all of them): the table then shows each figure's median, and
each ratio is taken within a round (this SDK beside the peers measured next to
it), printed round by round with its median. The default of 200,000 records takes a
few minutes on 2 shared cores; the issue's figure is for 1,000,000:

    .venv/bin/python bench/bench_loads_peers.py --records 1000000
    .venv/bin/python bench/bench_loads_peers.py --records 20000 --clients sdk-bulk1,floor
    .venv/bin/python bench/bench_loads_peers.py --records 1000000 --repeat 3 \
        --clients floor,sdk-bulk1,sdk-bulk2,simple-salesforce-bulk1,simple-salesforce-bulk2
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE / "peers"))

from clients import CLIENTS  # noqa: E402
from orgproc import Tls, fake_org, make_tls  # noqa: E402

ORDER = [
    "floor",
    "sdk-bulk1",
    "simple-salesforce-bulk1",
    "simple-salesforce-bulk2",
    "sdk-bulk2",
    "salesforce-bulk",
]
PEERS = ("simple-salesforce-bulk1", "simple-salesforce-bulk2", "salesforce-bulk")


@dataclass
class Run:
    cpu: float
    wall: float
    rss_mb: float
    count: int


def run_client(client: str, op: str, records: int, extra: list[str]) -> Run:
    """Run one workload in a child process; its whole-process CPU, wall and peak RSS."""
    cmd = [sys.executable, str(HERE / "peers" / "clients.py"), client, op]
    cmd += ["--records", str(records), *extra]
    started = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, text=True)
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - started
    proc.returncode = os.waitstatus_to_exitcode(status)
    out = proc.stdout.read() if proc.stdout else ""
    if proc.returncode != 0:
        raise RuntimeError(f"{client} {op} exited with {proc.returncode}")
    count = int(json.loads(out.strip().splitlines()[-1])["count"])
    if count != records:
        raise RuntimeError(f"{client} {op} counted {count:,} records, not {records:,}")
    rss = usage.ru_maxrss / 1024  # kilobytes on Linux
    return Run(usage.ru_utime + usage.ru_stime, wall, rss, count)


def setup(op: str, records: int, *extra: str) -> None:
    """Seed an org or write the floor's result file in a child process: the parent stays
    small, and a forked child's peak RSS starts from the parent's."""
    cmd = [sys.executable, str(HERE / "peers" / "clients.py"), "setup", op]
    subprocess.run([*cmd, "--records", str(records), *extra], check=True)


def measure(client: str, records: int, tls: Tls, tmp: Path, gzip: bool) -> tuple[Run, Run]:
    extra = ["--ca", str(tls.ca_file)] + (["--gzip"] if gzip else [])
    if client == "floor":
        path = tmp / "result.csv"
        if not path.exists():
            setup("write-csv", records, "--csv", str(path))
        return (
            run_client(client, "insert", records, []),
            run_client(client, "query", records, ["--csv", str(path)]),
        )
    with fake_org(tls) as (url, _proc):
        insert = run_client(client, "insert", records, [*extra, "--url", url])
    with fake_org(tls, file_rows=50_000) as (url, _proc):
        setup("seed", records, "--url", url, "--ca", str(tls.ca_file))
        query = run_client(client, "query", records, [*extra, "--url", url])
    return insert, query


def compile_bytecode() -> None:
    """Write this SDK's bytecode before any client runs, as a wheel install does.

    The peers are installed from wheels, with their bytecode; this SDK is
    usually installed editable, where a shell that sets
    ``PYTHONDONTWRITEBYTECODE`` (as some CI images do) would make every client
    process compile the SDK's modules from source again (about 0.1 s of CPU).
    """
    import compileall
    import importlib.util

    spec = importlib.util.find_spec("sfbulk_sdk")
    folders = (spec.submodule_search_locations or []) if spec else []
    for folder in folders:
        compileall.compile_dir(folder, quiet=1)


def machine() -> str:
    cores = os.cpu_count()
    return (
        f"{platform.system()} {platform.machine()}, {cores} cores "
        f"(shared with other work), Python {platform.python_version()}"
    )


def ratio(value: float, base: float | None) -> str:
    return f"{value / base:.2f}x" if base else "n/a"


Round = dict[str, tuple[Run, Run]]


def median_run(runs: list[Run]) -> Run:
    """Each figure's median over the rounds (figure by figure)."""
    return Run(
        statistics.median(r.cpu for r in runs),
        statistics.median(r.wall for r in runs),
        statistics.median(r.rss_mb for r in runs),
        runs[0].count,
    )


def ratios(one: Round, client: str) -> dict[str, float | None]:
    """``client``'s CPU beside the fastest peer and the floor of the same round."""
    ins, qry = one[client]
    peers = [one[p] for p in PEERS if p in one]
    floor = one.get("floor")
    best_insert = min((r[0].cpu for r in peers), default=None)
    best_query = min((r[1].cpu for r in peers), default=None)
    return {
        "insert/peer": ins.cpu / best_insert if best_insert else None,
        "insert/floor": ins.cpu / floor[0].cpu if floor else None,
        "query/peer": qry.cpu / best_query if best_query else None,
        "query/floor": qry.cpu / floor[1].cpu if floor else None,
    }


TARGETS = {"insert/peer": "<= 0.5", "query/peer": "<= 0.5", "query/floor": "<= 1.2"}


def report_ratios(rounds: list[Round], client: str) -> None:
    per_round = [ratios(one, client) for one in rounds if client in one]
    if not per_round:
        return
    parts = []
    for name in ("insert/peer", "insert/floor", "query/peer", "query/floor"):
        values = [r[name] for r in per_round if r[name] is not None]
        if not values:
            continue
        text = f"{name} {statistics.median(values):.2f}x"
        if len(values) > 1:
            text += " (rounds: " + ", ".join(f"{v:.2f}" for v in values) + ")"
        if name in TARGETS:
            text += f" [target {TARGETS[name]}]"
        parts.append(text)
    print(f"{client} CPU: " + "; ".join(parts))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--records", type=int, default=200_000)
    parser.add_argument("--clients", default=",".join(ORDER), help="comma-separated subset")
    parser.add_argument("--gzip", action="store_true", help="also run sdk-bulk1 with gzip on")
    parser.add_argument(
        "--repeat", type=int, default=1, help="rounds of every client (medians printed)"
    )
    args = parser.parse_args()
    chosen = [c for c in args.clients.split(",") if c]
    unknown = sorted(set(chosen) - set(CLIENTS))
    if unknown:
        raise SystemExit(f"unknown clients: {unknown}; choose from {ORDER}")
    if args.repeat < 1:
        raise SystemExit("--repeat takes a count of 1 or more")
    n = args.records
    rounds: list[Round] = []
    failed: dict[str, str] = {}
    compile_bytecode()
    with tempfile.TemporaryDirectory() as folder:
        tmp = Path(folder)
        tls = make_tls(tmp)
        plan = [(client, client, False) for client in chosen]
        if args.gzip and "sdk-bulk1" in chosen:
            plan.append(("sdk-bulk1 (gzip)", "sdk-bulk1", True))
        for number in range(1, args.repeat + 1):
            one: Round = {}
            rounds.append(one)
            for label, client, gzip in plan:
                if label in failed:
                    continue
                try:
                    one[label] = measure(client, n, tls, tmp, gzip=gzip)
                except RuntimeError as exc:  # a client that fails is reported, the others run
                    failed[label] = str(exc)
                    print(f"  {label}: FAILED ({exc})", flush=True)
                    continue
                ins, qry = one[label]
                print(
                    f"  round {number}/{args.repeat} {label}: insert {ins.cpu:.2f} s CPU, "
                    f"{ins.wall:.2f} s wall, {ins.rss_mb:.0f} MB; query {qry.cpu:.2f} s CPU, "
                    f"{qry.wall:.2f} s wall, {qry.rss_mb:.0f} MB",
                    flush=True,
                )
    labels = [label for label, _, _ in plan if any(label in one for one in rounds)]
    runs = {
        label: (
            median_run([one[label][0] for one in rounds if label in one]),
            median_run([one[label][1] for one in rounds if label in one]),
        )
        for label in labels
    }
    print()
    print(f"{n:,} Accounts x 10 fields, fake org over HTTPS in its own process; {machine()}")
    print("whole client process: CPU = user + sys, peak RSS = ru_maxrss")
    if args.repeat > 1:
        print(f"each figure is the median of {args.repeat} rounds")
    print()
    head = "| client | insert CPU | insert wall | insert RSS | query CPU | query wall | query RSS |"
    print(head)
    print("|---|---|---|---|---|---|---|")
    for client, (ins, qry) in runs.items():
        if client == "floor":
            print(f"| floor (csv module) | {ins.cpu:.2f} s | | | {qry.cpu:.2f} s | | |")
            continue
        print(
            f"| {client} | {ins.cpu:.2f} s | {ins.wall:.2f} s | {ins.rss_mb:.0f} MB "
            f"| {qry.cpu:.2f} s | {qry.wall:.2f} s | {qry.rss_mb:.0f} MB |"
        )
    for label, reason in failed.items():
        print(f"| {label} | failed: {reason} | | | | | |")
    print()
    if args.repeat > 1:
        print("ratios: median of the rounds' ratios, each taken within one round")
    for client in ("sdk-bulk1", "sdk-bulk2", "sdk-bulk1 (gzip)"):
        report_ratios(rounds, client)
    both = [one for one in rounds if "sdk-bulk1 (gzip)" in one and "sdk-bulk1" in one]
    if both:
        cost = statistics.median(
            one["sdk-bulk1 (gzip)"][0].cpu - one["sdk-bulk1"][0].cpu for one in both
        )
        print(f"gzip on the insert costs {cost:+.2f} s CPU")


if __name__ == "__main__":
    main()
