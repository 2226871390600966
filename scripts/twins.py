"""Check that ``sfbulk_sdk/aio.py`` is the async twin of ``sfbulk_sdk/client.py``.

The async client is the sync one with I/O made awaitable. This script rewrites
``aio.py`` back to sync form (``async def`` -> ``def``, ``await`` dropped,
async names mapped to their sync counterparts) and diffs the result against
``client.py``, ignoring docstrings and comments. Run it (or the test that calls
it) after editing either client; any difference that is not an I/O difference
means the twins drifted.
"""

from __future__ import annotations

import difflib
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

# async spelling -> sync spelling (applied to aio.py)
REPLACEMENTS = [
    (r"\basync def __aenter__\(self\) -> AsyncBulk", "def __enter__(self) -> Bulk"),
    (r"\basync def __aexit__\b", "def __exit__"),
    (r"\bawait self\.aclose\(\)", "self.close()"),
    (r"\bdef aclose\b", "def close"),
    (r"\bawait self\._http\.aclose\(\)", "self._http.close()"),
    (r"\baread\(\)", "read()"),
    (r"\baclose\(\)", "close()"),
    (r"\baiter_bytes\(\)", "iter_bytes()"),
    (r"\basync for\b", "for"),
    (r"\basync def\b", "def"),
    (r"\bawait\s+", ""),
    (r"\bAsyncIterator\b", "Iterator"),
    (r"\bAsyncGenerator\b", "Generator"),
    (r"\bAsyncFixedSessionSource\b", "FixedSessionSource"),
    (r"\bAsyncSessionSource\b", "SessionSource"),
    (r"\bAsyncSessionStore\b", "SessionStore"),
    (r"\bAsyncSessionManager\b", "SessionManager"),
    (r"\bAsyncBaseTransport\b", "BaseTransport"),
    (r"\bAsyncClient\b", "Client"),
    (r"\bAsyncBulk\b", "Bulk"),
    (
        r"Callable\[\[float\], Awaitable\[None\]\] = anyio\.sleep",
        "Callable[[float], None] = time.sleep",
    ),
]


def _strip(source: str) -> list[str]:
    source = re.sub(r'"""[\s\S]*?"""', '""""""', source)
    lines = []
    for line in source.splitlines():
        line = re.sub(r"\s+#.*$", "", line).rstrip()
        if not line or line.lstrip().startswith(("import ", "from ")):
            continue
        lines.append(line)
    return lines


def _normalise(text: str) -> str:
    # join wrapped expressions so formatting differences do not count
    text = re.sub(r"\(\s+", "(", re.sub(r"\s+\)", ")", re.sub(r",\s+", ", ", text)))
    text = re.sub(r"\[\s+", "[", re.sub(r"\s+\]", "]", text))
    # forms that exist only because the async side cannot use them
    text = re.sub(r"\((self\.\w+\([^()]*\))\)\.", r"\1.", text)
    text = re.sub(r"for (\w+) in ([^\n]+):\n\s+yield \1\n", r"yield from \2\n", text)
    text = re.sub(r"\[(\w+) for \1 in ([^\n]+)\]", r"list(\2)", text)
    return text


def diff() -> list[str]:
    aio = (ROOT / "sfbulk_sdk" / "aio.py").read_text()
    for pattern, repl in REPLACEMENTS:
        aio = re.sub(pattern, repl, aio)
    sync = (ROOT / "sfbulk_sdk" / "client.py").read_text()
    a = _normalise("\n".join(_strip(aio))).splitlines()
    b = _normalise("\n".join(_strip(sync))).splitlines()
    return list(difflib.unified_diff(b, a, "client.py", "aio.py (as sync)", lineterm="", n=1))


def main() -> int:
    lines = diff()
    print("\n".join(lines) if lines else "twins in step")
    return 1 if lines else 0


if __name__ == "__main__":
    sys.exit(main())
