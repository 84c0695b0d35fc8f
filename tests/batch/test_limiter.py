"""Issue: kimi batch run. The concurrency limit halves on a rate limit, pauses for its
Retry-After, and grows back by one after as many successes in a row as the limit."""

from __future__ import annotations

import threading

from kimi_cli.batch.engine import Limiter


def test_halves_pauses_and_grows_back() -> None:
    now = [100.0]
    limiter = Limiter(8, clock=lambda: now[0])
    stopped = threading.Event()
    limiter.rate_limited(pause=2.0)
    assert limiter.limit == 4
    limiter.rate_limited(pause=1.0)
    assert limiter.limit == 2
    assert limiter._resume_at == 102.0  # the longer pause wins
    now[0] = 102.5
    assert limiter.acquire(stopped) and limiter.acquire(stopped)
    assert limiter.in_flight == 2
    for _ in range(2):
        limiter.succeeded()
    assert limiter.limit == 3
    for _ in range(3 + 4 + 5 + 6 + 7):
        limiter.succeeded()
    assert limiter.limit == 8  # never above the maximum
    limiter.succeeded()
    assert limiter.limit == 8


def test_never_below_one_and_a_stop_wakes_a_waiter() -> None:
    limiter = Limiter(1)
    for _ in range(5):
        limiter.rate_limited(pause=0.0)
    assert limiter.limit == 1
    stopped = threading.Event()
    assert limiter.acquire(stopped)
    got: list[bool] = []
    waiter = threading.Thread(target=lambda: got.append(limiter.acquire(stopped)))
    waiter.start()
    stopped.set()
    waiter.join(timeout=5)
    assert got == [False] and limiter.peak == 1
