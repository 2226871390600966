"""``FileStore`` removes the temporary files a crashed writer left (found in review)."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

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
