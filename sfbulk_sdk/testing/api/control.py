"""The fake org's own controls: ``/_fake/...`` JSON endpoints for out-of-process tests.

What a test in the same process does through :class:`~sfbulk_sdk.testing.FakeOrg`
(read the stats and rows, seed rows, open and expire sessions, inject faults and
record errors, move a manual clock, list jobs), a test in another process does
here. No session is needed: keep a served org on a loopback interface.

Control requests are counted as ``control``; they neither let batches progress
first nor consume injected faults, and their replies are never gzipped.
"""

from __future__ import annotations

import json
import re
from typing import Any
from urllib.parse import parse_qs, unquote

from ...core.clock import ManualClock
from ..bulk2_jobs import ingest_info, query_info
from ..faults import Fault
from ..http import FakeRequest, FakeResponse
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
