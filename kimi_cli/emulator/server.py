"""HTTP plumbing: a threading HTTP/1.1 server (keep-alive) and the request handler."""

from __future__ import annotations

import contextlib
import json
import socket
import sys
import threading
import traceback
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

from .api_files import upload
from .endpoints import answer as json_answer
from .faults import (
    CUT_FAULT,
    DELAY_FAULT,
    ERROR_FAULTS,
    STORM_FAULT,
    STREAM_ERROR_EVENT,
    RawAnswer,
    fault_answer,
)
from .multipart import BodyStream
from .replies import Reply, plan_reply
from .routes import route
from .rules import ApiError, ChatRequest, bad, check_chat
from .state import EmulatorState
from .wire import (
    DONE,
    MALFORMED,
    ChunkedWriter,
    ClientGone,
    Events,
    completion_body,
    error_event,
    usage_body,
)

_REASONS = {499: "Client Closed Request"}
ARGUMENT_PIECE = 8  # characters of tool-call arguments per stream event
_NO_JSON = object()


@dataclass(frozen=True)
class Request:
    endpoint: str | None
    path: str
    item: str
    query: dict[str, list[str]]
    body: Any
    stream: BodyStream


class EmulatorHTTPServer(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False

    def __init__(self, address: tuple[str, int], state: EmulatorState, verbose: bool) -> None:
        self.state = state
        self.verbose = verbose
        self.stopping = threading.Event()
        self.connections: set[socket.socket] = set()
        self.connections_lock = threading.Lock()
        super().__init__(address, Handler)

    def reset(self) -> EmulatorState:
        """Swap in a fresh state; requests still running finish against the old one."""
        old, self.state = self.state, self.state.fresh()
        old.close()
        return self.state

    def handle_error(self, request: Any, client_address: Any) -> None:
        """Quiet: a client that goes away is normal; other errors show only when verbose."""
        if self.verbose and not isinstance(sys.exc_info()[1], ConnectionError):
            super().handle_error(request, client_address)

    def close_connections(self) -> None:
        """Shut the open connections so that idle keep-alive threads end too."""
        with self.connections_lock:
            connections = list(self.connections)
        for connection in connections:
            with contextlib.suppress(OSError):
                connection.shutdown(socket.SHUT_RDWR)


class EmulatorHTTPServer6(EmulatorHTTPServer):
    address_family = socket.AF_INET6


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "kimi-emulator"
    disable_nagle_algorithm = True
    server: EmulatorHTTPServer
    request_id = ""
    response_started = False

    # --- plumbing -----------------------------------------------------------------------------

    def setup(self) -> None:
        super().setup()
        with self.server.connections_lock:
            self.server.connections.add(self.connection)

    def finish(self) -> None:
        with self.server.connections_lock:
            self.server.connections.discard(self.connection)
        with contextlib.suppress(OSError):
            super().finish()

    def version_string(self) -> str:
        return self.server_version

    def log_message(self, format: str, *args: Any) -> None:
        if self.server.verbose:
            super().log_message(format, *args)

    def do_GET(self) -> None:
        self._handle("GET")

    def do_POST(self) -> None:
        self._handle("POST")

    def do_PUT(self) -> None:
        self._handle("PUT")

    def do_DELETE(self) -> None:
        self._handle("DELETE")

    def do_PATCH(self) -> None:
        self._handle("PATCH")

    def _headers_common(self) -> None:
        self.send_header("x-trace-id", self.request_id)
        self.send_header("Msh-Request-Id", self.request_id)

    def _send(
        self, status: int, content_type: str, body: bytes, headers: dict[str, str] | None = None
    ) -> None:
        self.response_started = True
        try:
            self.send_response(status, _REASONS.get(status))
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            self._headers_common()
            for name, value in (headers or {}).items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(body)
            self.wfile.flush()
        except OSError as exc:
            raise ClientGone from exc

    def _send_json(self, status: int, value: Any, headers: dict[str, str] | None = None) -> None:
        body = json.dumps(value, ensure_ascii=False).encode("utf-8")
        self._send(status, "application/json", body, headers)

    def _drop(self) -> None:
        """Close the connection without another byte (a cut stream, a vanished response)."""
        self.close_connection = True
        with contextlib.suppress(OSError):
            self.connection.shutdown(socket.SHUT_RDWR)

    def _pause(self, seconds: float) -> None:
        """Sleep, but wake at once when the server stops (then the connection is dropped)."""
        if self.server.stopping.wait(seconds):
            raise ClientGone

    # --- dispatch -----------------------------------------------------------------------------

    def _handle(self, method: str) -> None:
        state = self.server.state
        self.request_id = f"emu-{state.next_id()}"
        self.response_started = False
        parts = urlsplit(self.path)
        path = parts.path
        endpoint, item = route(method, path)
        try:
            try:
                chunked = "chunked" in self.headers.get("Transfer-Encoding", "").lower()
                length = int(self.headers.get("Content-Length") or 0)
                stream = BodyStream(self.rfile, chunked=chunked, length=length)
                raw = b"" if endpoint == "files.upload" else stream.read_all()
            except (ValueError, OSError):
                self.close_connection = True
                self._send_json(400, bad("Invalid request: could not read the body").body())
                return
            text = raw.decode("utf-8", errors="replace")
            try:
                body: Any = json.loads(text) if text else None
            except ValueError:
                body = _NO_JSON
            if path.startswith("/_emulator/"):
                self._control(method, path, body)
                return
            recorded = text if body is _NO_JSON else body
            if endpoint == "files.upload":
                recorded = {"content_type": self.headers.get("Content-Type", "")}
            state.record(method, path, endpoint, recorded, dict(self.headers.items()))
            request = Request(endpoint, path, item, parse_qs(parts.query), body, stream)
            self._api(request)
        except ClientGone:
            state.count_disconnect()
            self._drop()
        except Exception as exc:  # a bug in the emulator: answer 500, stay up
            if self.server.verbose:
                traceback.print_exc()
            if self.response_started:  # too late for an error answer
                self._drop()
                return
            try:
                error = ApiError(500, "server_error", f"emulator bug: {exc!r}")
                self._send_json(500, error.body())
            except ClientGone:
                self._drop()

    def _api(self, request: Request) -> None:
        state = self.server.state
        endpoint, body = request.endpoint, request.body
        try:
            try:
                if endpoint is None:
                    raise ApiError(404, "resource_not_found_error", f"Not found: {request.path}")
                self._authenticate()
                is_dict = isinstance(body, dict)
                stream = endpoint == "chat" and is_dict and body.get("stream") is True
                faults = {f.name for f in state.take_faults(endpoint, stream)}
                if DELAY_FAULT in faults:
                    self._pause(state.delay)
                model_id = body.get("model") if is_dict else None
                for name in faults:
                    fault = fault_answer(name, model_id if isinstance(model_id, str) else "unknown")
                    if isinstance(fault, ApiError):
                        raise fault
                    if isinstance(fault, RawAnswer):
                        self._send(fault.status, fault.content_type, fault.body.encode("utf-8"))
                        return
                if CUT_FAULT in faults and not stream:
                    self._drop()
                    return
                if body is _NO_JSON and endpoint not in ("files.upload",):
                    raise bad("Invalid request: the body is not valid JSON")
                if endpoint == "files.upload":
                    content_type = self.headers.get("Content-Type", "")
                    stored = upload(state.files, content_type, request.stream, faults)
                    state.stats_.count_upload(stored.bytes)
                    self._send_json(200, stored.object())
                elif endpoint == "chat":
                    self._chat(body, faults)
                else:
                    reply = json_answer(state, endpoint, request.item, request.query, body, faults)
                    if isinstance(reply, bytes):
                        self._send(200, "text/plain; charset=utf-8", reply)
                    else:
                        self._send_json(200, reply)
            finally:
                request.stream.drain()
        except ApiError as error:
            self._send_json(error.status, error.body(), error.headers)

    def _authenticate(self) -> None:
        """No key is ``incorrect_api_key_error``; an unknown one (or another
        region's) ``invalid_authentication_error``."""
        header = self.headers.get("Authorization")
        if header is None or header[:7].lower() != "bearer ":
            raise ApiError(401, "incorrect_api_key_error", "Incorrect API key provided")
        if not self.server.state.key_ok(header[7:].strip()):
            raise ApiError(401, "invalid_authentication_error", "Invalid Authentication")

    def _control(self, method: str, path: str, body: Any) -> None:
        state = self.server.state
        if (method, path) == ("GET", "/_emulator/stats"):
            self._send_json(200, state.stats())
        elif (method, path) == ("GET", "/_emulator/config"):
            self._send_json(200, state.config())
        elif (method, path) == ("POST", "/_emulator/reset"):
            self._send_json(200, self.server.reset().config())
        elif (method, path) == ("POST", "/_emulator/config"):
            try:
                if not isinstance(body, dict):
                    raise ValueError("the body must be a JSON object")
                self._send_json(200, state.configure(body))
            except ValueError as exc:
                self._send_json(400, bad(str(exc)).body())
        else:
            error = ApiError(404, "resource_not_found_error", f"Not found: {path}")
            self._send_json(404, error.body())

    # --- chat ---------------------------------------------------------------------------------

    def _chat(self, body: Any, faults: set[str]) -> None:
        state = self.server.state
        if STORM_FAULT in faults:
            state.start_storm()
        if state.take_storm():
            state.stats_.count_rate_limited()
            status, type_, message, headers = ERROR_FAULTS["rate_limit"]
            raise ApiError(status, type_, message, headers)
        if state.current_balance()["available"] <= 0:  # no balance, no inference
            status, type_, message, _ = ERROR_FAULTS["quota"]
            raise ApiError(status, type_, message)
        request = check_chat(body, state.model_list())
        with state.stats_.chat_in_flight():
            if state.latency:
                self._pause(state.latency)
            reply = plan_reply(request, faults)
            cached = request.cached_tokens
            if request.cache_key is not None:
                messages = request.messages
                cached = state.prompt_cache.cached_tokens(
                    request.cache_key, messages, request.prompt_tokens
                )
            usage = usage_body(request.prompt_tokens, reply.answer, cached)
            completion_id = f"chatcmpl-emu{state.next_id():06d}"
            if not request.stream:
                value = completion_body(
                    completion_id,
                    request.model_id,
                    reply.answer,
                    usage,
                    reasons=request.reasons,
                    tool_calls=reply.tool_calls,
                )
                self._send_json(200, value)
                return
            self._stream(request, completion_id, reply, usage, faults)

    def _stream(
        self,
        request: ChatRequest,
        completion_id: str,
        reply: Reply,
        usage: dict[str, int],
        faults: set[str],
    ) -> None:
        state = self.server.state
        answer = reply.answer
        self.response_started = True
        try:
            self.send_response(200)
            self.send_header("Content-Type", "text/event-stream")
            self.send_header("Cache-Control", "no-cache")
            chunked = self.request_version != "HTTP/1.0"
            if chunked:
                self.send_header("Transfer-Encoding", "chunked")
            else:
                self.close_connection = True
                self.send_header("Connection", "close")
            self._headers_common()
            self.end_headers()
        except OSError as exc:
            raise ClientGone from exc
        events = Events(completion_id, request.model_id, include_usage=request.include_usage)
        out = ChunkedWriter(self.wfile, chunked=chunked)
        out.add(events.role())
        for piece in answer.reasoning:
            out.add(events.reasoning(piece))
        for index, call in enumerate(reply.tool_calls):
            out.add(events.tool_call_start(index, call))
            arguments = call["function"]["arguments"]
            for start in range(0, len(arguments), ARGUMENT_PIECE):
                out.add(
                    events.tool_call_arguments(index, arguments[start : start + ARGUMENT_PIECE])
                )
        content: list[str] = answer.content
        count = len(content)
        early = (count + 1) // 2
        cut_at = count // 2 if CUT_FAULT in faults else -1
        malformed_at = count // 2 if "malformed_sse" in faults else -1
        error_at = min(3, early) if "stream_error" in faults else -1
        stall_at = min(5, early) if "stall" in faults else -1
        delay = state.token_delay
        for i in range(count + 1):
            if i == cut_at:
                out.flush()
                self._drop()
                return
            if i == malformed_at:
                out.add(MALFORMED)
            if i == error_at:
                out.add(error_event(STREAM_ERROR_EVENT))
                out.close()
                return
            if i == stall_at:
                out.flush()
                self._pause(state.stall)
            if i == count:
                break
            if delay:
                out.flush()
                self._pause(delay)
            out.add(events.content(content[i]))
        # As live traffic: usage always rides on the finish chunk's choice; include_usage adds
        # the extra chunk repeating the same numbers (a client must count them once).
        out.add(events.finish(answer.finish_reason, usage))
        if request.include_usage:
            out.add(events.usage(usage))
        out.add(DONE)
        out.close()
