"""Without the ``spark`` extra, importing the data source fails with one line naming it."""

from __future__ import annotations

import subprocess
import sys

BLOCK_PYSPARK = """
import sys
sys.modules["pyspark"] = None  # as if the extra were not installed
try:
    import sfbulk_sdk.spark
except ImportError as exc:
    print(exc)
else:
    print("imported")
"""


def test_missing_pyspark_names_the_spark_extra() -> None:
    done = subprocess.run(
        [sys.executable, "-c", BLOCK_PYSPARK], capture_output=True, text=True, timeout=60
    )
    message = done.stdout.strip()
    assert message == (
        "sfbulk_sdk.spark needs the 'pyspark' package: pip install 'sfbulk-sdk[spark]'"
    )
    assert "\n" not in message


def test_the_plans_need_no_spark() -> None:
    code = 'import sys; sys.modules["pyspark"] = None; import sfbulk_sdk.plans; print("ok")'
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert done.stdout.strip() == "ok", done.stderr
