"""``FileStore`` removes the temporary files a crashed writer left (found in review),
and never an old grant file."""

from __future__ import annotations

import os
import time
from datetime import datetime, timezone
from pathlib import Path

import pytest
from session_fakes import make_grant

from sfbulk_sdk.stores.file import FileStore


@pytest.mark.review("hardening")
def test_file_store_removes_temp_files_a_crashed_writer_left(tmp_path: Path) -> None:
    directory = tmp_path / "sessions"
    FileStore(directory)
    stale = directory / ".tmp-crashed.part"
    fresh = directory / ".tmp-live.part"
    for leftover in (stale, fresh):
        leftover.write_text('{"session_id": "00D!leftover"}')
    old = time.time() - 3600
    os.utime(stale, (old, old))
    FileStore(directory)
    assert not stale.exists()
    assert fresh.exists()  # may belong to a writer that is still running


def test_file_store_never_removes_a_grant_file_however_old(tmp_path: Path) -> None:
    # A grant outlives every session: neither opening a store on the directory
    # (the stale-temp sweep) nor reading it may drop an old grant file.
    directory = tmp_path / "sessions"
    store = FileStore(directory)
    grant = make_grant(datetime.now(timezone.utc))
    store.set_grant("sfbulk:session:fp", grant)
    path = store._grant_path("sfbulk:session:fp")
    assert path.suffix == ".grant"
    old = time.time() - 400 * 24 * 3600
    os.utime(path, (old, old))
    reopened = FileStore(directory)
    assert path.exists()
    assert reopened.get_grant("sfbulk:session:fp") == grant
    assert path.exists()
