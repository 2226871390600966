"""Importing the package is cheap: its names are imported on first use.

Each check runs in a fresh interpreter (``sys.modules`` of this one already
holds everything), and looks at what the import left in ``sys.modules``.
"""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

import sfbulk_sdk


def _after(code: str) -> set[str]:
    probe = f"import json, sys\n{code}\nprint(json.dumps({{'modules': sorted(sys.modules)}}))\n"
    out = subprocess.run(
        [sys.executable, "-c", probe], check=True, capture_output=True, text=True, timeout=120
    ).stdout
    found: list[str] = json.loads(out.strip().splitlines()[-1])["modules"]
    return set(found)


def test_the_package_imports_only_its_errors_at_first() -> None:
    modules = _after("import sfbulk_sdk")
    assert "sfbulk_sdk.errors" in modules
    for heavy in ("sfbulk_sdk.aio", "sfbulk_sdk.client", "sfbulk_sdk.models", "pydantic"):
        assert heavy not in modules, heavy


def test_the_sync_client_does_not_import_the_async_one() -> None:
    modules = _after("from sfbulk_sdk import Bulk")
    assert "sfbulk_sdk._sync.ops" in modules
    assert "sfbulk_sdk.aio" not in modules and "sfbulk_sdk._async.ops" not in modules
    assert "asyncio" not in modules  # threads run its background work, not an event loop


def test_a_query_client_does_not_import_the_load_side_until_a_load() -> None:
    load_side = {"sfbulk_sdk.inputs", "sfbulk_sdk.core.loads", "sfbulk_sdk.core.outcomes"}
    code = "from sfbulk_sdk import Bulk\nimport sfbulk_sdk.records"
    assert not load_side & _after(code)
    # The first load imports it (a CSV file path is refused before anything is sent).
    code += (
        "\nfrom sfbulk_sdk.auth import StaticSession\n"
        "bulk = Bulk(auth=StaticSession('https://x.my.salesforce.com', 'fake-id'))\n"
        "try:\n    bulk.insert('Account', [])\nexcept Exception as exc:\n"
        "    assert type(exc).__name__ == 'InvalidInputError', exc\n"
    )
    assert load_side <= _after(code)


@pytest.mark.parametrize("name", ["Bulk", "AsyncBulk", "LoadResult", "JobInfo", "PollPolicy"])
def test_every_lazy_name_is_the_object_of_its_module(name: str) -> None:
    import importlib

    where = {"Bulk": "client", "AsyncBulk": "aio", "LoadResult": "core.outcomes"}
    module = importlib.import_module(f"sfbulk_sdk.{where.get(name, 'models')}")
    if name == "PollPolicy":
        module = importlib.import_module("sfbulk_sdk.core.policy")
    assert getattr(sfbulk_sdk, name) is getattr(module, name)


def test_an_unknown_name_is_an_attribute_error() -> None:
    with pytest.raises(AttributeError, match="NoSuchThing"):
        sfbulk_sdk.NoSuchThing  # noqa: B018
