"""The README's demo command runs the seed flow against the fake org and checks itself."""

from __future__ import annotations

from sfbulk_sdk.demo import run_demo


def test_demo_runs_and_reports_consistent_numbers() -> None:
    lines: list[str] = []
    assert run_demo(records=2_500, batch_size=1_000, echo=lines.append) == 0
    text = "\n".join(lines)
    assert "3 batches of at most 1,000 records" in text
    assert "REQUIRED_FIELD_MISSING" in text
    assert "2,499 records" in text
    assert "1 login" in text


def test_demo_command_line() -> None:
    from typer.testing import CliRunner

    from sfbulk_sdk.cli import app

    result = CliRunner().invoke(app, ["demo", "--records", "1500", "--batch-size", "500"])
    assert result.exit_code == 0, result.output
    assert "3 batches of at most 500 records" in result.output
    bad = CliRunner().invoke(app, ["demo", "--batch-size", "20000"])
    assert bad.exit_code != 0
