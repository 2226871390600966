"""The fake org's own controls: ``/_fake/...`` JSON endpoints for out-of-process tests.

What a test in the same process does through :class:`~sfbulk_sdk.testing.FakeOrg`
(read the stats and rows, seed rows, open and expire sessions, inject faults and
record errors, move a manual clock, list jobs, configure OAuth apps and issue
refresh tokens), a test in another process does here. No session is needed:
keep a served org on a loopback interface.

The OAuth controls (``/_fake/oauth/...``):

* ``GET stats``: :class:`~sfbulk_sdk.testing.oauth.OAuthStats`;
* ``GET apps``: every app (without its secret);
* ``POST apps`` ``{"name", "client_id", "client_secret", "certificate",
  "rotate_refresh_tokens", "run_as", "scopes", "flows", "approved_users",
  "require_secret_for_refresh"}`` (all optional): 201 with the app and its
  ``client_secret``;
* ``PATCH apps/{client_id}`` with any of those but the id and secret: the app;
* ``POST refresh-tokens`` ``{"client_id", "username", "scopes"}``: 201
  ``{"refresh_token", "client_id", "username", "scope"}``;
* ``POST site-urls`` ``{"url"}``: accept an Experience Cloud site URL as a JWT
  audience: 201 ``{"site_urls": [...]}``.

The fault controls: ``GET``/``POST``/``DELETE faults`` (a fault's JSON takes
``after`` to strike once the org acted, and ``retry_after``), and
``GET``/``POST``/``DELETE chaos``: a seeded random-failure plan
(:class:`~sfbulk_sdk.testing.faults.Chaos`: ``seed``, ``rate``, ``path``,
``after_share``, ``reset_share``, ``statuses``, ``expire_sessions_at``).

Control requests are counted as ``control``; they neither let batches progress
first nor consume injected faults, and their replies are never gzipped.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from typing import Any, cast
from urllib.parse import parse_qs, unquote

from ...core.clock import ManualClock
from ..bulk2_jobs import ingest_info, query_info
from ..faults import Chaos, Fault
from ..http import FakeRequest, FakeResponse
from ..oauth import ALL_FLOWS, AppOptions, OAuthFlow
from ..schema import FieldValueError
from ..state import OrgState

__all__ = ["PATTERN", "handle"]

#: ``/_fake`` and everything under it.
PATTERN = re.compile(r"^/_fake(?:/(?P<rest>.*))?$", re.DOTALL)


def handle(state: OrgState, request: FakeRequest, match: re.Match[str]) -> FakeResponse:
    """Answer one control request (the caller holds the org's lock)."""
    state.requests["control"] += 1
    return _control(state, request, (match["rest"] or "").strip("/"))


def _control(state: OrgState, request: FakeRequest, rest: str) -> FakeResponse:
    method = request.method.upper()
    parts = [unquote(p) for p in rest.split("/") if p]
    query = parse_qs(request.query)
    try:
        body: Any = json.loads(request.body) if request.body.strip() else {}
    except ValueError:
        return FakeResponse.json(400, {"error": "the body must be JSON"})
    try:
        if parts == ["stats"] and method == "GET":
            return FakeResponse.json(200, state.stats())
        if parts == ["expire-sessions"] and method == "POST":
            return FakeResponse.json(200, {"expired": state.accounts.expire_sessions()})
        if parts == ["sessions"] and method == "POST":
            username = body.get("username") if isinstance(body, dict) else None
            session_id = state.accounts.issue_session(username)
            return FakeResponse.json(
                201,
                {
                    "session_id": session_id,
                    "instance_url": (request.base_url or state.settings.instance_url).rstrip("/"),
                },
            )
        if len(parts) == 2 and parts[0] == "records":
            if method == "GET":
                deleted = query.get("include_deleted", ["false"])[0].lower() == "true"
                return FakeResponse.json(200, state.records_json(parts[1], include_deleted=deleted))
            if method == "POST":
                if not isinstance(body, list):
                    return FakeResponse.json(400, {"error": "POST a JSON array of records"})
                return FakeResponse.json(201, {"ids": state.insert(parts[1], body)})
        if parts == ["faults"]:
            if method == "GET":
                return FakeResponse.json(200, [f.to_dict() for f in state.faults.active()])
            if method == "POST":
                if not isinstance(body, dict):
                    return FakeResponse.json(400, {"error": "POST a JSON object"})
                fault = state.faults.add(Fault.from_dict(body))
                return FakeResponse.json(201, fault.to_dict())
            if method == "DELETE":
                return FakeResponse.json(200, {"cleared": state.clear_faults()})
        if parts == ["chaos"]:
            return _chaos(state, method, body)
        if parts == ["record-errors"] and method == "POST" and isinstance(body, dict):
            error = FieldValueError(
                str(body.get("status_code", "UNABLE_TO_LOCK_ROW")),
                str(body.get("message", "unable to obtain exclusive access to this record")),
                tuple(str(f) for f in body.get("fields", [])),
            )
            state.inject_record_errors(str(body["sobject"]), int(body.get("count", 1)), error)
            return FakeResponse.json(201, {"pending": state.db.injector.pending()})
        if parts == ["clock", "advance"] and method == "POST" and isinstance(body, dict):
            if not isinstance(state.clock, ManualClock):
                return FakeResponse.json(409, {"error": "the org runs on the system clock"})
            state.advance(float(body.get("seconds", 0)))
            return FakeResponse.json(200, {"now": state.now().isoformat()})
        if parts[:1] == ["oauth"]:
            answer = _oauth(state, method, parts[1:], body)
            if answer is not None:
                return answer
        if parts == ["jobs"] and method == "GET":
            return FakeResponse.json(200, [json.loads(j.to_wire_json()) for j in state.jobs()])
        if parts == ["bulk2", "jobs"] and method == "GET":
            state.tick()
            engine = state.bulk2
            docs = [ingest_info(j, "full").to_wire_json() for j in engine.ingest_jobs()]
            docs += [query_info(j, "full").to_wire_json() for j in engine.query_jobs()]
            return FakeResponse.json(200, [json.loads(d) for d in docs])
        if parts == ["sobjects"] and method == "POST" and isinstance(body, dict):
            spec = state.load_describe(body)
            fields = [f.name for f in spec.fields]
            return FakeResponse.json(
                201, {"name": spec.name, "key_prefix": spec.key_prefix, "fields": fields}
            )
    except KeyError as exc:
        return FakeResponse.json(404, {"error": str(exc.args[0]) if exc.args else "not found"})
    except ValueError as exc:
        return FakeResponse.json(400, {"error": str(exc)})
    return FakeResponse.json(404, {"error": f"no control {method} /_fake/{rest}"})


_CHAOS_KEYS = frozenset(
    {"seed", "rate", "path", "after_share", "reset_share", "statuses", "expire_sessions_at"}
)


def _chaos(state: OrgState, method: str, body: Any) -> FakeResponse:
    """``GET``/``POST``/``DELETE /_fake/chaos``: the random-failure plan (see :class:`Chaos`)."""
    faults = state.faults
    if method == "POST":
        if not isinstance(body, dict) or not isinstance(body.get("seed"), int):
            raise ValueError("POST a JSON object with an integer 'seed'")
        unknown = set(body) - _CHAOS_KEYS
        if unknown:
            raise ValueError(f"unknown chaos settings: {sorted(unknown)}")
        settings = dict(body)
        for key in ("statuses", "expire_sessions_at"):
            if key in settings:
                settings[key] = tuple(int(v) for v in settings[key])
        faults.chaos = Chaos(**settings)
        return FakeResponse.json(201, faults.chaos.to_dict())
    if method == "DELETE":
        had = faults.chaos is not None
        faults.chaos = None
        return FakeResponse.json(200, {"cleared": had})
    if method == "GET":
        return FakeResponse.json(200, faults.chaos.to_dict() if faults.chaos else None)
    return FakeResponse.json(405, {"error": f"no control {method} /_fake/chaos"})


_APP_KEYS = frozenset(AppOptions.__annotations__) | {"name"}
_FLOWS: dict[str, OAuthFlow] = {flow: flow for flow in ALL_FLOWS}


def _oauth(state: OrgState, method: str, parts: list[str], body: Any) -> FakeResponse | None:
    registry = state.oauth
    if parts == ["stats"] and method == "GET":
        return FakeResponse.json(200, registry.stats())
    if parts == ["apps"] and method == "GET":
        return FakeResponse.json(200, [app.to_json() for app in registry.apps])
    if parts == ["apps"] and method == "POST":
        options = _app_options(body)
        name = body.get("name", "Fake External Client App")  # a dict: _app_options checked
        if not isinstance(name, str):
            raise ValueError("name must be a string")
        app = registry.add_app(name, **options)
        return FakeResponse.json(201, app.to_json(secret=True))
    if len(parts) == 2 and parts[0] == "apps" and method == "PATCH":
        options = _app_options(body)
        if "name" in body:
            raise ValueError("an app's name cannot be changed")
        app = registry.update_app(parts[1], **options)
        return FakeResponse.json(200, app.to_json())
    if parts == ["refresh-tokens"] and method == "POST" and isinstance(body, dict):
        client_id = body.get("client_id")
        username = body.get("username")
        scopes = body.get("scopes")
        if not isinstance(client_id, str):
            raise ValueError("client_id must be a string")
        if username is not None and not isinstance(username, str):
            raise ValueError("username must be a string")
        token = registry.issue_refresh_token(
            client_id, username, scopes=None if scopes is None else _strings(scopes, "scopes")
        )
        user = state.accounts.user(username)
        family_scopes = registry.app(client_id).scopes if scopes is None else scopes
        return FakeResponse.json(
            201,
            {
                "refresh_token": token,
                "client_id": client_id,
                "username": user.username,
                "scope": " ".join(family_scopes),
            },
        )
    if parts == ["site-urls"] and method == "POST" and isinstance(body, dict):
        url = body.get("url")
        if not isinstance(url, str) or not url.startswith(("https://", "http://")):
            raise ValueError("url must be an http(s) URL")
        registry.site_urls.append(url)
        return FakeResponse.json(201, {"site_urls": registry.site_urls})
    return None


def _strings(value: Any, name: str) -> list[str]:
    if isinstance(value, str):
        return value.split()
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ValueError(f"{name} must be a list of strings")
    return list(value)


def _text(value: Any, key: str) -> str:
    if not isinstance(value, str) or not value:
        raise ValueError(f"{key} must be a non-empty string")
    return value


def _optional_text(value: Any, key: str) -> str | None:
    if value is not None and not isinstance(value, str):
        raise ValueError(f"{key} must be a string or null")
    return value


def _flag(value: Any, key: str) -> bool:
    if not isinstance(value, bool):
        raise ValueError(f"{key} must be true or false")
    return value


def _flows(value: Any, key: str) -> list[OAuthFlow]:
    names = _strings(value, key)
    unknown = set(names) - set(_FLOWS)
    if unknown:
        raise ValueError(f"unknown OAuth flows {sorted(unknown)}; known: {sorted(_FLOWS)}")
    return [_FLOWS[name] for name in names]


def _users(value: Any, key: str) -> list[str] | None:
    return None if value is None else _strings(value, "users")


# How each app setting of a JSON body is read, in the order they are checked.
_APP_READERS: dict[str, Callable[[Any, str], object]] = {
    "client_id": _text,
    "client_secret": _text,
    "certificate": _optional_text,
    "run_as": _optional_text,
    "rotate_refresh_tokens": _flag,
    "require_secret_for_refresh": _flag,
    "scopes": _strings,
    "flows": _flows,
    "approved_users": _users,
}


def _app_options(body: Any) -> AppOptions:
    """The app settings of a JSON body, type-checked (``ValueError`` otherwise)."""
    if not isinstance(body, dict):
        raise ValueError("send a JSON object")
    unknown = set(body) - _APP_KEYS
    if unknown:
        raise ValueError(f"unknown app settings: {sorted(unknown)}")
    options = {key: read(body[key], key) for key, read in _APP_READERS.items() if key in body}
    return cast("AppOptions", options)
