"""One benchmark workload, run in its own process: ``clients.py CLIENT OP ...``.

CLIENT is one of :data:`CLIENTS`; OP is ``insert`` or ``query``. Each insert
builds the same ``--records`` Account dicts of 10 fields, hands them to the
client and reads back every per-record outcome; each query reads every
Account back as one dict per record. The parent (``bench/bench_loads_peers.py``)
measures the whole process (user + sys CPU and peak RSS from ``wait4``, and
wall time); this prints one JSON line with what it counted, checked against
``--records``.

The ``floor`` client is the csv module alone: ``insert`` builds the same
dicts and encodes them into 10,000-row UTF-8 CSV batches with ``csv.writer``;
``query`` decodes a result CSV (``--csv``, in the fake org's all-quoted
layout) into one dict per row with ``csv.reader``.
"""

from __future__ import annotations

import argparse
import codecs
import csv
import io
import json
import os
import sys
import time
import warnings
from collections.abc import Callable, Iterator

FIELDS = [
    "Name",
    "AccountNumber",
    "Site",
    "Industry",
    "NumberOfEmployees",
    "Phone",
    "Fax",
    "Website",
    "TickerSymbol",
    "Sic",
]
SOQL = "SELECT Id, " + ", ".join(FIELDS) + " FROM Account"
VERSION = "62.0"
BATCH = 10_000
USERNAME = "admin@fake-org.example"
PASSWORD = "fake-password"  # the fake org's own throwaway test credentials
TOKEN = "FAKETOKEN"


def make_records(count: int) -> list[dict[str, object]]:
    """The same ``count`` Account dicts for every client (10 fields, one of them an int)."""
    return [
        {
            "Name": f"Account {n}",
            "AccountNumber": f"AC-{n:08d}",
            "Site": "Head office",
            "Industry": "Energy" if n % 2 else "Retail",
            "NumberOfEmployees": n % 5000,
            "Phone": f"555-{n % 10000:04d}",
            "Fax": "555-0199",
            "Website": f"https://example.com/a/{n}",
            "TickerSymbol": "FAKE",
            "Sic": "4911",
        }
        for n in range(count)
    ]


def peer_login(url: str) -> dict[str, str]:
    """The SOAP login arguments of simple-salesforce and salesforce-bulk. Both build
    ``https://{domain}.salesforce.com/...``: this domain makes that URL land on the
    fake (it accepts a login under any prefix)."""
    domain = url.removeprefix("https://") + "/login"
    return {"username": USERNAME, "password": PASSWORD, "security_token": TOKEN, "domain": domain}


# --------------------------------------------------------------------------- this SDK


def _sdk(args: argparse.Namespace) -> object:
    import httpx

    from sfbulk_sdk import Bulk
    from sfbulk_sdk.auth import SoapLogin
    from sfbulk_sdk.core.policy import PollPolicy

    with warnings.catch_warnings():  # the fake org serves SOAP login: its warning is noise here
        warnings.simplefilter("ignore")
        auth = SoapLogin(USERNAME, PASSWORD, TOKEN, login_url=args.url)
    http = httpx.Client(verify=args.ca, timeout=httpx.Timeout(300.0, connect=10.0))
    poll = PollPolicy(initial=0.05, factor=1.5, max_interval=1.0)
    return Bulk(auth=auth, http_client=http, poll=poll, api_version=VERSION)


def sdk_insert(args: argparse.Namespace, api: str) -> int:
    records = make_records(args.records)
    with _sdk(args) as bulk:  # type: ignore[attr-defined]
        result = bulk.insert(
            "Account", records, api=api, gzip=args.gzip, concurrency=4, progress=None
        )
        ids = result.ids()  # every outcome, in input order
        if not (result.ok and len(ids) == args.records and all(ids)):
            raise SystemExit(f"the insert did not load every record: {result!r}")
        return int(result.succeeded)


def sdk_query(args: argparse.Namespace, api: str) -> int:
    count = 0
    with _sdk(args) as bulk:  # type: ignore[attr-defined]
        for record in bulk.query(SOQL, api=api):
            count += record["Name"] is not None
    return count


# --------------------------------------------------------------------------- simple-salesforce


def _ssf(args: argparse.Namespace) -> object:
    import requests
    from simple_salesforce import Salesforce

    session = requests.Session()
    session.verify = args.ca
    return Salesforce(**peer_login(args.url), version=VERSION, session=session)


def ssf1_insert(args: argparse.Namespace) -> int:
    sf = _ssf(args)
    results = sf.bulk.Account.insert(make_records(args.records), batch_size=BATCH)  # type: ignore[attr-defined]
    return sum(1 for r in results if r["success"])


def ssf1_query(args: argparse.Namespace) -> int:
    sf = _ssf(args)
    rows = sf.bulk.Account.query(SOQL)  # type: ignore[attr-defined]
    return sum(1 for r in rows if r["Name"] is not None)


def ssf2_insert(args: argparse.Namespace) -> int:
    sf = _ssf(args)
    # Without batch_size it sends every record as one job, which a million rows push past
    # the 100 MB a job may upload; 200,000 a job stays within it.
    insert = sf.bulk2.Account.insert  # type: ignore[attr-defined]
    jobs = insert(records=make_records(args.records), batch_size=200_000)
    ok = 0
    for job in jobs:  # the per-record outcomes: each job's successful and failed results
        for kind in ("get_successful_records", "get_failed_records"):
            text = getattr(sf.bulk2.Account, kind)(job["job_id"])  # type: ignore[attr-defined]
            for row in csv.DictReader(io.StringIO(text)):
                ok += bool(row.get("sf__Id")) and "sf__Error" not in row
    return ok


def ssf2_query(args: argparse.Namespace) -> int:
    sf = _ssf(args)
    count = 0
    for page in sf.bulk2.Account.query(SOQL, max_records=50_000):  # type: ignore[attr-defined]
        for row in csv.DictReader(io.StringIO(page)):
            count += row["Name"] is not None
    return count


# --------------------------------------------------------------------------- salesforce-bulk


def _sfbulk(args: argparse.Namespace) -> object:
    os.environ["REQUESTS_CA_BUNDLE"] = args.ca  # it builds its own requests calls
    from salesforce_bulk import SalesforceBulk

    return SalesforceBulk(**peer_login(args.url), API_version=VERSION)


def _chunks(records: list[dict[str, object]]) -> Iterator[list[dict[str, object]]]:
    for start in range(0, len(records), BATCH):
        yield records[start : start + BATCH]


def sfbulk_insert(args: argparse.Namespace) -> int:
    from salesforce_bulk import CsvDictsAdapter

    bulk = _sfbulk(args)
    job = bulk.create_insert_job("Account", contentType="CSV")  # type: ignore[attr-defined]
    batches = [
        bulk.post_batch(job, CsvDictsAdapter(iter(chunk)))  # type: ignore[attr-defined]
        for chunk in _chunks(make_records(args.records))
    ]
    bulk.close_job(job)  # type: ignore[attr-defined]
    ok = 0
    for batch in batches:
        bulk.wait_for_batch(job, batch, timeout=3600, sleep_interval=0.05)  # type: ignore[attr-defined]
        ok += sum(r.success == "true" for r in bulk.get_batch_results(batch, job))  # type: ignore[attr-defined]
    return ok


def sfbulk_query(args: argparse.Namespace) -> int:
    bulk = _sfbulk(args)
    job = bulk.create_query_job("Account", contentType="CSV")  # type: ignore[attr-defined]
    batch = bulk.query(job, SOQL)  # type: ignore[attr-defined]
    bulk.close_job(job)  # type: ignore[attr-defined]
    while not bulk.is_batch_done(batch, job):  # type: ignore[attr-defined]
        time.sleep(0.05)
    count = 0
    for result in bulk.get_all_results_for_query_batch(batch, job):  # type: ignore[attr-defined]
        for row in csv.DictReader(codecs.iterdecode(result, "utf-8")):
            count += row["Name"] is not None
    return count


# --------------------------------------------------------------------------- the csv floor


def floor_insert(args: argparse.Namespace) -> int:
    records = make_records(args.records)
    sent = 0
    for chunk in _chunks(records):
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(FIELDS)
        writer.writerows([r[name] for name in FIELDS] for r in chunk)
        body = out.getvalue().encode("utf-8")
        sent += body.count(b"\n") - 1  # records in the batch (the values hold no newline)
    return sent


def floor_query(args: argparse.Namespace) -> int:
    with open(args.csv, "rb") as handle:
        text = handle.read().decode("utf-8")
    reader = csv.reader(io.StringIO(text, newline=""))
    header = next(reader)
    count = 0
    for values in reader:
        row = dict(zip(header, values, strict=True))
        count += row["Name"] is not None
    return count


def seed(url: str, ca: str, records: int) -> None:
    """Put ``records`` Accounts into the org through its controls (not a measured client)."""
    import ssl
    import urllib.request

    context = ssl.create_default_context(cafile=ca)
    rows = make_records(records)
    for start in range(0, records, 50_000):
        body = json.dumps(rows[start : start + 50_000]).encode()
        call = urllib.request.Request(
            f"{url}/_fake/records/Account",
            data=body,
            method="POST",
            headers={"Content-Type": "application/json"},
        )
        with urllib.request.urlopen(call, context=context, timeout=600) as reply:
            reply.read()


def write_query_csv(path: str, count: int) -> None:
    """A query result file as the fake org writes it (every value quoted), for the floor."""
    with open(path, "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle, quoting=csv.QUOTE_ALL, lineterminator="\n")
        writer.writerow(["Id", *FIELDS])
        for n, record in enumerate(make_records(count)):
            writer.writerow([f"001{n:015d}", *(record[name] for name in FIELDS)])


CLIENTS: dict[str, tuple[Callable[[argparse.Namespace], int], Callable[[argparse.Namespace], int]]]
CLIENTS = {
    "sdk-bulk1": (lambda a: sdk_insert(a, "bulk1"), lambda a: sdk_query(a, "bulk1")),
    "sdk-bulk2": (lambda a: sdk_insert(a, "bulk2"), lambda a: sdk_query(a, "bulk2")),
    "simple-salesforce-bulk1": (ssf1_insert, ssf1_query),
    "simple-salesforce-bulk2": (ssf2_insert, ssf2_query),
    "salesforce-bulk": (sfbulk_insert, sfbulk_query),
    "floor": (floor_insert, floor_query),
}


def main(argv: list[str]) -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("client", choices=[*sorted(CLIENTS), "setup"])
    parser.add_argument("op", choices=["insert", "query", "seed", "write-csv"])
    parser.add_argument("--records", type=int, required=True)
    parser.add_argument("--url", default="")
    parser.add_argument("--ca", default="")
    parser.add_argument("--csv", default="")
    parser.add_argument("--gzip", action="store_true", help="compress uploads (this SDK only)")
    args = parser.parse_args(argv)
    if args.ca:  # requests reads these before Session.verify
        os.environ["REQUESTS_CA_BUNDLE"] = args.ca
        os.environ["CURL_CA_BUNDLE"] = args.ca
    if args.client == "setup":  # run apart, so that the parent's memory stays small
        if args.op == "seed":
            seed(args.url, args.ca, args.records)
        else:
            write_query_csv(args.csv, args.records)
        return
    insert, query = CLIENTS[args.client]
    count = (insert if args.op == "insert" else query)(args)
    print(json.dumps({"count": count}))


if __name__ == "__main__":
    main(sys.argv[1:])
