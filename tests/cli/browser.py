"""A stand-in browser for ``sfbulk login --web`` tests (``BROWSER="python browser.py %s"``).

It does what a person's browser does after they approve the app: GET the
authorize URL and follow the redirects, the last one to sfbulk's loopback
server. ``SFBULK_TEST_BROWSER_CA`` is the CA the fake org's HTTPS is checked with.
"""

from __future__ import annotations

import os
import ssl
import sys

import httpx


def main(url: str) -> int:
    ca = os.environ.get("SFBULK_TEST_BROWSER_CA")
    verify = ssl.create_default_context(cafile=ca) if ca else True
    with httpx.Client(verify=verify, follow_redirects=True, timeout=30) as http:
        reply = http.get(url)
    return 0 if reply.status_code == 200 else 1


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1]))
