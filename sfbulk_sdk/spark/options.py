"""The data source's options, read into the SDK's plans (no secret ever among them).

Spark hands options over as strings, case-insensitively; they show in query
plans and logs, so an option that looks like a secret (``password``,
``securityToken``, ``clientSecret``, ``sessionId``, ``token``) is refused.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from ..errors import InvalidInputError
from ..plans.connection import AuthSpec, ConnectionSpec, StoreSpec
from ..plans.read import ReadApi
from ..plans.write import WriteOperation, WritePlan

__all__ = ["ReadSettings", "connection_from_options", "read_settings", "write_plan_from_options"]

_SECRET_OPTIONS = frozenset(
    {
        "password",
        "securitytoken",
        "clientsecret",
        "sessionid",
        "token",
        "accesstoken",
        "refreshtoken",
        "privatekey",
    }
)


def _lower(options: Mapping[str, str]) -> dict[str, str]:
    lowered = {str(k).lower(): str(v) for k, v in options.items()}
    secret = sorted(_SECRET_OPTIONS & set(lowered))
    if secret:
        raise InvalidInputError(
            f"option {secret[0]!r} would put a secret into Spark's plans and logs: set it in "
            "the environment of the driver and executors instead (see passwordEnv, tokenEnv, "
            "secretEnv)"
        )
    return lowered


def _need(options: Mapping[str, str], name: str) -> str:
    value = options.get(name.lower(), "").strip()
    if not value:
        raise InvalidInputError(f"the sfbulk data source needs the option {name!r}")
    return value


def _whole(options: Mapping[str, str], name: str, default: int) -> int:
    raw = options.get(name.lower())
    if raw is None or raw == "":
        return default
    try:
        return int(raw)
    except ValueError:
        raise InvalidInputError(f"option {name!r} must be a whole number, not {raw!r}") from None


def _flag(options: Mapping[str, str], name: str) -> bool:
    raw = options.get(name.lower(), "false").strip().lower()
    if raw not in ("true", "false"):
        raise InvalidInputError(f"option {name!r} must be true or false, not {raw!r}")
    return raw == "true"


def connection_from_options(options: Mapping[str, str]) -> ConnectionSpec:
    """``auth`` (``soap`` or ``client_credentials``), ``loginUrl``, ``username`` or
    ``clientId``, ``apiVersion``, ``store`` and the ``*Env`` variable names."""
    opts = _lower(options)
    kind = opts.get("auth", "soap")
    if kind not in ("soap", "client_credentials"):
        raise InvalidInputError(f"option 'auth' must be soap or client_credentials, not {kind!r}")
    version = opts.get("apiversion") or None
    auth = AuthSpec(
        "soap" if kind == "soap" else "client_credentials",
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
    timeout = float(_whole(opts, "timeout", 120))
    return ConnectionSpec(auth, store, api_version=version, timeout=timeout)


@dataclass(frozen=True)
class ReadSettings:
    """What a read asks for: the SOQL (or a prepared plan) and how to cut it."""

    soql: str | None
    plan: str | None
    api: ReadApi
    page_records: int
    pk_chunk_size: int
    query_all: bool


def read_settings(options: Mapping[str, str]) -> ReadSettings:
    """``soql`` or ``plan`` (a :class:`~sfbulk_sdk.plans.ReadPlan` as JSON), ``api``
    (``bulk2`` or ``bulk1``), ``pageRecords``, ``pkChunkSize``, ``queryAll``."""
    opts = _lower(options)
    soql = opts.get("soql") or None
    plan = opts.get("plan") or None
    if (soql is None) == (plan is None):
        raise InvalidInputError("give the sfbulk data source either option 'soql' or 'plan'")
    api = opts.get("api", "bulk2")
    if api not in ("bulk2", "bulk1"):
        raise InvalidInputError(f"option 'api' must be bulk2 or bulk1, not {api!r}")
    return ReadSettings(
        soql=soql,
        plan=plan,
        api="bulk2" if api == "bulk2" else "bulk1",
        page_records=_whole(opts, "pageRecords", 50_000),
        pk_chunk_size=_whole(opts, "pkChunkSize", 100_000),
        query_all=_flag(opts, "queryAll"),
    )


_WRITE_OPERATIONS: dict[str, WriteOperation] = {
    "insert": "insert",
    "update": "update",
    "upsert": "upsert",
    "delete": "delete",
    "harddelete": "hardDelete",
}


def write_plan_from_options(options: Mapping[str, str], columns: tuple[str, ...]) -> WritePlan:
    """``object``, ``operation`` (default ``insert``), ``externalIdField``,
    ``rowsPerJob``, ``failedRowsPath``, plus the connection options."""
    opts = _lower(options)
    raw = opts.get("operation", "insert").strip()
    operation = _WRITE_OPERATIONS.get(raw.lower())
    if operation is None:
        raise InvalidInputError(f"unknown operation {raw!r}; use one of {list(_WRITE_OPERATIONS)}")
    return WritePlan(
        connection_from_options(options),
        _need(opts, "object"),
        operation,
        columns,
        external_id_field=opts.get("externalidfield") or None,
        rows_per_job=_whole(opts, "rowsPerJob", 100_000),
        failed_rows_path=opts.get("failedrowspath") or None,
    )
