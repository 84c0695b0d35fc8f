"""How much it costs to draw a streamed answer as Markdown on a terminal.

Feeds deterministic Markdown answers (headings, paragraphs, lists, code blocks, tables) of
2,000 and 20,000 words, one word per delta as a model streams them, into
``kimi_cli.render.markdown_stream.MarkdownStream``, and into the naive renderer other tools
use (shell-gpt: ``live.update(Markdown(full_text), refresh=True)`` on every delta) for
comparison. The console writes to a real pseudo-terminal whose other end a thread drains, so
the figures include what a terminal costs (100x40, truecolor); where there is no pty
(Windows) an in-memory file stands in.

The claim it checks: the streaming renderer is linear, so 20,000 words cost about 10x (at most
12x) what 2,000 words cost, while the naive one grows with the square of the length. The naive
renderer runs on the 2,000-word answer only, once, and is stopped after ``--naive-limit``
seconds (60): it needs about 100 s on two cores, most of the run. ``--naive-limit inf`` lets it
finish.

    python bench/markdown_render.py [--repeat 3] [--repeat-naive 1] [--naive-limit 60] [--stringio]

Prints a Markdown table on stdout.
"""

from __future__ import annotations

import argparse
import io
import math
import os
import random
import re
import statistics
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from rich.console import Console
from rich.live import Live
from rich.markdown import Markdown

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from a checkout

from kimi_cli.render.markdown_stream import MarkdownStream

WIDTH, HEIGHT = 100, 40

_WORDS = (
    "the model streams an answer while terminal draws each block once and never again so "
    "cost stays linear in length of text request response token cache context window user "
    "prompt system reasoning output input value function return list table code paragraph "
    "heading quote rule render console width height line word delta refresh frame buffer "
    "offset commit tail split parse lexer theme colour style cell wide character resize "
    "signal interrupt finish stream chunk event server client region key balance model id"
)
_VOCABULARY = _WORDS.split()


def generate(words: int, seed: int = 7) -> str:
    """A deterministic Markdown answer of at least ``words`` whitespace-separated words."""
    rng = random.Random(seed)

    def sentence(low: int, high: int) -> str:
        picked = [rng.choice(_VOCABULARY) for _ in range(rng.randint(low, high))]
        for index in rng.sample(range(len(picked)), k=min(2, len(picked))):
            picked[index] = rng.choice(("**{}**", "`{}`", "[{}](https://example.com/{})")).format(
                picked[index], picked[index]
            )
        return " ".join(picked).capitalize() + "."

    def paragraph() -> str:
        return " ".join(sentence(6, 16) for _ in range(rng.randint(3, 6)))

    def items() -> str:
        ordered = rng.random() < 0.5
        return "\n".join(
            f"{n + 1}. {sentence(4, 12)}" if ordered else f"- {sentence(4, 12)}"
            for n in range(rng.randint(3, 6))
        )

    def code() -> str:
        lines = ["```python", f"def {rng.choice(_VOCABULARY)}_{rng.randint(1, 99)}(data):"]
        for _ in range(rng.randint(4, 20)):
            name, other = rng.choice(_VOCABULARY), rng.choice(_VOCABULARY)
            lines.append(f"    {name} = data.get({other!r}, {rng.randint(0, 999)})  # {other}")
        lines += ["    return data", "```"]
        return "\n".join(lines)

    def table() -> str:
        rows = ["| name | kind | value |", "|------|------|------:|"]
        rows += [
            f"| {rng.choice(_VOCABULARY)} | {rng.choice(_VOCABULARY)} | {rng.randint(0, 9999)} |"
            for _ in range(rng.randint(3, 6))
        ]
        return "\n".join(rows)

    blocks: list[str] = []
    count = section = 0
    while count < words:
        section += 1
        part = [f"## {sentence(2, 5)[:-1]} {section}", paragraph()]
        part += [rng.choice((items, code, table, paragraph))() for _ in range(rng.randint(1, 3))]
        part.append(paragraph())
        blocks += part
        count += sum(len(block.split()) for block in part)
    return "\n\n".join(blocks) + "\n"


def deltas(markdown: str) -> list[str]:
    """One word per delta, with the whitespace before it."""
    return re.findall(r"\s*\S+|\s+$", markdown)


@contextmanager
def terminal(use_pty: bool) -> Iterator[tuple[Console, Callable[[], int]]]:
    """A Console on a pty (drained by a thread), or on a StringIO; yields it and a byte count."""
    if not use_pty:
        buffer = io.StringIO()
        console = Console(
            file=buffer, force_terminal=True, width=WIDTH, height=HEIGHT, color_system="truecolor"
        )
        yield console, lambda: len(buffer.getvalue().encode())
        return
    master, slave = os.openpty()
    received = [0]

    def drain() -> None:
        while True:
            try:
                data = os.read(master, 1 << 16)
            except OSError:  # EIO once the slave side is closed
                return
            if not data:
                return
            received[0] += len(data)

    reader = threading.Thread(target=drain, daemon=True)
    reader.start()
    out = open(slave, "w", encoding="utf-8")  # noqa: SIM115 - closed below, ends the drain
    try:
        console = Console(
            file=out, force_terminal=True, width=WIDTH, height=HEIGHT, color_system="truecolor"
        )
        yield console, lambda: received[0]
    finally:
        out.close()
        reader.join(timeout=10)
        os.close(master)


def run_stream(console: Console, parts: list[str], deadline: float) -> int:
    """Feed every delta (the deadline is for the naive renderer); return how many were fed."""
    with MarkdownStream(console) as stream:
        for part in parts:
            stream.feed(part)
    return len(parts)


def run_naive(console: Console, parts: list[str], deadline: float) -> int:
    """shell-gpt's MarkdownPrinter: re-parse and redraw the whole answer on every delta.
    Stops after the delta that crosses ``deadline``; returns how many deltas were fed."""
    full = ""
    with Live(console=console, auto_refresh=False) as live:
        for count, part in enumerate(parts, 1):
            full += part
            live.update(Markdown(full), refresh=True)
            if time.perf_counter() > deadline:
                return count
    return len(parts)


def measure(
    render: Callable[[Console, list[str], float], int],
    parts: list[str],
    repeat: int,
    use_pty: bool,
    limit: float = math.inf,
) -> tuple[float, int, int]:
    """Median seconds over ``repeat`` runs; the bytes the terminal received and the deltas fed
    in the last run (fewer than ``len(parts)`` when it hit the ``limit`` in seconds)."""
    times: list[float] = []
    sent = fed = 0
    for _ in range(repeat):
        with terminal(use_pty) as (console, received):
            start = time.perf_counter()
            fed = render(console, parts, start + limit)
            times.append(time.perf_counter() - start)
        sent = received()
    return statistics.median(times), sent, fed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeat", type=int, default=3, help="runs per streaming case")
    parser.add_argument("--repeat-naive", type=int, default=1, help="runs of the naive case")
    parser.add_argument(
        "--naive-limit", type=float, default=60.0, help="seconds before the naive run stops"
    )
    parser.add_argument("--stringio", action="store_true", help="write to memory, not a pty")
    args = parser.parse_args()
    use_pty = hasattr(os, "openpty") and not args.stringio

    rows: list[tuple[str, str, str, float, int, int]] = []
    medians: dict[int, float] = {}
    for words in (2_000, 20_000):
        parts = deltas(generate(words))
        seconds, sent, _ = measure(run_stream, parts, args.repeat, use_pty)
        medians[words] = seconds
        rows.append(
            (
                "MarkdownStream",
                f"{len(parts):,}",
                f"{seconds:.3f}",
                len(parts) / seconds,
                sent,
                args.repeat,
            )
        )
    parts = deltas(generate(2_000))
    naive, sent, fed = measure(run_naive, parts, args.repeat_naive, use_pty, args.naive_limit)
    stopped = fed < len(parts)
    rows.append(
        (
            "naive `Live(Markdown(full))`",
            f"{fed:,} of {len(parts):,}" if stopped else f"{len(parts):,}",
            f"> {naive:.1f} (stopped)" if stopped else f"{naive:.3f}",
            fed / naive,
            sent,
            args.repeat_naive,
        )
    )

    where = "a pty" if use_pty else "a StringIO"
    print(f"Streaming Markdown, one word per delta, {WIDTH}x{HEIGHT} terminal on {where},")
    print(f"Python {sys.version.split()[0]}, {os.cpu_count()} CPUs.\n")
    print("| renderer | words | median s | words/s | bytes to terminal | runs |")
    print("|---|---:|---:|---:|---:|---:|")
    for name, words_text, seconds_text, rate, sent, runs in rows:
        print(f"| {name} | {words_text} | {seconds_text} | {rate:,.0f} | {sent:,} | {runs} |")
    ratio = medians[20_000] / medians[2_000]
    print(f"\n20k/2k time ratio: {ratio:.1f} (linear: 10, limit: 12).")
    if stopped:
        print(
            f"The naive renderer was stopped after {args.naive_limit:.0f} s, {fed:,} words in; "
            f"it had already taken {naive / medians[2_000]:.0f}x as long as MarkdownStream "
            "took for all 2,000 words."
        )
    else:
        print(f"At 2,000 words the naive renderer takes {naive / medians[2_000]:.0f}x as long.")


if __name__ == "__main__":
    main()
