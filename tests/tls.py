"""A test-only certificate authority and a server certificate for 127.0.0.1 (trustme).

The ``tls`` fixture (``tests/conftest.py``) writes them once per run; HTTPS
tests serve the fake org with ``cert_file``/``key_file`` and trust ``ca_file``.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

__all__ = ["Tls", "make_tls"]


@dataclass(frozen=True)
class Tls:
    """A test-only CA and a server certificate for 127.0.0.1/localhost."""

    ca_file: Path
    cert_file: Path
    key_file: Path


def make_tls(folder: Path) -> Tls:
    """A fresh CA and a server certificate, written as PEM files into ``folder``."""
    import trustme

    ca = trustme.CA()
    cert = ca.issue_cert("127.0.0.1", "localhost")
    tls = Tls(folder / "ca.pem", folder / "server.pem", folder / "server.key")
    ca.cert_pem.write_to_path(str(tls.ca_file))
    cert.cert_chain_pems[0].write_to_path(str(tls.cert_file))
    for extra in cert.cert_chain_pems[1:]:
        extra.write_to_path(str(tls.cert_file), append=True)
    cert.private_key_pem.write_to_path(str(tls.key_file))
    return tls
