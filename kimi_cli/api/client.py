"""KimiClient: the Moonshot API over one ``httpx.Client``.

It knows HTTP, retries and streams, and nothing of config or models: the CLI builds
one client per base URL from Settings and passes it down.
"""

from __future__ import annotations

import contextlib
import json
import os
import random
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from types import TracebackType
from typing import Any, Protocol

import httpx

from kimi_cli import __version__
from kimi_cli.api.stream import ChatStream, chunk_from_json
from kimi_cli.api.translate import (
    describe_transport,
    error_from_response,
    error_from_transport,
    request_id_of,
)
from kimi_cli.api.types import Balance, Completion, Model, ToolCall, Usage
from kimi_cli.errors import (
    KimiError,
    TemporaryError,
    UnexpectedResponseError,
)

__all__ = ["ChatStream", "KimiClient", "StreamedBody", "chunk_from_json"]

Trace = Callable[[str], None]

#: The gateway answers 504 (an HTML page) after 900 s without a byte, though the API
#: itself allows two hours (docs/api-notes.md#timeouts). A non-streamed answer may take
#: that long before its first byte, so its read timeout is this, not the idle timeout.
API_TIME_LIMIT_S = 900.0
#: A Retry-After longer than this is not slept: the user is told when to retry.
RETRY_CAP_S = 20.0
BACKOFF_BASE_S = 0.5
BACKOFF_MAX_S = 8.0
#: Statuses that refuse a request at the door: nothing was made, so even a request whose
#: body is not safe to send twice may be sent again.
REFUSED_AT_THE_DOOR = frozenset({429, 503})


class StreamedBody(Protocol):
    """A request body sent piece by piece (an upload): iterated once per attempt."""

    content_type: str
    length: int
    summary: str  # what --debug shows instead of the bytes

    def __iter__(self) -> Iterator[bytes]: ...

    @property
    def bytes_sent(self) -> int: ...


class KimiClient:
    """One base URL, one key, one connection pool.

    ``timeout`` is the connect timeout and the idle read timeout: the longest silence
    allowed between two pieces of a stream (and for a whole quick request).
    """

    def __init__(
        self,
        base_url: str,
        api_key: str | None,
        *,
        timeout: float = 60.0,
        max_retries: int = 2,
        transport: httpx.BaseTransport | None = None,
        trace: Trace | None = None,
        sleep: Callable[[float], None] = time.sleep,
        retry_cap: float = RETRY_CAP_S,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.timeout = timeout
        self.max_retries = max(0, max_retries)
        self._sleep = sleep
        self._retry_cap = retry_cap
        self._trace = trace
        self._api_key = api_key or ""
        headers = {"User-Agent": f"kimi-api/{__version__}", "Accept": "application/json"}
        if api_key:
            headers["Authorization"] = f"Bearer {api_key}"
        hooks: dict[str, list[Callable[..., Any]]] = {}
        if trace is not None:
            hooks = {"response": [self._trace_response]}
        self._http = httpx.Client(
            base_url=self.base_url + "/",
            headers=headers,
            timeout=httpx.Timeout(timeout, connect=min(timeout, 15.0)),
            transport=transport,
            trust_env=True,
            verify=_tls_needed(self.base_url),
            event_hooks=hooks,
        )

    # -- endpoints -----------------------------------------------------------------

    def list_models(self) -> list[Model]:
        data = self.request_json("GET", "models")
        items = data.get("data") if isinstance(data, Mapping) else None
        if not isinstance(items, list):
            raise self._unexpected("models", "no model list in the answer")
        models = []
        for item in items:
            with contextlib.suppress(ValueError):  # an entry without an id is not a model
                models.append(Model.from_json(item))
        return models

    def balance(self) -> Balance:
        data = self.request_json("GET", "users/me/balance")
        inner = data.get("data") if isinstance(data, Mapping) else None
        if not isinstance(inner, Mapping):
            raise self._unexpected("users/me/balance", "no balance in the answer")
        try:
            return Balance(
                available=float(inner["available_balance"]),
                voucher=float(inner.get("voucher_balance", 0.0)),
                cash=float(inner.get("cash_balance", 0.0)),
            )
        except (KeyError, TypeError, ValueError):
            raise self._unexpected("users/me/balance", "the balance has no amount") from None

    def estimate_tokens(self, model: str, messages: list[dict[str, Any]]) -> int:
        body = {"model": model, "messages": messages}
        data = self.request_json("POST", "tokenizers/estimate-token-count", json=body)
        inner = data.get("data") if isinstance(data, Mapping) else None
        total = inner.get("total_tokens") if isinstance(inner, Mapping) else None
        if not isinstance(total, int):
            raise self._unexpected("tokenizers/estimate-token-count", "no token count")
        return total

    def chat(self, body: Mapping[str, Any]) -> Completion:
        payload = {**body, "stream": False}
        response = self._send(
            "POST", "chat/completions", json=payload, read_timeout=API_TIME_LIMIT_S
        )
        data = self._decode(response, "chat/completions")
        choices = data.get("choices") if isinstance(data, Mapping) else None
        if not isinstance(choices, list) or not choices or not isinstance(choices[0], Mapping):
            raise self._unexpected("chat/completions", "no choices in the answer")
        message = choices[0].get("message")
        if not isinstance(message, Mapping):
            raise self._unexpected("chat/completions", "no message in the answer")
        usage = data.get("usage") or choices[0].get("usage")
        calls = message.get("tool_calls")
        return Completion(
            content=_text(message.get("content")),
            reasoning=_text(message.get("reasoning_content")),
            finish_reason=_text(choices[0].get("finish_reason")) or None,
            usage=Usage.from_json(usage) if isinstance(usage, Mapping) else None,
            model=data.get("model"),
            request_id=request_id_of(response.headers),
            tool_calls=tuple(
                ToolCall.from_json(call)
                for call in (calls if isinstance(calls, list) else ())
                if isinstance(call, Mapping)
            ),
        )

    def stream_chat(self, body: Mapping[str, Any]) -> ChatStream:
        """Open a streamed chat; retries happen here, before any text is handed out."""
        payload = {**body, "stream": True}
        response = self._send("POST", "chat/completions", json=payload, stream=True)
        content_type = response.headers.get("content-type", "")
        if "text/event-stream" not in content_type:
            body_bytes = response.read()
            response.close()
            raise self._unexpected(
                "chat/completions",
                f"expected an event stream, got {content_type or 'no content type'}",
                body_bytes,
            )
        return ChatStream(response, self.timeout)

    # -- for the sibling modules (files, batches, formulas) ------------------------------

    def request_json(
        self,
        method: str,
        path: str,
        *,
        json: Any = None,
        params: Mapping[str, Any] | None = None,
        read_timeout: float | None = None,
        may_retry: Callable[[KimiError], bool] | None = None,
    ) -> Any:
        """One request, retried as the rules say (and ``may_retry`` allows); the decoded
        JSON answer, or a KimiError."""
        response = self._send(
            method, path, json=json, params=params, read_timeout=read_timeout, may_retry=may_retry
        )
        return self._decode(response, path)

    def request_text(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, Any] | None = None,
        read_timeout: float | None = None,
    ) -> str:
        """One request whose answer is text (UTF-8, undecodable bytes replaced)."""
        response = self._send(method, path, params=params, read_timeout=read_timeout)
        return response.content.decode("utf-8", "replace")

    def send_body(self, method: str, path: str, body: StreamedBody) -> Any:
        """Send a body piece by piece (memory does not grow with it); the JSON answer.

        Once any byte went out, an attempt is repeated only when the API refused it at the
        door (429, 503): a request that may have been made is not made twice."""
        headers = {"Content-Type": body.content_type, "Content-Length": str(body.length)}
        response = self._send(
            method,
            path,
            content=body,
            headers=headers,
            read_timeout=API_TIME_LIMIT_S,
            summary=body.summary,
            may_retry=lambda error: (
                body.bytes_sent == 0 or error.status_code in REFUSED_AT_THE_DOOR
            ),
        )
        return self._decode(response, path)

    @contextlib.contextmanager
    def stream_bytes(
        self, method: str, path: str, *, params: Mapping[str, Any] | None = None
    ) -> Iterator[Iterator[bytes]]:
        """The answer's bytes as they arrive (``with … as pieces``). Opening is retried; a
        break while reading is a TemporaryError."""
        response = self._send(
            method, path, params=params, stream=True, read_timeout=API_TIME_LIMIT_S
        )
        try:
            yield self._pieces(response)
        finally:
            response.close()

    def _pieces(self, response: httpx.Response) -> Iterator[bytes]:
        try:
            yield from response.iter_bytes()
        except httpx.TransportError as exc:
            raise TemporaryError(
                f"the download broke off: {describe_transport(exc)}",
                hint="retry later",
                request_id=request_id_of(response.headers),
            ) from exc

    # -- plumbing ------------------------------------------------------------------

    def _decode(self, response: httpx.Response, path: str) -> Any:
        try:
            return json.loads(response.content)
        except (ValueError, UnicodeDecodeError):
            raise self._unexpected(path, "the answer is not JSON", response.content) from None

    def _send(
        self,
        method: str,
        path: str,
        *,
        json: Any = None,
        params: Mapping[str, Any] | None = None,
        content: Iterable[bytes] | None = None,
        headers: Mapping[str, str] | None = None,
        stream: bool = False,
        read_timeout: float | None = None,
        summary: str | None = None,
        may_retry: Callable[[KimiError], bool] | None = None,
    ) -> httpx.Response:
        timeout = httpx.Timeout(
            self.timeout, connect=min(self.timeout, 15.0), read=read_timeout or self.timeout
        )
        attempt = 0
        while True:
            try:
                request = self._http.build_request(
                    method,
                    path,
                    json=json,
                    params=params,
                    content=content,  # an iterable of bytes is streamed, not read whole
                    headers=headers,
                    timeout=timeout,
                )
                if self._trace:
                    self._trace_request(request, json, summary)
                response = self._http.send(request, stream=stream)
            except httpx.TransportError as exc:
                error: KimiError = error_from_transport(
                    exc, self.base_url, timeout.read or self.timeout, timeout.connect
                )
                cause: BaseException | None = exc
            else:
                if response.is_success:
                    return response
                body = response.read()
                response.close()
                error = error_from_response(response.status_code, response.headers, body, path)
                cause = None
            wait = self._retry_wait(error, attempt)
            if wait is None or (may_retry is not None and not may_retry(error)):
                raise error from cause
            if self._trace:
                self._trace(f"retrying in {wait:.1f} s after: {error.message}")
            self._sleep(wait)
            attempt += 1

    def _retry_wait(self, error: KimiError, attempt: int) -> float | None:
        """Seconds to wait before the next attempt, or None to give up now."""
        if not isinstance(error, TemporaryError) or attempt >= self.max_retries:
            return None
        if error.retry_after is not None:
            if error.retry_after > self._retry_cap:
                error.hint = f"the API asks to wait {error.retry_after:g} s; retry after that"
                return None
            return float(error.retry_after)
        backoff = min(BACKOFF_MAX_S, BACKOFF_BASE_S * 2.0**attempt)
        return backoff * random.uniform(0.75, 1.0)

    def _unexpected(self, path: str, what: str, body: bytes = b"") -> UnexpectedResponseError:
        looks_html = body.lstrip()[:1] == b"<"
        detail = "an HTML page" if looks_html else what
        # No hint: which setting holds the URL is known above (kimi_cli.hints.base_url_fix).
        return UnexpectedResponseError(
            f"{self.base_url}/{path} did not answer like the Kimi API ({detail})"
        )

    def _trace_request(self, request: httpx.Request, body: Any, summary: str | None) -> None:
        assert self._trace is not None
        headers = {
            k: ("Bearer ***" if k.lower() == "authorization" else v)
            for k, v in request.headers.items()
        }
        self._trace(f"> {request.method} {request.url} {headers}")
        if summary is not None:
            self._trace(f"> body: {summary}")
        elif body is not None:
            from kimi_cli.api.trace import describe_json_body  # --debug only

            self._trace(f"> body: {describe_json_body(body, self._api_key)}")

    def _trace_response(self, response: httpx.Response) -> None:
        assert self._trace is not None
        rid = request_id_of(response.headers)
        self._trace(f"< {response.status_code} {response.request.url} request-id={rid}")

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> KimiClient:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


def _text(value: object) -> str:
    return value if isinstance(value, str) else ""


def _tls_needed(base_url: str) -> bool:
    """False for an ``http://`` API reached without an ``https://`` proxy: it never speaks
    TLS, and building the TLS context (parsing the CA bundle) costs 20–40 ms per start.
    Redirects are not followed, so a plain-HTTP client never reaches an https URL."""
    if not base_url.lower().startswith("http://"):
        return True
    names = ("HTTP_PROXY", "http_proxy", "ALL_PROXY", "all_proxy")
    return any(os.environ.get(name, "").strip().lower().startswith("https://") for name in names)
