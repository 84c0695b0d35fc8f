"""``python -X importtime`` for one kimi command, reduced to what is worth reading.

The command runs a few times (the first, untimed, fills the bytecode cache); each module's
times are the median over the runs. Two views: the largest imports by cumulative time among
the top three levels of the import tree (what kimi's code imports, and what that imports in
turn), listed in the order Python imported them with the depth as indent; and self time summed
per top-level package.
"""

from __future__ import annotations

import re
import statistics
import subprocess
from collections import defaultdict
from collections.abc import Sequence

_LINE = re.compile(r"import time:\s+(\d+) \|\s+(\d+) \|( +)(\S+)")


def _parse(text: str) -> list[tuple[str, int, int, int]]:
    """(module, level, self µs, cumulative µs) in the order Python printed them."""
    rows = []
    for line in text.splitlines():
        found = _LINE.match(line)
        if found:
            level = (len(found.group(3)) - 1) // 2
            rows.append((found.group(4), level, int(found.group(1)), int(found.group(2))))
    return rows


def breakdown(
    python: str,
    script: str,
    args: Sequence[str],
    env: dict[str, str],
    title: str,
    runs: int = 5,
    top: int = 15,
) -> list[str]:
    samples: dict[str, list[tuple[int, int]]] = defaultdict(list)
    levels: dict[str, int] = {}
    order: list[str] = []
    for index in range(runs + 1):
        done = subprocess.run(
            [python, "-X", "importtime", script, *args],
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
            timeout=120,
        )
        if index == 0:
            continue
        for module, level, own, cumulative in _parse(done.stderr):
            if module not in levels:
                levels[module] = level
                order.append(module)
            samples[module].append((own, cumulative))
    if not order:
        return [f"#### `{title}`", "", "(no -X importtime output)", ""]
    own_ms = {m: statistics.median(s for s, _ in samples[m]) / 1000 for m in order}
    cum_ms = {m: statistics.median(c for _, c in samples[m]) / 1000 for m in order}
    packages: dict[str, float] = defaultdict(float)
    for module in order:
        name = module.split(".")[0]
        if name == "kimi_cli":
            name = ".".join(module.split(".")[:2])
        packages[name] += own_ms[module]
    total = sum(own_ms.values())
    # The top of the tree: what kimi's code imports and what those import in turn.
    shallow = [m for m in order if levels[m] <= 2]
    largest = sorted(shallow, key=lambda m: -cum_ms[m])[:top]
    lines = [
        f"#### `{title}`",
        "",
        f"{len(order)} modules, {total:.1f} ms of import time in all (median of {runs} runs).",
        "",
        "| module (indent = import depth) | self ms | cumulative ms |",
        "|---|---:|---:|",
    ]
    for module in sorted(largest, key=order.index):
        indent = "&nbsp;&nbsp;" * levels[module]
        lines.append(f"| {indent}`{module}` | {own_ms[module]:.1f} | {cum_ms[module]:.1f} |")
    heavy = sorted(packages.items(), key=lambda item: -item[1])[:top]
    lines += [
        "",
        "Self time by package: " + ", ".join(f"{name} {ms:.1f}" for name, ms in heavy) + " (ms).",
        "",
    ]
    return lines
