"""Speed of the history at scale: ``usage``, ``history search``, ``list`` and ``show``.

    python bench/history_scale.py [--messages 100000] [--repeat 5]

Builds throw-away data dirs (nothing of yours is touched): one with ``--messages``
messages (half prompts, half priced answers, in conversations of 10 messages), one with as
many conversations as messages / 1 (two messages each, 100,000 by default), one with 100
conversations and one with a single conversation of ``--messages`` messages. Then times each
command as a whole process (``python -m kimi_cli``, the median of ``--repeat`` runs after one
untimed run) and the query alone in-process, and prints a Markdown table. ``history show``
is timed in a pipe and on a pseudo-terminal of 100 columns (Markdown drawn, read as fast as
it comes), ``history export --format json`` in a pipe. Targets: usage ≤ 0.5 s and search
≤ 0.2 s over 100,000 messages; ``history list`` with 100,000 conversations ≤ 1.5× the time
with 100; ``history show`` of 100,000 messages ≤ 5 s on a terminal.
"""

from __future__ import annotations

import argparse
import os
import pty
import random
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

from kimi_cli.history import HistoryStore

WORDS = [
    "alpha",
    "beta",
    "gamma",
    "delta",
    "commit",
    "message",
    "diff",
    "refactor",
    "python",
    "rust",
    "error",
    "stack",
    "trace",
    "moon",
    "shot",
    "kimi",
    "token",
    "cache",
    "price",
    "budget",
    "model",
    "retire",
    "search",
    "export",
    "history",
]


def _build(path: Path, conversations: int, per_conversation: int) -> None:
    """Rows written in bulk through the real schema (its triggers keep the index)."""
    rng = random.Random(7)
    start = datetime(2026, 9, 1, tzinfo=UTC)
    with HistoryStore(path) as store:
        store.recent(limit=1)  # create and migrate
        db = store._db  # bulk load: one transaction instead of one per row
        assert db is not None
        db.execute("BEGIN")
        convs, messages, usage = [], [], []
        message_id = 0
        for c in range(conversations):
            cid = f"c{c:07d}"
            at = (start + timedelta(seconds=c * 60)).isoformat(timespec="microseconds")
            convs.append((cid, f"title {c}", "kimi-k3.1-pro", at, at, c + 1))
            for m in range(per_conversation):
                message_id += 1
                role = "user" if m % 2 == 0 else "assistant"
                text = " ".join(rng.choice(WORDS) for _ in range(30))
                priced = role == "assistant"
                messages.append(
                    (
                        message_id,
                        cid,
                        role,
                        text,
                        at,
                        *(
                            (1200, 300, 800, 0.0045, "USD")
                            if priced
                            else (None, None, None, None, None)
                        ),
                    )
                )
                if priced:
                    usage.append((at, at[:10], cid, message_id, 1200, 800, 300, 0.0045))
        db.executemany("INSERT INTO conversations VALUES (?, ?, ?, ?, ?, ?)", convs)
        db.executemany(
            "INSERT INTO messages (id, conversation_id, role, content, created_at,"
            " input_tokens, output_tokens, cached_tokens, cost, currency)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            messages,
        )
        db.executemany(
            "INSERT INTO usage (at, day, kind, conversation_id, message_id, model,"
            " input_tokens, cached_tokens, output_tokens, cost, currency)"
            " VALUES (?, ?, 'chat', ?, ?, 'kimi-k3.1-pro', ?, ?, ?, ?, 'USD')",
            usage,
        )
        db.execute("COMMIT")
        db.execute("PRAGMA wal_checkpoint(TRUNCATE)")


def _process(data_dir: Path, *args: str) -> Callable[[], None]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("KIMI_", "MOONSHOT_"))}
    env.update(
        KIMI_DATA_DIR=str(data_dir),
        KIMI_CONFIG_DIR=str(data_dir / "config"),
        KIMI_CACHE_DIR=str(data_dir / "cache"),
    )

    def run() -> None:
        subprocess.run(
            [sys.executable, "-m", "kimi_cli", *args],
            env=env,
            check=True,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )

    return run


def _on_a_terminal(data_dir: Path, *args: str) -> Callable[[], None]:
    """The command with its stdout on a pseudo-terminal of 100 columns, read to the end."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("KIMI_", "MOONSHOT_"))}
    env.update(
        KIMI_DATA_DIR=str(data_dir),
        KIMI_CONFIG_DIR=str(data_dir / "config"),
        KIMI_CACHE_DIR=str(data_dir / "cache"),
        COLUMNS="100",
        LINES="40",
        TERM="xterm-256color",
    )

    def run() -> None:
        main, side = pty.openpty()
        proc = subprocess.Popen(
            [sys.executable, "-m", "kimi_cli", *args],
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=side,
            stderr=subprocess.DEVNULL,
        )
        os.close(side)
        try:
            while os.read(main, 1 << 20):
                pass
        except OSError:  # EIO: the terminal's other side closed
            pass
        finally:
            os.close(main)
        if proc.wait() != 0:
            raise SystemExit(f"{' '.join(args)} failed on a terminal")

    return run


def _rounds(works: dict[str, Callable[[], object]], repeat: int) -> dict[str, list[float]]:
    """Each work once per round, interleaved, so a burst of load on a shared machine hits
    all alike; one untimed round first warms the page cache and the bytecode."""
    for work in works.values():
        work()
    times: dict[str, list[float]] = {name: [] for name in works}
    for _ in range(repeat):
        for name, work in works.items():
            began = time.perf_counter()
            work()
            times[name].append(time.perf_counter() - began)
    return times


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    n = args.messages
    rows: list[tuple[str, float, float, str]] = []
    with tempfile.TemporaryDirectory(prefix="kimi-bench-") as tmp:
        big, many, few, one = (Path(tmp) / name for name in ("big", "many", "few", "one"))
        _build(big / "history.db", n // 10, 10)
        _build(one / "history.db", 1, n)
        _build(many / "history.db", n, 2)
        _build(few / "history.db", 100, 2)
        store = HistoryStore(big / "history.db")
        many_store, few_store = HistoryStore(many / "history.db"), HistoryStore(few / "history.db")
        times = _rounds(
            {
                "usage query": lambda: store.usage_totals(since_day="2026-01-01", by="day"),
                "usage": _process(big, "usage", "--since", "2026-01-01", "--json"),
                "search query": lambda: store.search("refactor budget"),
                "search": _process(big, "history", "search", "refactor budget"),
                "list many query": lambda: many_store.recent(limit=20),
                "list many": _process(many, "history", "list"),
                "list few query": lambda: few_store.recent(limit=20),
                "list few": _process(few, "history", "list"),
                "show pipe": _process(one, "history", "show", "c0000000"),
                "show tty": _on_a_terminal(one, "history", "show", "c0000000"),
                "export json": _process(one, "history", "export", "c0000000", "--format", "json"),
                "python -c pass": lambda: subprocess.run(
                    [sys.executable, "-c", "pass"], check=True
                ),
            },
            args.repeat,
        )
        for each in (store, many_store, few_store):
            each.close()
    med = {name: statistics.median(values) for name, values in times.items()}
    ratios = [m / f for m, f in zip(times["list many"], times["list few"], strict=True)]
    rows = [
        (f"kimi usage --json, {n:,} messages", med["usage"], med["usage query"], "≤ 0.5 s"),
        (f"kimi history search, {n:,} messages", med["search"], med["search query"], "≤ 0.2 s"),
        (f"kimi history list, {n:,} conversations", med["list many"], med["list many query"], ""),
        ("kimi history list, 100 conversations", med["list few"], med["list few query"], ""),
    ]
    shows = [
        (f"kimi history show, {n:,} messages, in a pipe", med["show pipe"], ""),
        (f"kimi history show, {n:,} messages, on a terminal", med["show tty"], "≤ 5 s"),
        (f"kimi history export --format json, {n:,} messages", med["export json"], ""),
    ]
    print("| command | whole process | query alone | target |")
    print("|---|---:|---:|---|")
    for label, process, query, target in rows:
        print(f"| {label} | {process * 1000:.0f} ms | {query * 1000:.1f} ms | {target} |")
    for label, process, target in shows:
        print(f"| {label} | {process * 1000:.0f} ms | | {target} |")
    print(
        f"\n`python -c pass`: {med['python -c pass'] * 1000:.0f} ms. history list, {n:,}"
        f" conversations over 100: {statistics.median(ratios):.2f}× (median of the rounds'"
        " ratios; target ≤ 1.5×)"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
