"""``kimi batch run``: the requests sent now, several at a time, on one connection pool.

At most ``concurrency`` requests are in flight. A 429 that is a rate limit (not a quota)
halves the limit and pauses every sender for its ``Retry-After``; the limit grows back by
one after as many successes in a row as the limit itself. A quota or authentication
error, a rate limit that asks for more than ``MAX_PAUSE_S``, or ``OUTAGE_AFTER`` requests
in a row that failed temporarily after all their attempts, stops the run: every other
request would fail the same way. Each success is
handed to ``on_result`` (the journal) as it arrives, so a killed run loses nothing that
finished.
"""

from __future__ import annotations

import random
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

from kimi_cli.api.types import Completion
from kimi_cli.errors import AuthError, ExitCode, KimiError, QuotaError, TemporaryError

#: Longest pause honoured for one Retry-After; a longer one stops the run (exit 75).
MAX_PAUSE_S = 60.0
#: Attempts per request for temporary failures (5xx, timeouts, network) and rate limits.
MAX_TEMPORARY_ATTEMPTS = 4
MAX_RATE_LIMIT_ATTEMPTS = 12
BACKOFF_BASE_S = 0.5
#: Requests in a row that failed temporarily after all their attempts (5xx, timeouts, the
#: network), none answered in between: the API is down or out of reach, and every other
#: request would take its attempts to fail alike. The run stops (exit 75), resumable.
OUTAGE_AFTER = 5

Send = Callable[[dict[str, Any]], Completion]


class InternalError(KimiError):
    """A sender thread died of something that is not a KimiError (a bug): it stops the run
    and reaches the caller as the fatal error."""

    exit_code = ExitCode.INTERNAL


@dataclass(frozen=True)
class Task:
    custom_id: str
    body: dict[str, Any]


@dataclass
class Progress:
    total: int
    done: int = 0
    failed: int = 0
    in_flight: int = 0
    limit: int = 0
    rate_limited: int = 0


class Limiter:
    """Adaptive concurrency: a limit that halves on a rate limit and grows back."""

    def __init__(self, maximum: int, clock: Callable[[], float] = time.monotonic) -> None:
        self.maximum = maximum
        self.limit = maximum
        self.in_flight = 0
        self.peak = 0
        self._streak = 0
        self._resume_at = 0.0
        self._clock = clock
        self._cond = threading.Condition()

    def acquire(self, stopped: threading.Event) -> bool:
        with self._cond:
            while not stopped.is_set():
                wait = self._resume_at - self._clock()
                if wait <= 0 and self.in_flight < self.limit:
                    self.in_flight += 1
                    self.peak = max(self.peak, self.in_flight)
                    return True
                self._cond.wait(timeout=min(max(wait, 0.05), 0.5))
            return False

    def release(self) -> None:
        with self._cond:
            self.in_flight -= 1
            self._cond.notify_all()

    def succeeded(self) -> None:
        with self._cond:
            self._streak += 1
            if self.limit < self.maximum and self._streak >= self.limit:
                self.limit += 1
                self._streak = 0
                self._cond.notify_all()

    def rate_limited(self, pause: float) -> None:
        with self._cond:
            self.limit = max(1, self.limit // 2)
            self._streak = 0
            self._resume_at = max(self._resume_at, self._clock() + pause)


@dataclass
class Engine:
    send: Send
    concurrency: int
    on_result: Callable[[str, Completion | None, KimiError | None], None]
    on_progress: Callable[[Progress], None] = lambda progress: None
    sleep: Callable[[float], None] = time.sleep
    fatal: KimiError | None = None
    progress: Progress = field(default_factory=lambda: Progress(total=0))

    def run(self, tasks: Iterable[Task], total: int) -> None:
        """Send every task; returns when all are done, or raises the fatal error."""
        self.progress = Progress(total=total, limit=self.concurrency)
        self.limiter = Limiter(self.concurrency)
        self._stopped = threading.Event()
        self._lock = threading.Lock()
        self._tasks: Iterator[Task] = iter(tasks)
        self._failing = 0  # requests in a row that failed temporarily: see OUTAGE_AFTER
        threads = [
            threading.Thread(target=self._worker, daemon=True, name=f"kimi-batch-{n}")
            for n in range(self.concurrency)
        ]
        for thread in threads:
            thread.start()
        try:
            for thread in threads:
                while thread.is_alive():
                    thread.join(timeout=0.2)
        except BaseException:
            self._stopped.set()  # Ctrl-C: stop taking work; what finished is journaled
            raise
        if self.fatal is not None:
            raise self.fatal

    def _next(self) -> Task | None:
        with self._lock:
            if self._stopped.is_set():
                return None
            return next(self._tasks, None)

    def _worker(self) -> None:
        try:
            self._work()
        except BaseException as exc:  # a journal write that failed, or a bug: stop all
            if not self._stopped.is_set():
                self.fatal = self.fatal or (
                    exc
                    if isinstance(exc, KimiError)
                    else InternalError(f"{type(exc).__name__}: {exc}")
                )
                self._stopped.set()

    def _work(self) -> None:
        while True:
            task = self._next()
            if task is None:
                return
            completion, error = self._attempts(task)
            if self._stopped.is_set() and error is None and completion is None:
                return
            self.on_result(task.custom_id, completion, error)
            with self._lock:
                if error is None:
                    self.progress.done += 1
                else:
                    self.progress.failed += 1
                self._report()

    def _attempts(self, task: Task) -> tuple[Completion | None, KimiError | None]:
        temporary = rate_limits = 0
        while True:
            if not self.limiter.acquire(self._stopped):
                return None, None
            with self._lock:
                self.progress.in_flight = self.limiter.in_flight
                self._report()
            try:
                completion = self.send(task.body)
            except (QuotaError, AuthError) as exc:
                self.fatal = self.fatal or exc
                self._stopped.set()
                return None, exc
            except TemporaryError as exc:
                if exc.status_code == 429:
                    rate_limits += 1
                    pause = exc.retry_after if exc.retry_after is not None else 1.0
                    if pause > MAX_PAUSE_S:
                        # A wait of many minutes (a daily token limit): every other request
                        # would be refused alike, so the run stops and says when to retry.
                        self.fatal = self.fatal or exc
                        self._stopped.set()
                        return None, exc
                    if rate_limits >= MAX_RATE_LIMIT_ATTEMPTS:
                        return None, exc
                    self.limiter.rate_limited(pause)
                    with self._lock:
                        self.progress.rate_limited += 1
                    continue
                temporary += 1
                if temporary >= MAX_TEMPORARY_ATTEMPTS:
                    self._failed_temporarily(exc)
                    return None, exc
                wait = exc.retry_after or BACKOFF_BASE_S * 2.0**temporary
                self.sleep(min(wait, MAX_PAUSE_S) * random.uniform(0.75, 1.0))
                continue
            except KimiError as exc:
                return None, exc
            finally:
                self.limiter.release()
            self.limiter.succeeded()
            with self._lock:
                self._failing = 0
            return completion, None

    def _failed_temporarily(self, exc: TemporaryError) -> None:
        with self._lock:
            self._failing += 1
            if self._failing < OUTAGE_AFTER or self.fatal is not None:
                return
            self.fatal = TemporaryError(
                f"stopped after {self._failing} requests in a row failed: {exc.message}",
                hint=f"{exc.hint}; run the same command again to send the rest"
                if exc.hint
                else "retry later: run the same command again to send the rest",
                status_code=exc.status_code,
                error_type=exc.error_type,
            )
            self._stopped.set()

    def _report(self) -> None:
        self.progress.in_flight = self.limiter.in_flight
        self.progress.limit = self.limiter.limit
        self.on_progress(self.progress)
