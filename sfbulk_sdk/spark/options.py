"""The data source's options, read into the SDK's plans (no secret ever among them).

Spark hands options over as strings, case-insensitively (it lower-cases their
names). Every option is checked by :func:`check_options` when the source is
created (``load()``, ``save()``), before any request: an option the source does
not know is refused, naming the closest known one; one that looks like a secret
(a password, token, key...) is refused without its value, since options show in
Spark's plans and logs and secrets come from environment variables (the
``*Env`` options name them). Enum-like values (``api``, ``auth``,
``operation``) are case-insensitive.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TypeVar

from ..errors import InvalidInputError
from ..plans.connection import AuthKind, AuthSpec, ConnectionSpec, StoreSpec
from ..plans.read import ReadApi
from ..plans.write import WriteOperation, WritePlan

__all__ = [
    "ReadSettings",
    "check_options",
    "connection_from_options",
    "read_settings",
    "write_plan_from_options",
]

_READ_OPTIONS = ("soql", "plan", "api", "pageRecords", "pkChunkSize", "queryAll")
_WRITE_OPTIONS = ("object", "operation", "externalIdField", "rowsPerJob", "failedRowsPath")
_CONNECTION_OPTIONS = (
    "auth",
    "loginUrl",
    "username",
    "clientId",
    "apiVersion",
    "timeout",
    "passwordEnv",
    "tokenEnv",
    "secretEnv",
    "store",
    "storeKeyPrefix",
    "storePasswordEnv",
)
#: Every option, by the lower-case name Spark hands over.
_KNOWN = {name.lower(): name for name in (*_READ_OPTIONS, *_WRITE_OPTIONS, *_CONNECTION_OPTIONS)}
_SECRET_WORDS = re.compile(
    r"pass|pwd|secret|token|key|session|credential|cookie|bearer|signature|cert", re.I
)

_APIS: dict[str, ReadApi] = {"bulk2": "bulk2", "bulk1": "bulk1"}
_AUTHS: dict[str, AuthKind] = {"soap": "soap", "client_credentials": "client_credentials"}
_WRITE_OPERATIONS: dict[str, WriteOperation] = {
    "insert": "insert",
    "update": "update",
    "upsert": "upsert",
    "delete": "delete",
    "harddelete": "hardDelete",
}

_T = TypeVar("_T")


def _squashed(name: str) -> str:
    return re.sub(r"[^a-z0-9]", "", name.lower())


def _unknown(name: str) -> InvalidInputError:
    """The error for an unknown option: the closest known one and, when it looks like a
    secret (and is no near miss of a plain option), where secrets go. Never its value."""
    squashed = {_squashed(known): known for known in _KNOWN.values()}
    close = difflib.get_close_matches(_squashed(name), list(squashed), n=1, cutoff=0.6)
    best = squashed[close[0]] if close else None
    near = best is not None and (
        difflib.SequenceMatcher(None, _squashed(name), close[0]).ratio() >= 0.85
    )
    if _SECRET_WORDS.search(name) and not (near and best and not best.endswith("Env")):
        hint = f"; did you mean {best!r}?" if near else ""
        return InvalidInputError(
            f"option {name!r} looks like a secret, and secrets are never options (Spark shows "
            "options in its plans, UI and logs): set it in an environment variable on the "
            "driver and every executor (SFBULK_PASSWORD, SFBULK_SECURITY_TOKEN, "
            "SFBULK_CLIENT_SECRET, SFBULK_STORE_PASSWORD; passwordEnv, tokenEnv, secretEnv "
            f"and storePasswordEnv rename them){hint}"
        )
    hint = f"; did you mean {best!r}?" if best else ""
    return InvalidInputError(f"the sfbulk data source has no option {name!r}{hint}")


def _lower(options: Mapping[str, str]) -> dict[str, str]:
    """The options by lower-case name; any option the source does not know refused."""
    lowered = {str(k).lower(): str(v) for k, v in options.items()}
    for name in sorted(lowered):
        if name not in _KNOWN:
            raise _unknown(name)
    return lowered


def _given(options: Mapping[str, str], name: str) -> bool:
    return bool(options.get(name.lower(), "").strip())


def _need(options: Mapping[str, str], name: str) -> str:
    value = options.get(name.lower(), "").strip()
    if not value:
        raise InvalidInputError(f"the sfbulk data source needs the option {name!r}")
    return value


def _whole(options: Mapping[str, str], name: str, default: int, most: int) -> int:
    raw = options.get(name.lower(), "").strip()
    if not raw:
        return default
    try:
        value = int(raw)
    except ValueError:
        value = 0
    if not 1 <= value <= most:
        raise InvalidInputError(
            f"option {name!r} must be a whole number from 1 to {most:,}, not {raw!r}"
        )
    return value


def _flag(options: Mapping[str, str], name: str) -> bool:
    raw = options.get(name.lower(), "").strip().lower() or "false"
    if raw not in ("true", "false"):
        raise InvalidInputError(f"option {name!r} must be true or false, not {raw!r}")
    return raw == "true"


def _choice(options: Mapping[str, str], name: str, choices: Mapping[str, _T], default: str) -> _T:
    """An enum-like option, case-insensitively."""
    raw = options.get(name.lower(), "").strip()
    found = choices.get(raw.lower() or default)
    if found is None:
        names = ", ".join(str(v) for v in choices.values())
        raise InvalidInputError(f"option {name!r} must be one of {names}, not {raw!r}")
    return found


def _refuse(options: Mapping[str, str], names: tuple[str, ...], why: str) -> None:
    for name in names:
        if _given(options, name):
            raise InvalidInputError(f"option {name!r} {why}")


@dataclass(frozen=True)
class ReadSettings:
    """What a read asks for: the SOQL (or a prepared plan) and how to cut it."""

    soql: str | None
    plan: str | None
    api: ReadApi
    page_records: int
    pk_chunk_size: int
    query_all: bool


def _read_values(opts: Mapping[str, str]) -> ReadSettings:
    """The read options' values checked (``soql``/``plan`` not required here)."""
    api = _choice(opts, "api", _APIS, "bulk2")
    page_records = _whole(opts, "pageRecords", 50_000, 1_000_000)
    pk_chunk_size = _whole(opts, "pkChunkSize", 100_000, 250_000)
    query_all = _flag(opts, "queryAll")
    if _given(opts, "plan"):
        _refuse(
            opts,
            ("api", "pageRecords", "pkChunkSize", "queryAll"),
            "has no effect with 'plan': the plan fixed the query and its partitions",
        )
    elif api == "bulk2":
        _refuse(opts, ("pkChunkSize",), "is for api=bulk1 (a Bulk 2.0 read is cut by pageRecords)")
    else:
        _refuse(opts, ("pageRecords",), "is for api=bulk2 (a Bulk 1.0 read is cut by pkChunkSize)")
    return ReadSettings(
        soql=opts.get("soql") or None,
        plan=opts.get("plan") or None,
        api=api,
        page_records=page_records,
        pk_chunk_size=pk_chunk_size,
        query_all=query_all,
    )


def check_options(options: Mapping[str, str]) -> None:
    """Every option known and every value well-formed, before any request.

    What the source checks when it is created (at ``load()`` or ``save()``); the
    read- or write-only rules (``soql`` or ``plan``, ``object``) come with the
    read or the write.
    """
    opts = _lower(options)
    _read_values(opts)
    _choice(opts, "operation", _WRITE_OPERATIONS, "insert")
    _whole(opts, "rowsPerJob", 100_000, 150_000_000)
    _choice(opts, "auth", _AUTHS, "soap")
    _whole(opts, "timeout", 120, 86_400)


def connection_from_options(options: Mapping[str, str]) -> ConnectionSpec:
    """``auth`` (``soap`` or ``client_credentials``), ``loginUrl``, ``username`` or
    ``clientId``, ``apiVersion``, ``timeout`` (seconds), ``store`` and the ``*Env``
    variable names."""
    opts = _lower(options)
    kind = _choice(opts, "auth", _AUTHS, "soap")
    version = opts.get("apiversion") or None
    auth = AuthSpec(
        kind,
        _need(opts, "loginUrl"),
        username=opts.get("username"),
        client_id=opts.get("clientid"),
        password_env=opts.get("passwordenv", "SFBULK_PASSWORD"),
        token_env=opts.get("tokenenv", "SFBULK_SECURITY_TOKEN"),
        secret_env=opts.get("secretenv", "SFBULK_CLIENT_SECRET"),
    )
    store = StoreSpec(
        _need(opts, "store"),
        key_prefix=opts.get("storekeyprefix", "sfbulk:session:"),
        password_env=opts.get("storepasswordenv", "SFBULK_STORE_PASSWORD"),
    )
    timeout = float(_whole(opts, "timeout", 120, 86_400))
    return ConnectionSpec(auth, store, api_version=version, timeout=timeout)


def read_settings(options: Mapping[str, str]) -> ReadSettings:
    """``soql`` or ``plan`` (a :class:`~sfbulk_sdk.plans.ReadPlan` as JSON), ``api``
    (``bulk2`` or ``bulk1``), ``pageRecords`` (Bulk 2.0), ``pkChunkSize`` (Bulk 1.0),
    ``queryAll``."""
    opts = _lower(options)
    _refuse(opts, _WRITE_OPTIONS, "is for writes: a read takes 'soql' or 'plan'")
    if _given(opts, "soql") == _given(opts, "plan"):
        raise InvalidInputError("give the sfbulk data source either option 'soql' or 'plan'")
    return _read_values(opts)


def write_plan_from_options(options: Mapping[str, str], columns: tuple[str, ...]) -> WritePlan:
    """``object``, ``operation`` (default ``insert``), ``externalIdField``,
    ``rowsPerJob``, ``failedRowsPath``, plus the connection options."""
    opts = _lower(options)
    _refuse(opts, _READ_OPTIONS, "is for reads: a write takes 'object' and 'operation'")
    return WritePlan(
        connection_from_options(options),
        _need(opts, "object"),
        _choice(opts, "operation", _WRITE_OPERATIONS, "insert"),
        columns,
        external_id_field=opts.get("externalidfield") or None,
        rows_per_job=_whole(opts, "rowsPerJob", 100_000, 150_000_000),
        failed_rows_path=opts.get("failedrowspath") or None,
    )
