"""The settings of a load (``insert``, ``update``, ...): their names, types and checks.

Pure: every check runs before anything is sent, and refuses with
:class:`~sfbulk_sdk.errors.InvalidInputError`.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal, TypedDict

from ..errors import InvalidInputError
from ..models.enums import Operation
from .policy import PollPolicy
from .progress import ProgressHook, log_progress

__all__ = [
    "Api",
    "LoadSettings",
    "checked_settings",
    "choose_api",
    "count",
    "flag",
    "positive",
    "sobject_name",
]

Api = Literal["auto", "bulk1", "bulk2"]


class LoadSettings(TypedDict, total=False):
    """Keyword arguments of every load (``insert``, ``update``, ``upsert``, ...)."""

    #: ``auto`` (Bulk 1.0 for insert, and for sized input whose keys repeat; Bulk 2.0
    #: otherwise), ``bulk1`` or ``bulk2``.
    api: Api
    #: The fields to send, in order (default: the first record's keys, a frame's,
    #: table's or model's columns, or the CSV header; a CSV file's must be its header).
    fields: Sequence[str]
    #: Records per Bulk 1.0 batch (at most 10,000, the default).
    batch_size: int
    #: Bytes per Bulk 2.0 job (at most 100,000,000, the default).
    job_size: int
    #: Batches or jobs in flight at once (default 4).
    concurrency: int
    #: A Serial Bulk 1.0 job: one batch at a time (fewer lock conflicts).
    serial: bool
    #: Compress uploads with gzip (default on).
    gzip: bool
    #: How many times rows that failed on a lock are sent again (default 2).
    lock_retries: int
    #: Send lock failures again in a Serial job (Bulk 1.0; default on).
    serial_retries: bool
    #: Backoff and overall deadline of the waits.
    poll: PollPolicy
    #: Called with every :class:`~sfbulk_sdk.core.progress.ProgressEvent` (default: log).
    progress: ProgressHook | None


#: The size settings and their largest values (records per batch; bytes per job).
_SIZES = {"batch_size": 10_000, "job_size": 100_000_000}


def choose_api(api: Api, operation: Operation, settings: LoadSettings) -> str:
    """The API a load goes through: the one asked for, or on ``auto`` the one the
    operation is best served by, unless a setting only the other API has decides it
    (``serial`` / ``batch_size``: Bulk 1.0; ``job_size``: Bulk 2.0). A setting the
    chosen API does not have is refused rather than ignored; both sizes together are a
    load written for either API (each API takes its own)."""
    if api not in ("auto", "bulk1", "bulk2"):
        raise InvalidInputError(f"api must be 'auto', 'bulk1' or 'bulk2', not {api!r}")
    # Checked before choosing: an ill-typed setting (0, False, "") says so, whatever the API.
    sized = set()
    for name, most in _SIZES.items():
        if settings.get(name) is not None:
            positive(settings.get(name), name, most)
            sized.add(name)
    asked = {"serial"} if flag(settings, "serial", False) else set()
    either = len(sized) == 2
    bulk1_only = [n for n in ("serial", "batch_size") if n in asked or (n in sized and not either)]
    bulk2_only = [n for n in ("job_size",) if n in sized and not either]
    if bulk1_only and bulk2_only:
        raise InvalidInputError(
            f"{bulk1_only[0]} is a Bulk 1.0 setting and job_size a Bulk 2.0 one: give one"
        )
    if api == "auto":
        if bulk1_only or bulk2_only:
            return "bulk1" if bulk1_only else "bulk2"
        return "bulk1" if operation is Operation.INSERT else "bulk2"
    unknown = bulk1_only if api == "bulk2" else bulk2_only
    if unknown:
        other = "bulk1" if api == "bulk2" else "bulk2"
        raise InvalidInputError(
            f"{unknown[0]} is not a setting of {api} (it has no "
            f"{'serial mode or batches' if api == 'bulk2' else 'jobs of a chosen size'}):"
            f" use api='{other}' or leave {unknown[0]} out"
        )
    return api


def positive(value: object, name: str, most: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= most:
        raise InvalidInputError(f"{name} must be a whole number from 1 to {most:,}, not {value!r}")
    return value


def count(value: object, name: str, most: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= most:
        raise InvalidInputError(f"{name} must be a whole number from 0 to {most}, not {value!r}")
    return value


def flag(settings: LoadSettings, name: str, default: bool) -> bool:
    value = settings.get(name, default)
    if not isinstance(value, bool):
        raise InvalidInputError(f"{name} must be True or False, not {value!r}")
    return value


def checked_settings(settings: LoadSettings) -> tuple[PollPolicy | None, ProgressHook | None]:
    """Refuse unknown or ill-typed load settings before anything is sent."""
    unknown = sorted(set(settings) - set(LoadSettings.__annotations__))
    if unknown:
        known = ", ".join(sorted(LoadSettings.__annotations__))
        raise InvalidInputError(f"unknown load settings {unknown} (known: {known})")
    poll = settings.get("poll")
    if poll is not None and not isinstance(poll, PollPolicy):
        raise InvalidInputError(f"poll must be a PollPolicy, not a {type(poll).__name__}")
    hook = settings.get("progress", log_progress)
    if hook is not None and not callable(hook):
        raise InvalidInputError(
            f"progress must be a callable taking a ProgressEvent, or None, not {hook!r}"
        )
    return poll, hook


def sobject_name(sobject: object) -> str:
    if not isinstance(sobject, str) or not sobject.strip():
        raise InvalidInputError(f"the object must be a non-empty name, not {sobject!r}")
    return sobject
