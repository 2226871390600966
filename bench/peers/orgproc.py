"""The fake org as a separate process over HTTPS, for the load benchmarks.

:func:`make_tls` writes a throwaway ``trustme`` CA and a 127.0.0.1 server
certificate; :func:`fake_org` starts ``sfbulk fake-org`` (or, with a
``latency``, this file's own ``serve`` command, which sets the per-request
delay the CLI has no option for) on a free loopback port and yields its URL.

Run directly only as the server of :func:`fake_org`:
``python bench/peers/orgproc.py serve --latency 0.1 --certfile C --keyfile K``.
"""

from __future__ import annotations

import argparse
import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Tls:
    """A throwaway CA (``ca_file``) and the server's key and certificate chain in one PEM."""

    ca_file: Path
    server_pem: Path


def make_tls(folder: Path) -> Tls:
    """A fresh test CA and a server certificate for 127.0.0.1, written into ``folder``."""
    import trustme

    authority = trustme.CA()
    tls = Tls(folder / "bench-ca.pem", folder / "bench-server.pem")
    authority.cert_pem.write_to_path(str(tls.ca_file))
    leaf = authority.issue_cert("127.0.0.1", "localhost")
    leaf.private_key_and_cert_chain_pem.write_to_path(str(tls.server_pem))
    return tls


@contextmanager
def fake_org(
    tls: Tls | None, *, file_rows: int | None = None, latency: float = 0.0
) -> Iterator[tuple[str, subprocess.Popen[str]]]:
    """Serve a fresh fake org in its own process (HTTPS with ``tls``, else HTTP);
    yields (its base URL, the process), and stops it at the end."""
    options = [] if tls is None else ["--certfile", str(tls.server_pem)]
    options += [] if tls is None else ["--keyfile", str(tls.server_pem)]
    options += ["--query-result-file-rows", str(file_rows)] if file_rows else []
    if latency > 0:
        cmd = [sys.executable, __file__, "serve", "--latency", str(latency), *options]
    else:
        cmd = [sys.executable, "-m", "sfbulk_sdk.cli", "fake-org", "--log-level", "warning"]
        cmd += options
    server = subprocess.Popen(cmd, stdout=subprocess.PIPE, text=True, start_new_session=True)
    try:
        yield _announced_url(server), server
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=30)


def _announced_url(server: subprocess.Popen[str]) -> str:
    """The URL the server prints once it listens (within a minute)."""
    assert server.stdout is not None
    give_up = time.monotonic() + 60
    for line in iter(server.stdout.readline, ""):
        found = re.search(r"listening on (\S+)", line)
        if found:
            return found.group(1)
        if time.monotonic() > give_up:
            break
    raise RuntimeError("the fake org did not start")


def _serve(argv: list[str]) -> None:
    parser = argparse.ArgumentParser(prog="orgproc.py serve")
    parser.add_argument("--latency", type=float, default=0.0)
    parser.add_argument("--certfile")
    parser.add_argument("--keyfile")
    parser.add_argument("--query-result-file-rows", type=int, default=None)
    args = parser.parse_args(argv)
    from sfbulk_sdk.testing import FakeOrg
    from sfbulk_sdk.testing.server import serve

    org = FakeOrg(latency=args.latency, query_result_file_rows=args.query_result_file_rows)
    serve(
        org,
        port=0,
        certfile=args.certfile,
        keyfile=args.keyfile,
        log_level="warning",
        echo=lambda line: print(line, flush=True),
    )


if __name__ == "__main__":
    if sys.argv[1:2] != ["serve"]:
        raise SystemExit(__doc__)
    _serve(sys.argv[2:])
