"""The fake org in its own process over HTTPS, seeded with Accounts (for the Bulk 2.0 benches).

``FakeOrgProcess(rows, ...)`` writes a throwaway test CA and server certificate
(``trustme``), starts ``python bench_bulk2_server.py`` as a child process that
fills a :class:`~sfbulk_sdk.testing.FakeOrg` with ``rows`` Accounts and serves it
with :func:`sfbulk_sdk.testing.server.serve` (what ``sfbulk fake-org`` runs), and
waits for the URL it prints. Client code then reaches it over real HTTPS, as it
would reach Salesforce, and the server's CPU is not the client's.

Run alone, it serves until interrupted::

    python bench/bench_bulk2_server.py --rows 100000 --cert server.pem --key server.key
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import threading
from pathlib import Path
from types import TracebackType

FIELDS = ("Name", "AccountNumber", "Phone", "Industry", "Rating")


def account(n: int) -> dict[str, object]:
    """The ``n``-th seeded Account (a few of the standard fields real loads use)."""
    return {
        "Name": f"Account {n:07d}",
        "AccountNumber": f"AN-{n:09d}",
        "Phone": f"+1 415 555 {n % 10_000:04d}",
        "Industry": ("Banking", "Retail", "Energy", "Media")[n % 4],
        "Rating": ("Hot", "Warm", "Cold")[n % 3],
    }


class FakeOrgProcess:
    """A child process serving a seeded fake org over HTTPS; a context manager."""

    def __init__(self, rows: int, *, page_records: int = 50_000, latency: float = 0.0) -> None:
        import trustme

        self._folder = tempfile.TemporaryDirectory(prefix="sfbulk-bench-")
        folder = Path(self._folder.name)
        ca = trustme.CA()
        cert = ca.issue_cert("127.0.0.1")
        self.ca_file = folder / "ca.pem"
        cert_file, key_file = folder / "server.pem", folder / "server.key"
        ca.cert_pem.write_to_path(str(self.ca_file))
        for index, pem in enumerate(cert.cert_chain_pems):
            pem.write_to_path(str(cert_file), append=index > 0)
        cert.private_key_pem.write_to_path(str(key_file))
        self._process = subprocess.Popen(
            [
                sys.executable, __file__, "--rows", str(rows), "--cert", str(cert_file),
                "--key", str(key_file), "--page-records", str(page_records),
                "--latency", str(latency),
            ],
            stdout=subprocess.PIPE,
            text=True,
        )  # fmt: skip
        self.url = self._wait_for_url()

    def _wait_for_url(self) -> str:
        assert self._process.stdout is not None
        for line in self._process.stdout:
            if line.startswith("Fake Salesforce org listening on "):
                url = line.rsplit(" ", 1)[-1].strip()
                # keep reading what it prints, so that a full pipe never blocks it
                threading.Thread(target=self._process.stdout.read, daemon=True).start()
                return url
        raise RuntimeError("the fake org process ended before it listened")

    def __enter__(self) -> FakeOrgProcess:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        self._process.terminate()
        self._process.wait(timeout=30)
        self._folder.cleanup()


def _serve(args: argparse.Namespace) -> None:
    import logging

    from sfbulk_sdk.testing import FakeOrg
    from sfbulk_sdk.testing.server import serve

    org = FakeOrg(bulk2_query_page_records=args.page_records)
    org.insert("Account", (account(n) for n in range(args.rows)))
    org.state.settings.latency = args.latency
    logging.disable(logging.INFO)
    serve(
        org,
        certfile=args.cert,
        keyfile=args.key,
        log_level="warning",
        echo=lambda line: print(line, flush=True),
    )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--cert", required=True)
    parser.add_argument("--key", required=True)
    parser.add_argument("--page-records", type=int, default=50_000)
    parser.add_argument("--latency", type=float, default=0.0)
    _serve(parser.parse_args())
