"""The files of the data commands: the CSV to load, the report files and query outputs.

* The input is a regular file, or anything else that can be read once (``-`` for
  standard input, a named pipe, ``/dev/stdin``, a process substitution), which is
  spooled to a private temp file first: a load reads its input more than once.
* The input is checked whole before anything is sent, by the SDK's own CSV
  reader (:func:`~sfbulk_sdk.core.csvsplit.scan_csv`), so its errors (not UTF-8,
  malformed CSV, a field over 131,072 characters) name the file and the record.
* The rows of the report files are read the way the SDK reads records (blank
  lines are not records), so that row *n* is paired with outcome *n*.
* A file written (``-o``, ``--success-file``, ``--error-file``) goes to a temp
  file next to it, moved into place only once it is whole: a failure leaves an
  existing file as it was, and nothing behind.
"""

from __future__ import annotations

import csv
import os
import re
import shutil
import stat
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO, TextIO

from ..core.csvbatch import Limits
from ..core.csvsplit import scan_csv
from ..errors import InvalidInputError
from .exits import CliError

__all__ = [
    "Input",
    "check_target",
    "input_file",
    "input_rows",
    "output",
    "scan_input",
    "select_fields",
    "stdout",
    "write_text",
]

#: What the scan refuses by itself: nothing but malformed CSV (the loads check sizes).
_SCAN_LIMITS = Limits(max_records=1 << 62, max_bytes=1 << 62, max_chars=1 << 62)
_CHUNK = 1 << 20


@dataclass(frozen=True)
class Input:
    """The CSV to load: a regular file to read (maybe a spooled copy) and its name to show."""

    path: Path
    shown: str


@contextmanager
def input_file(name: str) -> Iterator[Input]:
    """The named regular file; else standard input or a pipe, spooled to a private temp file."""
    if name == "-":
        if sys.stdin is None:
            raise CliError("FILE.csv is -, but standard input is closed", hint="pipe the CSV in")
        if sys.stdin.isatty():
            raise CliError(
                "FILE.csv is -, but standard input is a terminal", hint="pipe the CSV in"
            )
        with _spooled(sys.stdin.buffer) as path:
            yield Input(path, "stdin")
        return
    given = Path(name)
    try:
        mode = given.stat().st_mode
    except FileNotFoundError:
        raise CliError(f"no such file: {name}", hint="give a CSV file, or - for stdin") from None
    except OSError as exc:
        raise CliError(f"cannot read {name}: {exc.strerror or exc}") from None
    if stat.S_ISREG(mode):
        yield Input(given, name)
        return
    if stat.S_ISDIR(mode):
        raise CliError(f"{name} is a directory, not a CSV file", hint="give a CSV file")
    # a named pipe, /dev/stdin, <(...): read once, into a copy the load can read again
    with tempfile.TemporaryDirectory(prefix="sfbulk-") as tmp:
        path = Path(tmp) / "input.csv"
        try:
            with given.open("rb") as handle:
                if handle.isatty():
                    raise CliError(f"{name} is a terminal, not a CSV file", hint="pipe it in")
                _copy(handle, path)
        except OSError as exc:
            raise CliError(f"cannot read {name}: {exc.strerror or exc}") from None
        yield Input(path, name)


@contextmanager
def _spooled(source: BinaryIO) -> Iterator[Path]:
    with tempfile.TemporaryDirectory(prefix="sfbulk-") as tmp:
        path = Path(tmp) / "input.csv"
        _copy(source, path)
        yield path


def _copy(source: BinaryIO, path: Path) -> None:
    with path.open("wb") as handle:
        shutil.copyfileobj(source, handle)


def _chunks(path: Path) -> Iterator[bytes]:
    with path.open("rb") as handle:
        while chunk := handle.read(_CHUNK):
            yield chunk


def scan_input(source: Input) -> int:
    """The number of records of the input, checked whole by the SDK's CSV reader."""
    try:
        summary = scan_csv(_chunks(source.path), one_ending=True, limits=_SCAN_LIMITS)
    except InvalidInputError as exc:
        text = str(exc)
        hint = "save the file as UTF-8" if "not valid utf-8" in text else "fix the CSV"
        if "field larger than field limit" in text:
            hint = "Salesforce takes at most 131,072 characters in one field"
        raise CliError(f"{source.shown}: {text}", hint=hint) from None
    if not summary.fields:
        raise CliError(f"{source.shown} is empty: no CSV header line", hint="give a CSV file")
    if not summary.records:
        raise CliError(f"{source.shown} has a CSV header but no records: nothing to load")
    return summary.records


def input_rows(path: Path) -> tuple[list[str], Iterator[list[str]]]:
    """The header and the records of an input the SDK loaded, read as the SDK reads them:
    leading and in-between blank lines are not records."""
    handle = path.open(newline="", encoding="utf-8-sig")
    reader = csv.reader(handle, strict=True)
    header: list[str] | None = next(reader, None)
    while header is not None and not header:
        header = next(reader, None)

    def rows() -> Iterator[list[str]]:
        with handle:
            for row in reader:
                if row:
                    yield row

    return header or [], rows()


def check_target(option: str, name: str, *, not_same_as: Path | None = None) -> None:
    """Refuse, before anything is sent, a file that cannot be written: a directory, a
    missing or read-only directory, the input itself."""
    target = Path(name)
    if target.is_dir():
        raise CliError(f"{option} {name} is a directory", hint="give a file name")
    parent = target.parent
    if not parent.is_dir():
        raise CliError(f"{option} {name}: no directory {parent}", hint="create it first")
    if not os.access(parent, os.W_OK | os.X_OK) or (
        target.exists() and not os.access(target, os.W_OK)
    ):
        raise CliError(f"{option} {name} cannot be written: permission denied")
    if not_same_as is not None and target.exists() and target.samefile(not_same_as):
        raise CliError(f"{option} {name} is the input file", hint="give another file name")


def stdout() -> TextIO:
    """Standard output, refused in one line when it is closed (``>&-``)."""
    if sys.stdout is None or sys.stdout.closed:
        raise CliError("standard output is closed", hint="give -o FILE, or leave stdout open")
    return sys.stdout


@contextmanager
def output(name: str) -> Iterator[TextIO]:
    """Standard output (``-``), or a file written whole or not at all (see the module)."""
    if name == "-":
        handle = stdout()
        yield handle
        handle.flush()
        return
    check_target("--output", name)
    final = os.path.realpath(name)  # a symlink's target is written, not the link replaced
    try:
        fd, temp = tempfile.mkstemp(
            dir=os.path.dirname(final), prefix=f".{os.path.basename(final)}.", suffix=".tmp"
        )
    except OSError as exc:  # a directory that takes no new file (/proc, a full disk)
        raise CliError(f"--output {name} cannot be written: {exc.strerror or exc}") from None
    try:
        with open(fd, "w", newline="", encoding="utf-8") as handle:
            yield handle
        os.chmod(temp, _mode_for(final))
        os.replace(temp, final)
    except BaseException:
        if os.path.exists(temp):
            os.unlink(temp)
        raise


def write_text(name: str, text: str) -> None:
    """Write ``text`` to the file ``name`` whole, or leave it as it was."""
    with output(name) as handle:
        handle.write(text)


def _mode_for(path: str) -> int:
    """The mode of the file being replaced, else what a new file gets (0o666 less the umask)."""
    try:
        return stat.S_IMODE(os.stat(path).st_mode)
    except OSError:
        mask = os.umask(0)
        os.umask(mask)
        return 0o666 & ~mask


_SELECT = re.compile(r"\s*select\s+(.+?)\s+from\s", re.IGNORECASE | re.DOTALL)
_FIELD = re.compile(r"[A-Za-z_]\w*(\.[A-Za-z_]\w*)*")


def select_fields(soql: str) -> list[str] | None:
    """The columns of a query's result, from its select list of plain (dotted) field names;
    ``None`` when they cannot be known from the text (a subquery, a function, TYPEOF)."""
    found = _SELECT.match(soql)
    if found is None:
        return None
    names = [item.strip() for item in found.group(1).split(",")]
    if not all(_FIELD.fullmatch(name) for name in names):
        return None
    return names
