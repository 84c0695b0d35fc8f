"""Request statistics, so tests can prove what was sent — and what was not."""

from __future__ import annotations

import copy
import threading
from collections import deque
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any


class Stats:
    """Counters behind one lock. ``snapshot`` gives the ``GET /_emulator/stats`` body."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.reset()

    def reset(self) -> None:
        self._requests: dict[str, int] = {}
        self._endpoints: dict[str, int] = {}
        self._bodies: dict[str, deque[Any]] = {}
        self._total = 0
        self._chat_requests: list[Any] = []
        self._last_request: dict[str, Any] | None = None
        self._disconnects = 0
        self._in_flight = 0
        self._max_in_flight = 0
        self._rate_limited = 0
        self._uploaded_bytes = 0

    def record(
        self,
        method: str,
        path: str,
        endpoint: str | None,
        body: Any,
        headers: Mapping[str, str],
        keep: int,
    ) -> None:
        name = f"{method} {path}"
        shown = {k: v for k, v in headers.items() if k.lower() != "authorization"}
        with self._lock:
            self._requests[name] = self._requests.get(name, 0) + 1
            self._total += 1
            if endpoint is not None:
                self._endpoints[endpoint] = self._endpoints.get(endpoint, 0) + 1
                bodies = self._bodies.get(endpoint)
                if bodies is None or bodies.maxlen != keep:
                    bodies = self._bodies[endpoint] = deque(bodies or (), maxlen=keep)
                bodies.append(body)
            if endpoint == "chat":
                self._chat_requests.append(body)
            self._last_request = {"method": method, "path": path, "body": body, "headers": shown}

    def count_disconnect(self) -> None:
        with self._lock:
            self._disconnects += 1

    def count_rate_limited(self) -> None:
        with self._lock:
            self._rate_limited += 1

    def count_upload(self, size: int) -> None:
        with self._lock:
            self._uploaded_bytes += size

    @contextmanager
    def chat_in_flight(self) -> Iterator[None]:
        """Count a chat request from its check to its last byte."""
        with self._lock:
            self._in_flight += 1
            self._max_in_flight = max(self._max_in_flight, self._in_flight)
        try:
            yield
        finally:
            with self._lock:
                self._in_flight -= 1

    def snapshot(self) -> dict[str, Any]:
        with self._lock:
            return copy.deepcopy(
                {
                    "requests": self._requests,
                    "endpoints": self._endpoints,
                    "bodies": {k: list(v) for k, v in self._bodies.items()},
                    "total": self._total,
                    "chat_requests": self._chat_requests,
                    "last_request": self._last_request,
                    "disconnects": self._disconnects,
                    "chat_in_flight": self._in_flight,
                    "chat_max_in_flight": self._max_in_flight,
                    "rate_limited": self._rate_limited,
                    "uploaded_bytes": self._uploaded_bytes,
                }
            )
