"""Moonshot's official tools ("Formulas"): their tool schemas, and running one call.

A Formula such as ``moonshot/web-search:latest`` lists ordinary function tools to send
with a chat; when the model calls one, the call runs as a *fiber* and its output goes
back, verbatim, as the ``tool`` message's content (an encrypted output is decrypted by
the API itself).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from kimi_cli.api.client import API_TIME_LIMIT_S, KimiClient
from kimi_cli.api.types import str_or_none
from kimi_cli.errors import APIRequestError, NotFoundError, UnexpectedResponseError

WEB_SEARCH = "moonshot/web-search:latest"
_FAILED = frozenset({"failed", "error", "cancelled", "canceled", "timeout", "timed_out"})


class FormulaError(APIRequestError):
    """A Formula's endpoint refused a request (a 4xx other than the key's or the balance's):
    named as the Formula's, so that it is not read as the model's or the chat's options'."""


class FiberFailedError(FormulaError):
    """A Formula's tool call (a fiber) ran and failed, e.g. a web search that found nothing."""


@dataclass(frozen=True)
class Fiber:
    id: str
    status: str
    output: str | None = None
    encrypted_output: str | None = None
    error: str | None = None
    raw: Mapping[str, Any] = field(default_factory=dict, compare=False, repr=False)

    @property
    def content(self) -> str:
        """What goes back to the model as the tool message: the output, else the encrypted one."""
        if self.output is not None:
            return self.output
        return self.encrypted_output or ""

    @classmethod
    def from_json(cls, data: Any) -> Fiber:
        data = data if isinstance(data, Mapping) else {}
        context = data.get("context")
        context = context if isinstance(context, Mapping) else {}
        return cls(
            id=str_or_none(data.get("id")) or "",
            status=str_or_none(data.get("status")) or "",
            output=str_or_none(context.get("output")),
            encrypted_output=str_or_none(context.get("encrypted_output")),
            error=_error_text(data.get("error")) or _error_text(context.get("error")),
            raw=dict(data),
        )


def formula_tools(client: KimiClient, uri: str = WEB_SEARCH) -> list[dict[str, Any]]:
    """The Formula's tools, unchanged, ready for the chat request's ``tools``."""
    try:
        data = client.request_json("GET", f"formulas/{uri}/tools")
    except NotFoundError as exc:
        raise FormulaError(
            f"the Formula {uri} is not served at this base URL ({_said(exc)})",
            hint="drop --web-search, or check the base URL: kimi config show",
            request_id=exc.request_id,
            error_type=exc.error_type,
        ) from exc
    except APIRequestError as exc:
        raise _refused(exc, f"the Formula {uri} refused to list its tools") from exc
    tools = data.get("tools") if isinstance(data, Mapping) else None
    if not isinstance(tools, list) or not all(isinstance(t, dict) for t in tools):
        raise UnexpectedResponseError(
            f"the tools of the Formula {uri} did not come as a list",
        )
    return tools


def run_fiber(client: KimiClient, uri: str, name: str, arguments: str) -> Fiber:
    """Run one tool call; ``arguments`` is the model's JSON string, passed verbatim.

    FiberFailedError when the fiber says it failed or brings no output."""
    body = {"name": name, "arguments": arguments}
    try:
        data = client.request_json(
            "POST", f"formulas/{uri}/fibers", json=body, read_timeout=API_TIME_LIMIT_S
        )
    except APIRequestError as exc:
        raise _refused(exc, f"the {name} tool of {uri} was refused") from exc
    fiber = Fiber.from_json(data)
    said = fiber.error
    if said is None and fiber.status.lower() in _FAILED:
        said = f"status {fiber.status}"
    if said is None and fiber.output is None and fiber.encrypted_output is None:
        said = "no output"
    if said is not None:
        raise FiberFailedError(f"the {name} tool of {uri} failed ({said})", hint="retry later")
    return fiber


def _said(exc: APIRequestError) -> str:
    status = f"HTTP {exc.status_code}" if exc.status_code else "refused"
    message = exc.message.removeprefix("the API refused the request: ")
    return f"{status}: {message}" if message else status


def _refused(exc: APIRequestError, what: str) -> APIRequestError:
    """A refusal by a Formula endpoint, worded as the Formula's. A body that is not the
    API's (a proxy's page) and the content filter keep their own words."""
    if isinstance(exc, UnexpectedResponseError) or exc.error_type == "content_filter":
        return exc
    return FormulaError(
        f"{what} ({_said(exc)})",
        hint="retry; if it persists, ask without --web-search",
        request_id=exc.request_id,
        error_type=exc.error_type,
    )


def _error_text(value: object) -> str | None:
    if isinstance(value, str):
        return value or None
    if isinstance(value, Mapping):
        message = value.get("message") or value.get("type")
        return message if isinstance(message, str) and message else "unknown error"
    return None
