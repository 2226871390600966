"""The README's example of a load and a query runs as written against the fake org."""

from __future__ import annotations

import os
import re
import shutil
from pathlib import Path

import pytest

from sfbulk_sdk.testing import FakeOrg
from tests.docs.test_doc_examples import fake_world

__all__ = ["fake_world"]  # the fixture the example needs (the servers are in tests/conftest.py)

README = Path(__file__).resolve().parents[2] / "README.md"


def test_the_readme_example_loads_and_queries(
    fake_world: FakeOrg,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    (code,) = re.findall(r"```python\n(.*?)```", README.read_text(encoding="utf-8"), re.S)
    key = Path(os.environ["SF_KEY_FILE"])  # the org's app key, as key_file="server.key"
    if key.name != "server.key":
        shutil.copy(key, tmp_path / "server.key")
        key = tmp_path / "server.key"
    monkeypatch.chdir(key.parent)
    exec(compile(code, "README.md", "exec"), {"__name__": "readme"})
    printed = capsys.readouterr().out.splitlines()
    (contact,) = fake_world.records("Contact")
    assert printed == ["1 inserted; []", f"{contact['Id']} Lovelace"]
    assert contact["FirstName"] == "Ada"
