"""How fast the fake org ingests a 100,000-record CSV insert in-process.

The load is one Bulk 1.0 job with 10 batches of 10,000 Account rows, sent
through ``FakeOrgTransport(org)`` with ``httpx.Client``: create the job, post
the batches, close the job, wait for every batch and read every result. The
timer covers all of that (the CSV text is built beforehand, as a client would
have it). Prints records per second; nothing is asserted.

Run: ``.venv/bin/python bench/bench_fake_org.py [--records N] [--batch-size N] [--repeat N]``
"""

from __future__ import annotations

import argparse
import csv
import io
import re
import time

import httpx

from sfbulk_sdk.testing import FakeOrg, FakeOrgTransport

NS = "http://www.force.com/2009/06/asyncapi/dataload"
VERSION = "62.0"


def make_batches(records: int, batch_size: int) -> list[bytes]:
    """CSV bodies of Account rows, quoted the way most clients write them."""
    bodies = []
    for start in range(0, records, batch_size):
        out = io.StringIO()
        writer = csv.writer(out, quoting=csv.QUOTE_ALL, lineterminator="\r\n")
        writer.writerow(["Name", "AccountNumber", "Industry", "NumberOfEmployees", "Phone"])
        for n in range(start, min(start + batch_size, records)):
            writer.writerow([f"Account {n}", f"AC-{n:08d}", "Technology", n % 5000, "555-0100"])
        bodies.append(out.getvalue().encode())
    return bodies


def run_once(bodies: list[bytes]) -> tuple[float, int]:
    """Load every batch through a fresh org; returns (seconds, successful records)."""
    org = FakeOrg()
    session = org.issue_session()
    headers = {"X-SFDC-Session": session, "Content-Type": "application/xml; charset=UTF-8"}
    base = f"{org.instance_url}/services/async/{VERSION}"
    with httpx.Client(transport=FakeOrgTransport(org), base_url=base, headers=headers) as client:
        started = time.perf_counter()
        job_xml = (
            f'<?xml version="1.0" encoding="UTF-8"?><jobInfo xmlns="{NS}"><operation>insert'
            "</operation><object>Account</object><contentType>CSV</contentType></jobInfo>"
        )
        reply = client.post("/job", content=job_xml)
        reply.raise_for_status()
        job_id = re.search(r"<id>(\w+)</id>", reply.text)[1]  # type: ignore[index]
        batch_ids = []
        for body in bodies:
            reply = client.post(
                f"/job/{job_id}/batch",
                content=body,
                headers={"Content-Type": "text/csv; charset=UTF-8"},
            )
            reply.raise_for_status()
            batch_ids.append(re.search(r"<id>(\w+)</id>", reply.text)[1])  # type: ignore[index]
        close = f'<jobInfo xmlns="{NS}"><state>Closed</state></jobInfo>'
        client.post(f"/job/{job_id}", content=close).raise_for_status()
        ok = 0
        for batch_id in batch_ids:
            while (
                "<state>Completed</state>" not in client.get(f"/job/{job_id}/batch/{batch_id}").text
            ):
                pass  # the default org finishes a batch on the next request
            result = client.get(
                f"/job/{job_id}/batch/{batch_id}/result", headers={"Content-Type": "text/csv"}
            )
            result.raise_for_status()
            ok += result.text.count('","true","true"')
        elapsed = time.perf_counter() - started
    if org.count("Account") != ok:
        raise SystemExit(f"table holds {org.count('Account')} rows, results say {ok}")
    return elapsed, ok


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=100_000)
    parser.add_argument("--batch-size", type=int, default=10_000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    bodies = make_batches(args.records, args.batch_size)
    best = float("inf")
    for _ in range(args.repeat):
        elapsed, ok = run_once(bodies)
        if ok != args.records:
            raise SystemExit(f"only {ok} of {args.records} records were inserted")
        best = min(best, elapsed)
    rate = args.records / best
    print(
        f"fake org CSV insert: {args.records:,} records in {len(bodies)} batches, "
        f"best of {args.repeat}: {best:.3f} s = {rate:,.0f} records/s"
    )


if __name__ == "__main__":
    main()
