"""Every Python example of ``docs/spark.md`` runs, unchanged, on the test Spark.

The examples read the org, the user and the store from environment variables
(as real code should); the test points them at the fake org process and the
test Redis, and hands the examples the ``spark`` session they assume.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from pyspark.sql import SparkSession
from spark_world import Org

DOCS = Path(__file__).resolve().parents[2] / "docs" / "spark.md"
_BLOCK = re.compile(r"```python\n(.*?)```", re.DOTALL)
EXAMPLES = _BLOCK.findall(DOCS.read_text(encoding="utf-8"))

pytestmark = pytest.mark.filterwarnings("ignore::sfbulk_sdk.deprecations.LoginDeprecationWarning")


def test_the_page_has_examples() -> None:
    assert len(EXAMPLES) >= 3


@pytest.mark.parametrize("number", range(len(EXAMPLES)))
def test_example_runs(
    number: int,
    spark: SparkSession,
    fake_org: Org,
    options: dict[str, str],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("SF_LOGIN_URL", options["loginUrl"])
    monkeypatch.setenv("SF_USERNAME", options["username"])
    monkeypatch.setenv("SFBULK_STORE", options["store"])
    monkeypatch.setenv("SFBULK_FAILED_ROWS", str(tmp_path / "failed"))
    before = fake_org.logins()

    exec(compile(EXAMPLES[number], f"spark.md example {number + 1}", "exec"), {"spark": spark})

    printed = capsys.readouterr().out
    # Each example's store is the test Redis; a run costs at most one login.
    assert fake_org.logins() - before <= 1
    if "accounts with fewer than 10 employees" in EXAMPLES[number]:
        assert "400 accounts with fewer than 10 employees" in printed
    if "partitions of query job" in EXAMPLES[number]:
        assert "4 partitions of query job" in printed
        assert "20000 contacts" in printed
    if '.option("object", "Lead")' in EXAMPLES[number]:
        titles = {r["Title"] for r in fake_org.records("Lead")}
        assert {"Doc-1", "Doc-2"} <= titles
