"""The docs site, built once per test session with ``mkdocs build --strict``."""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType

import pytest

ROOT = Path(__file__).resolve().parents[2]


def script(name: str) -> ModuleType:
    """A module of ``scripts/`` (the docs tooling), imported by its path."""
    cached = sys.modules.get(name)
    if cached is not None:
        return cached
    spec = importlib.util.spec_from_file_location(name, ROOT / "scripts" / f"{name}.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


@dataclass(frozen=True)
class BuiltSite:
    """The output folder of one strict build, and what the build printed."""

    path: Path
    output: str

    def pages(self) -> list[Path]:
        return sorted(self.path.rglob("*.html"))

    def page(self, relative: str) -> str:
        return (self.path / relative).read_text(encoding="utf-8")


@pytest.fixture(scope="session")
def built_site(tmp_path_factory: pytest.TempPathFactory) -> BuiltSite:
    site = tmp_path_factory.mktemp("docs") / "site"
    env = {k: v for k, v in os.environ.items() if not k.endswith("MKDOCS_2_WARNING")}
    # run as ``mkdocs`` itself: that is when Material prints its end-of-life banner
    mkdocs = Path(sys.executable).with_name("mkdocs")
    done = subprocess.run(
        [str(mkdocs), "build", "--strict", "--site-dir", str(site)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    output = done.stdout + done.stderr
    assert done.returncode == 0, output[-4000:]
    return BuiltSite(site, output)
