"""KimiClient: the Moonshot API over one ``httpx.Client``.

It knows HTTP, retries and streams, and nothing of config or models: the CLI builds
one client per base URL from Settings and passes it down.
"""

from __future__ import annotations

import contextlib
import json
import random
import time
from collections.abc import Callable, Iterator, Mapping
from types import TracebackType
from typing import Any

import httpx

from kimi_cli import __version__
from kimi_cli.api.translate import (
    error_from_response,
    error_from_stream_event,
    error_from_transport,
    request_id_of,
)
from kimi_cli.api.types import Balance, ChatChunk, Completion, Model, Usage, new_chunk
from kimi_cli.errors import (
    KimiError,
    StreamCutError,
    TemporaryError,
    UnexpectedResponseError,
)

Trace = Callable[[str], None]

#: The API answers 504 after five minutes; a non-streamed answer may legitimately take
#: that long before its first byte, so its read timeout is this, not the idle timeout.
API_TIME_LIMIT_S = 300.0
#: A Retry-After longer than this is not slept: the user is told when to retry.
RETRY_CAP_S = 20.0
BACKOFF_BASE_S = 0.5
BACKOFF_MAX_S = 8.0


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
        headers = {"User-Agent": f"kimi-api/{__version__}", "Accept": "application/json"}
        if api_key:
            headers["Authorization"] = f"Bearer {api_key}"
        hooks: dict[str, list[Callable[..., Any]]] = {}
        if trace is not None:
            hooks = {"request": [self._trace_request], "response": [self._trace_response]}
        self._http = httpx.Client(
            base_url=self.base_url + "/",
            headers=headers,
            timeout=httpx.Timeout(timeout, connect=min(timeout, 15.0)),
            transport=transport,
            trust_env=True,
            event_hooks=hooks,
        )

    # -- endpoints -----------------------------------------------------------------

    def list_models(self) -> list[Model]:
        data = self._json("GET", "models")
        items = data.get("data") if isinstance(data, Mapping) else None
        if not isinstance(items, list):
            raise self._unexpected("models", "no model list in the answer")
        models = []
        for item in items:
            with contextlib.suppress(ValueError):  # an entry without an id is not a model
                models.append(Model.from_json(item))
        return models

    def balance(self) -> Balance:
        data = self._json("GET", "users/me/balance")
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
        data = self._json("POST", "tokenizers/estimate-token-count", body)
        inner = data.get("data") if isinstance(data, Mapping) else None
        total = inner.get("total_tokens") if isinstance(inner, Mapping) else None
        if not isinstance(total, int):
            raise self._unexpected("tokenizers/estimate-token-count", "no token count")
        return total

    def chat(self, body: Mapping[str, Any]) -> Completion:
        payload = {**body, "stream": False}
        response = self._send("POST", "chat/completions", payload, read_timeout=API_TIME_LIMIT_S)
        data = self._decode(response, "chat/completions")
        choices = data.get("choices") if isinstance(data, Mapping) else None
        if not isinstance(choices, list) or not choices or not isinstance(choices[0], Mapping):
            raise self._unexpected("chat/completions", "no choices in the answer")
        message = choices[0].get("message") or {}
        usage = data.get("usage") or choices[0].get("usage")
        return Completion(
            content=_text(message.get("content")),
            reasoning=_text(message.get("reasoning_content")),
            finish_reason=_text(choices[0].get("finish_reason")) or None,
            usage=Usage.from_json(usage) if isinstance(usage, Mapping) else None,
            model=data.get("model"),
            request_id=request_id_of(response.headers),
        )

    def stream_chat(self, body: Mapping[str, Any]) -> ChatStream:
        """Open a streamed chat; retries happen here, before any text is handed out."""
        payload = {**body, "stream": True}
        response = self._send("POST", "chat/completions", payload, stream=True)
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

    # -- plumbing ------------------------------------------------------------------

    def _json(self, method: str, path: str, body: Any = None) -> Any:
        return self._decode(self._send(method, path, body), path)

    def _decode(self, response: httpx.Response, path: str) -> Any:
        try:
            return json.loads(response.content)
        except (ValueError, UnicodeDecodeError):
            raise self._unexpected(path, "the answer is not JSON", response.content) from None

    def _send(
        self,
        method: str,
        path: str,
        body: Any = None,
        *,
        stream: bool = False,
        read_timeout: float | None = None,
    ) -> httpx.Response:
        timeout = httpx.Timeout(
            self.timeout, connect=min(self.timeout, 15.0), read=read_timeout or self.timeout
        )
        attempt = 0
        while True:
            try:
                request = self._http.build_request(method, path, json=body, timeout=timeout)
                response = self._http.send(request, stream=stream)
            except httpx.TransportError as exc:
                error: KimiError = error_from_transport(
                    exc, self.base_url, timeout.read or self.timeout, timeout.connect
                )
                cause: BaseException | None = exc
            else:
                if response.is_success:
                    return response
                content = response.read()
                response.close()
                error, cause = (
                    error_from_response(response.status_code, response.headers, content),
                    None,
                )
            wait = self._retry_wait(error, attempt)
            if wait is None:
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
        return UnexpectedResponseError(
            f"{self.base_url}/{path} did not answer like the Kimi API ({detail})",
            hint="check --base-url (it should end in /v1) and any proxy",
        )

    def _trace_request(self, request: httpx.Request) -> None:
        assert self._trace is not None
        headers = {
            k: ("Bearer ***" if k.lower() == "authorization" else v)
            for k, v in request.headers.items()
        }
        self._trace(f"> {request.method} {request.url} {headers}")

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


class ChatStream:
    """The chunks of one streamed answer; iterate once, inside ``with``.

    Raises StreamCutError when the stream ends without ``[DONE]`` or breaks off, and the
    stream's own error class for an ``{"error": …}`` event. ``done`` tells whether
    ``[DONE]`` arrived.
    """

    def __init__(self, response: httpx.Response, idle_timeout: float) -> None:
        self._response = response
        self._idle_timeout = idle_timeout
        self.request_id = request_id_of(response.headers)
        self.done = False

    def __iter__(self) -> Iterator[ChatChunk]:
        from kimi_cli.api.sse import SSEDecoder  # streams only: a --no-stream run skips it

        decoder = SSEDecoder()
        chunk = self._chunk
        try:
            for raw in self._response.iter_bytes():
                for event in decoder.feed(raw):
                    data = event.data
                    if data[:1] != "{" and self._is_done(data):  # "[DONE]" is no object
                        return
                    yield chunk(data)
            for event in decoder.flush():
                if self._is_done(event.data):
                    return
                yield self._chunk(event.data)
        except httpx.ReadTimeout as exc:
            raise StreamCutError(
                f"the stream stalled: no data for {self._idle_timeout:g} s",
                hint="the partial answer was kept; retry, or raise --timeout",
                request_id=self.request_id,
            ) from exc
        except httpx.TransportError as exc:
            raise StreamCutError(
                f"the stream broke off ({type(exc).__name__})",
                hint="the partial answer was kept; retry later",
                request_id=self.request_id,
            ) from exc
        finally:
            self.close()
        raise StreamCutError(
            "the stream ended before the answer was complete (no [DONE])",
            hint="the partial answer was kept; retry later",
            request_id=self.request_id,
        )

    def _is_done(self, data: str) -> bool:
        if data.strip() == "[DONE]":
            self.done = True
            return True
        return False

    def _chunk(self, data: str) -> ChatChunk:
        try:
            obj = json.loads(data)
        except ValueError:
            raise StreamCutError(
                "the stream carried a malformed event",
                hint="the partial answer was kept; retry later",
                request_id=self.request_id,
            ) from None
        if type(obj) is not dict and not isinstance(obj, Mapping):
            raise StreamCutError(
                "the stream carried a malformed event",
                hint="the partial answer was kept; retry later",
                request_id=self.request_id,
            )
        if obj.get("error"):
            raise error_from_stream_event(obj, self.request_id)
        return chunk_from_json(obj)

    def close(self) -> None:
        self._response.close()

    def __enter__(self) -> ChatStream:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


def chunk_from_json(obj: Mapping[str, Any]) -> ChatChunk:
    """One ``chat.completion.chunk``; usage from ``chunk.usage`` or ``choices[0].usage``."""
    # Called for every streamed piece: plain dicts are tested first (json.loads makes them),
    # the abstract Mapping check (slower) only for anything else.
    choices = obj.get("choices")
    choice: Mapping[str, Any] = {}
    if isinstance(choices, list) and choices:
        first = choices[0]
        if type(first) is dict or isinstance(first, Mapping):
            choice = first
    delta = choice.get("delta")
    if type(delta) is not dict and not isinstance(delta, Mapping):
        delta = {}
    usage = obj.get("usage") or choice.get("usage")
    model = obj.get("model")
    content = delta.get("content")
    reasoning = delta.get("reasoning_content")
    finish = choice.get("finish_reason")
    return new_chunk(
        content if isinstance(content, str) else "",
        reasoning if isinstance(reasoning, str) else "",
        finish if isinstance(finish, str) and finish else None,
        Usage.from_json(usage) if usage is not None and isinstance(usage, Mapping) else None,
        model if isinstance(model, str) else None,
    )


def _text(value: object) -> str:
    return value if isinstance(value, str) else ""
