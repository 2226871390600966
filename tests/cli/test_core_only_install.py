"""``sfbulk --help`` without the ``cli`` extra: one line naming the extra, exit status 2."""

from __future__ import annotations

import importlib
import subprocess
import sys
from pathlib import Path

import pytest

from sfbulk_sdk.cli import MISSING_EXTRA

ROOT = next(p for p in Path(__file__).resolve().parents if (p / "pyproject.toml").is_file())

_BLOCK = """
import sys
class Block:
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in ("typer", "rich"):
            raise ModuleNotFoundError(name)
        return None
sys.meta_path.insert(0, Block())
import importlib.util
real = importlib.util.find_spec
importlib.util.find_spec = lambda n, p=None: None if n in ("typer", "rich") else real(n, p)
from sfbulk_sdk.cli import main
sys.argv = ["sfbulk", "--help"]
main()
"""


def test_missing_extra_is_one_line_when_typer_cannot_be_imported() -> None:
    done = subprocess.run([sys.executable, "-c", _BLOCK], capture_output=True, text=True)
    assert done.returncode == 2
    assert done.stderr == MISSING_EXTRA + "\n" and done.stdout == ""


@pytest.mark.slow
def test_core_only_install_in_a_fresh_venv(tmp_path: Path) -> None:
    """A real venv: the project with --no-deps, then only its core dependencies."""
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    python = venv / "bin" / "python"
    toml = importlib.import_module("tomllib" if sys.version_info >= (3, 11) else "tomli")
    core = toml.loads((ROOT / "pyproject.toml").read_text())["project"]["dependencies"]
    pip = [sys.executable, "-m", "pip", "--python", str(python), "install", "-q"]
    for args in ([*pip, "--no-deps", str(ROOT)], [*pip, *core]):
        done = subprocess.run(args, capture_output=True, text=True, timeout=600)
        assert done.returncode == 0, done.stderr[-2000:]
    check = subprocess.run(
        [str(python), "-c", "import sfbulk_sdk, importlib.util as u;"
         "print(sfbulk_sdk.__version__, u.find_spec('typer'), u.find_spec('rich'))"],
        capture_output=True, text=True,
    )  # fmt: skip
    assert check.stdout.split() == [sfbulk_sdk_version(), "None", "None"], check.stderr
    done = subprocess.run([str(venv / "bin" / "sfbulk"), "--help"], capture_output=True, text=True)
    assert done.returncode == 2
    assert done.stderr == MISSING_EXTRA + "\n" and "Traceback" not in done.stderr
    assert "pip install 'sfbulk-sdk[cli]'" in done.stderr


def sfbulk_sdk_version() -> str:
    import sfbulk_sdk

    return sfbulk_sdk.__version__
