"""The public surface: pinned exports and sync/async parity."""

from __future__ import annotations

import inspect

import sfbulk_sdk
from sfbulk_sdk import AsyncBulk, Bulk


def _public(cls: type) -> dict[str, object]:
    """Public members of ``cls`` and its bases (the client is built from mixins)."""
    members: dict[str, object] = {}
    for klass in reversed(cls.__mro__[:-1]):
        members.update({n: m for n, m in vars(klass).items() if not n.startswith("_")})
    return members


def test_exports_are_pinned_and_importable() -> None:
    assert len(set(sfbulk_sdk.__all__)) == len(sfbulk_sdk.__all__)
    for name in sfbulk_sdk.__all__:  # first: the package imports most names on first use
        assert hasattr(sfbulk_sdk, name), name
    exported = {
        name
        for name, value in vars(sfbulk_sdk).items()
        if not name.startswith("_") and not inspect.ismodule(value)
    }
    assert exported == set(sfbulk_sdk.__all__) - {"__version__"}
    assert set(dir(sfbulk_sdk)) >= set(sfbulk_sdk.__all__)
    assert {"Bulk", "AsyncBulk", "JobInfo", "BatchInfo", "BatchResult", "Session"} <= set(
        sfbulk_sdk.__all__
    )


def test_sync_and_async_clients_have_the_same_public_methods() -> None:
    sync_names = set(_public(Bulk)) - {"close"}
    async_names = set(_public(AsyncBulk)) - {"aclose"}
    assert sync_names == async_names
    assert "close" in _public(Bulk) and "aclose" in _public(AsyncBulk)


#: Methods that return a record stream (sync: RecordStream, async: AsyncRecordStream).
STREAMS = {"query", "query_all"}


def test_async_methods_are_coroutines_or_async_generators_with_same_signatures() -> None:
    sync_members = _public(Bulk)
    for name, member in _public(AsyncBulk).items():
        if isinstance(member, property) or name == "aclose":
            continue
        if name in STREAMS:  # a plain call that returns an async record stream
            assert inspect.signature(member).return_annotation.startswith("AsyncRecordStream[")
        else:
            assert inspect.iscoroutinefunction(member) or inspect.isasyncgenfunction(member), name
        twin = sync_members[name]
        assert callable(twin)
        sync_params = list(inspect.signature(twin).parameters)
        async_params = list(inspect.signature(member).parameters)  # type: ignore[arg-type]
        assert sync_params == async_params, name


def test_seed_facade_methods_exist() -> None:
    for name in (
        "login",
        "job_create",
        "batch_create",
        "batch_create_from_csv",
        "job_is_completed",
        "batch_status",
        "batch_result",
        "job_close",
        "bulk_server",
        "sessionid",
    ):
        assert hasattr(Bulk, name), name
