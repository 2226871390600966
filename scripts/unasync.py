#!/usr/bin/env python3
"""Write the synchronous twins of the hand-written async sources.

Every I/O twin of the SDK (the client, the session manager, the stores and
their locks, and the async test modules that want a sync twin) is written once,
async, under an ``_async`` folder; its sync twin is generated into the sibling
``_sync`` folder by the rename table below, then passed through ``ruff`` (import
order, unused imports, formatting) so that it meets the same gates as the code
it comes from. Generated files say so in their first line and are committed.

    python scripts/unasync.py            # (re)write every generated file
    python scripts/unasync.py --check    # exit 1 if a generated file differs from
                                         # what would be written, or a rule is unused

``make test`` runs the check. A line of an async source ending in
``# unasync: drop`` has no sync counterpart and is left out of the twin.
"""

from __future__ import annotations

import argparse
import difflib
import re
import subprocess
import sys
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

#: The folders whose ``.py`` files are async sources, relative to the repository
#: root; the twin of ``X/_async/f.py`` is ``X/_sync/f.py``.
SOURCE_DIRS = (
    "sfbulk_sdk/_async",
    "sfbulk_sdk/stores/_async",
    "tests/_async",
)

#: The rename table: (async spelling, sync spelling), applied in order as whole
#: words (a rule starting or ending in a non-word character matches as written).
RULES: tuple[tuple[str, str], ...] = (
    # syntax
    ("async def ", "def "),
    ("async with ", "with "),
    ("async for ", "for "),
    ("await ", ""),
    ("__aenter__", "__enter__"),
    ("__aexit__", "__exit__"),
    # standard library
    ("AsyncIterator", "Iterator"),
    ("AsyncGenerator", "Generator"),
    ("AsyncExitStack", "ExitStack"),
    ("AbstractAsyncContextManager", "AbstractContextManager"),
    ("enter_async_context", "enter_context"),
    ("aclosing", "closing"),
    # anyio: sleeping
    ("from anyio import sleep as default_sleep", "from time import sleep as default_sleep"),
    # httpx
    ("Awaitable[httpx.Response]", "httpx.Response"),
    ("httpx.AsyncClient", "httpx.Client"),
    ("httpx.AsyncBaseTransport", "httpx.BaseTransport"),
    ("aiter_bytes", "iter_bytes"),
    ("aiter_raw", "iter_raw"),
    ("aread", "read"),
    ("aclose", "close"),
    # this package
    ("gather_async", "gather_sync"),
    ("AsyncSleep", "Sleep"),
    ("asleep", "sleep"),
    ("AsyncBulk", "Bulk"),
    ("AsyncBulk1Client", "Bulk1Client"),
    ("AsyncBulk2Client", "Bulk2Client"),
    ("AsyncOps", "Ops"),
    ("AsyncRecordStream", "RecordStream"),
    ("AsyncSeedFacade", "SeedFacade"),
    ("AsyncDriver", "Driver"),
    ("AsyncTaskSet", "TaskSet"),
    ("AsyncSessionManager", "SessionManager"),
    ("AsyncSendLogin", "SendLogin"),
    ("AsyncSessionStore", "SessionStore"),
    ("AsyncLoginFailureStore", "LoginFailureStore"),
    ("AsyncGrantStore", "GrantStore"),
    ("AsyncMemoryStore", "MemoryStore"),
    ("AsyncRedisStore", "RedisStore"),
    ("AsyncMongoStore", "MongoStore"),
    ("AsyncMongoCollection", "MongoCollection"),
    ("AsyncPollingLock", "PollingLock"),
    ("AsyncLeases", "Leases"),
    # the stores' seams (sfbulk_sdk/stores/_common.py): what a thread does without
    ("cancel_shield", "no_shield"),
    # the session manager's seam (sfbulk_sdk/_shield.py): a refresh once sent is finished
    ("finish_shielded", "finish_unshielded"),
    ("async_mutex", "thread_mutex"),
    # the stores' clients
    ("redis.asyncio.Redis", "redis.Redis"),
    ("AsyncMongoClient", "MongoClient"),
    ("AsyncCollection", "Collection"),
    ("_async", "_sync"),
)

_HEADER = "# GENERATED from {source} by scripts/unasync.py: do not edit.\n"
_DROP = re.compile(r"^.*#\s*unasync:\s*drop\s*$\n?", re.MULTILINE)


def _pattern(spelling: str) -> re.Pattern[str]:
    head = r"\b" if re.match(r"\w", spelling) else ""
    tail = r"\b" if re.search(r"\w$", spelling) else ""
    return re.compile(head + re.escape(spelling) + tail)


@dataclass
class Rules:
    """The compiled rename table, counting how often each rule was used."""

    table: Sequence[tuple[str, str]]
    used: dict[str, int] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self._compiled = [(a, _pattern(a), b) for a, b in self.table]
        self.used = {a: 0 for a, _ in self.table}

    def apply(self, text: str) -> str:
        for name, pattern, replacement in self._compiled:
            text, count = pattern.subn(replacement, text)
            self.used[name] += count
        return text

    def unused(self) -> list[str]:
        return [name for name, count in self.used.items() if count == 0]


def twins(root: Path, source_dirs: Iterable[str] = SOURCE_DIRS) -> list[tuple[Path, Path]]:
    """Every (async source, sync twin) pair under ``root``."""
    pairs = []
    for folder in source_dirs:
        base = root / folder
        if not base.is_dir():
            continue
        target = base.with_name("_sync")
        for source in sorted(base.rglob("*.py")):
            pairs.append((source, target / source.relative_to(base)))
    return pairs


def _ruff(root: Path, args: list[str], text: str, filename: Path) -> str:
    done = subprocess.run(
        [sys.executable, "-m", "ruff", *args, "--stdin-filename", str(filename), "-"],
        input=text,
        capture_output=True,
        text=True,
        cwd=root,
        check=False,
    )
    if done.returncode not in (0, 1) or (done.returncode == 1 and not done.stdout):
        raise SystemExit(f"ruff failed on the twin of {filename}:\n{done.stderr}")
    return done.stdout


def render(root: Path, source: Path, target: Path, rules: Rules) -> str:
    """The text of ``target``, generated from ``source``."""
    text = _DROP.sub("", source.read_text(encoding="utf-8"))
    text = rules.apply(text)
    relative = target.relative_to(root)
    text = _ruff(root, ["check", "--fix", "--quiet", "--select", "I,F401,RUF022"], text, relative)
    text = _ruff(root, ["format", "--quiet"], text, relative)
    header = _HEADER.format(source=source.relative_to(root).as_posix())
    return header + text


def run(root: Path, *, check: bool, table: Sequence[tuple[str, str]] = RULES) -> list[str]:
    """Generate (or with ``check``, compare) every twin; return the problems found."""
    rules = Rules(table)
    problems: list[str] = []
    expected: set[Path] = set()
    for source, target in twins(root):
        expected.add(target)
        text = render(root, source, target, rules)
        current = target.read_text(encoding="utf-8") if target.exists() else None
        if current == text:
            continue
        if check:
            rel = target.relative_to(root).as_posix()
            diff = difflib.unified_diff(
                (current or "").splitlines(keepends=True),
                text.splitlines(keepends=True),
                f"{rel} (on disk)",
                f"{rel} (generated)",
                n=1,
            )
            problems.append(f"{rel} is out of date:\n{''.join(list(diff)[:40])}")
        else:
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(text, encoding="utf-8")
    for folder in SOURCE_DIRS:
        generated = (root / folder).with_name("_sync")
        if generated.is_dir():
            for stale in sorted(generated.rglob("*.py")):
                if stale not in expected:
                    rel = stale.relative_to(root).as_posix()
                    if check:
                        problems.append(f"{rel} has no async source")
                    else:
                        stale.unlink()
    problems += [f"rename rule {name!r} is never used" for name in rules.unused()]
    return problems


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--check", action="store_true", help="compare only; exit 1 on drift")
    parser.add_argument(
        "--root", type=Path, default=Path(__file__).resolve().parent.parent, help="repo root"
    )
    args = parser.parse_args(argv)
    problems = run(args.root.resolve(), check=args.check)
    for problem in problems:
        print(problem, file=sys.stderr)
    if problems and args.check:
        print("run `make unasync` to regenerate the sync twins", file=sys.stderr)
    return 1 if problems else 0


if __name__ == "__main__":
    raise SystemExit(main())
