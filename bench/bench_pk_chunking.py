"""Bulk 1.0 PK-chunked query of 1,000,000 rows, in-process: every row exactly once.

The fake org holds ``ROWS`` Accounts; ``bulk.query(..., pk_chunking=CHUNK)``
reads them back across the chunk batches (the NotProcessed original skipped)
and their result files. Prints the rows read, distinct ids, the chunk batches,
wall and CPU time of the query, and the process's peak RSS. Exits non-zero if
a row is missing or repeated. ``ROWS`` can be set from the command line
(``python bench/bench_pk_chunking.py 200000``).
"""

from __future__ import annotations

import platform
import resource
import sys
import time

from sfbulk_sdk import Bulk
from sfbulk_sdk.auth import StaticSession
from sfbulk_sdk.testing import FakeOrg, FakeOrgTransport

ROWS = int(sys.argv[1]) if len(sys.argv) > 1 else 1_000_000
CHUNK = 100_000
RESULT_FILE_ROWS = 50_000


def main() -> int:
    org = FakeOrg(query_result_file_rows=RESULT_FILE_ROWS)
    started = time.perf_counter()
    org.insert("Account", ({"Name": f"A{i}"} for i in range(ROWS)))
    seeded = time.perf_counter() - started
    auth = StaticSession(org.instance_url, org.issue_session())
    ids: set[str] = set()
    count = 0
    wall, cpu = time.perf_counter(), time.process_time()
    with Bulk(auth=auth, transport=FakeOrgTransport(org), sleep=lambda _s: None) as bulk:
        for record in bulk.query("SELECT Id, Name FROM Account", pk_chunking=CHUNK):
            ids.add(str(record["Id"]))
            count += 1
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    (job,) = org.jobs()
    batches = org.batches(job.id)
    chunks = sum(1 for b in batches if b.state.value != "NotProcessed")
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"machine: {platform.machine()}, {platform.node()}, Python {platform.python_version()}")
    print(f"seeded {ROWS:,} Accounts in {seeded:.1f} s")
    print(f"query: {count:,} rows, {len(ids):,} distinct ids, {chunks} chunk batches")
    print(f"query wall {wall:.1f} s, CPU {cpu:.1f} s (org and client in one process)")
    print(f"peak RSS {peak:.0f} MB (the fake org's table included)")
    ok = count == len(ids) == ROWS
    print("every row exactly once" if ok else "MISSING OR REPEATED ROWS")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
