"""The fault table: every error kind of docs/api-notes.md "Errors" and "Rate limits",
plus broken transports (HTML from a proxy, a stream cut off, a malformed line, a stall).

A fault is switched on with ``--fault NAME[:once]`` (chat only) or ``POST /_emulator/config``
(``{"faults": [{"name", "once", "endpoint"}]}``, endpoint ``chat``, ``models``, ``balance``,
``tokens``, a Files/Batch/Formula endpoint such as ``files.upload`` or a whole group such as
``files``, or ``all``). ``once`` faults act on the next matching request only.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from .routes import ENDPOINTS as ROUTE_ENDPOINTS
from .routes import GROUPS
from .rules import ApiError, model_not_found

ORG = "org-emulator"
AK = "ak-emulator"
RETRY_AFTER = {"Retry-After": "1"}


def _rpm(seconds: int) -> str:
    return (
        f"Your account {ORG}<{AK}> request reached organization max RPM: 3, "
        f"please try again after {seconds} seconds"
    )


# name -> (status, type, message, extra headers)
ERROR_FAULTS: dict[str, tuple[int, str, str, dict[str, str]]] = {
    "content_filter": (
        400, "content_filter", "The request was rejected because it was considered high risk", {},
    ),
    "invalid_request": (400, "invalid_request_error", "Invalid request: emulated", {}),
    "input_too_long": (400, "invalid_request_error", "Input token length too long", {}),
    "auth": (401, "invalid_authentication_error", "Invalid Authentication", {}),
    "permission": (403, "permission_denied_error", "The API you are accessing is not open", {}),
    "ip_not_allowed": (
        403, "permission_denied_error", "Your IP is not allowed to access this organization", {},
    ),
    "balance_403": (
        403,
        "permission_denied_error",
        "Your account is suspended due to insufficient balance, please recharge",
        {},
    ),
    "overloaded": (
        429,
        "engine_overloaded_error",
        "The engine is currently overloaded, please try again later",
        RETRY_AFTER,
    ),
    "rate_limit": (429, "rate_limit_reached_error", _rpm(1), RETRY_AFTER),
    "rate_limit_text": (429, "rate_limit_reached_error", _rpm(1), {}),
    "rate_limit_long": (429, "rate_limit_reached_error", _rpm(1152), {"Retry-After": "1152"}),
    "quota": (
        429,
        "exceeded_current_quota_error",
        f"You exceeded your current token quota: <{ORG}> 0, please check your account balance",
        {},
    ),
    "client_closed": (499, "client_closed_request", "client closed request", {}),
    "server_error": (500, "server_error", "emulated internal error", {}),
    "extract_failed": (500, "server_error", "Failed to extract file: emulated parse error", {}),
    "unavailable": (503, "server_unavailable", "service unavailable", {}),
}  # fmt: skip


@dataclass(frozen=True)
class RawAnswer:
    """A response that is not the API's JSON envelope (a proxy page, a broken body)."""

    status: int
    content_type: str
    body: str


RAW_FAULTS: dict[str, RawAnswer] = {
    "bad_gateway": RawAnswer(
        502, "text/html", "<html><body><h1>502 Bad Gateway</h1></body></html>"
    ),
    "gateway_timeout": RawAnswer(504, "text/plain", "upstream timed out after 300 s"),
    "html": RawAnswer(
        200,
        "text/html; charset=utf-8",
        "<!DOCTYPE html><html><head><title>Network login</title></head><body>"
        "<h1>Welcome to Guest Wi-Fi</h1><p>Please sign in to continue.</p>"
        '<form method="post" action="/login"><input name="email"><button>Connect</button>'
        "</form></body></html>",
    ),
    "not_json": RawAnswer(200, "application/json", "not json{"),
}

# Faults that change how a stream is written; a non-stream request ignores them.
STREAM_FAULTS = ("malformed_sse", "stream_error", "stall")
DELAY_FAULT = "slow_first_byte"
CUT_FAULT = "stream_cut"
MODEL_FAULT = "model_not_found"
STORM_FAULT = "rate_limit_storm"
# Faults that change what an endpoint does rather than replacing its answer with an error;
# each acts on its own endpoint unless another is given.
BEHAVIOUR_FAULTS = {
    "file_type_refused": "files.upload",
    "files_full": "files.upload",
    "fiber_failed": "formulas.fibers",
    "schema_broken": "chat",
    "batch_expire": "batches.create",
    STORM_FAULT: "chat",
}
DEFAULT_ENDPOINT = {**BEHAVIOUR_FAULTS, "extract_failed": "files.content"}

FAULT_NAMES: tuple[str, ...] = (
    *ERROR_FAULTS,
    MODEL_FAULT,
    *RAW_FAULTS,
    CUT_FAULT,
    *STREAM_FAULTS,
    DELAY_FAULT,
    *BEHAVIOUR_FAULTS,
)
ENDPOINTS = (*ROUTE_ENDPOINTS, *GROUPS, "all")

STREAM_ERROR_EVENT = {
    "error": {
        "type": "engine_overloaded_error",
        "message": "The engine is currently overloaded, please try again later",
    }
}


@dataclass(frozen=True)
class Fault:
    name: str
    once: bool = False
    endpoint: str = "chat"

    def matches(self, endpoint: str, stream: bool) -> bool:
        group = endpoint.split(".", 1)[0]
        if self.endpoint not in ("all", endpoint, group):
            return False
        return stream or self.name not in STREAM_FAULTS

    def to_json(self) -> dict[str, Any]:
        return {"name": self.name, "once": self.once, "endpoint": self.endpoint}


def parse_fault(spec: Any) -> Fault:
    """A fault from ``"NAME"``, ``"NAME:once"`` or ``{"name", "once", "endpoint"}``.

    Raises ``ValueError`` with a one-line reason.
    """
    if isinstance(spec, str):
        name, _, flag = spec.partition(":")
        if flag not in ("", "once"):
            raise ValueError(f"bad fault {spec!r}: the only suffix is ':once'")
        fault = Fault(name=name, once=flag == "once", endpoint=DEFAULT_ENDPOINT.get(name, "chat"))
    elif isinstance(spec, Mapping):
        unknown = sorted(set(spec) - {"name", "once", "endpoint"})
        if unknown:
            raise ValueError(f"unknown fault field {unknown[0]!r}")
        given = spec.get("name")
        once = spec.get("once", False)
        endpoint = spec.get("endpoint", DEFAULT_ENDPOINT.get(str(given), "chat"))
        if not isinstance(given, str) or not isinstance(once, bool):
            raise ValueError("a fault needs a string 'name' and a boolean 'once'")
        if endpoint not in ENDPOINTS:
            raise ValueError(f"unknown fault endpoint {endpoint!r}; known: {', '.join(ENDPOINTS)}")
        fault = Fault(name=given, once=once, endpoint=str(endpoint))
    else:
        raise ValueError("a fault is a string or an object")
    if fault.name not in FAULT_NAMES:
        raise ValueError(f"unknown fault {fault.name!r}; known: {', '.join(FAULT_NAMES)}")
    return fault


def fault_answer(name: str, model_id: str) -> ApiError | RawAnswer | None:
    """The answer a response fault gives instead of the real one; None for the other faults."""
    if name in ERROR_FAULTS:
        status, type_, message, headers = ERROR_FAULTS[name]
        return ApiError(status, type_, message, headers)
    if name == MODEL_FAULT:
        return model_not_found(model_id)
    return RAW_FAULTS.get(name)
