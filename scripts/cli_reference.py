"""Write (or, with ``--check``, compare) ``docs/cli.md`` from the ``sfbulk`` typer app."""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PAGE = ROOT / "docs" / "cli.md"


def main(argv: list[str]) -> int:
    """``cli_reference.py [--check]``: 0 when written or in step, 1 when out of step."""
    from sfbulk_sdk.cli import commands  # noqa: F401 - registers every command
    from sfbulk_sdk.cli.reference import render_reference

    text = render_reference()
    if "--check" in argv:
        current = PAGE.read_text(encoding="utf-8") if PAGE.is_file() else ""
        if current != text:
            print(f"{PAGE.relative_to(ROOT)} is out of step: run python scripts/cli_reference.py")
            return 1
        return 0
    PAGE.write_text(text, encoding="utf-8")
    print(f"wrote {PAGE.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
