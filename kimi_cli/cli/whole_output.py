"""stdout that writes everything it is given, or raises.

A write larger than the pipe's buffer, cut short because the reader went away
(``kimi history export ID | head -c1``), comes back from Python's buffered writer as a
short count and no error; the text layer ignores the count, the rest is dropped in silence
and the command exits 0. Here the rest is written too, so the closed pipe raises
``BrokenPipeError``, which ``run`` turns into exit 141 like every broken pipe.
"""

from __future__ import annotations

import io
import sys
from typing import Any


class WholeWriter(io.BufferedWriter):
    def write(self, data: Any) -> int:
        view = memoryview(data).cast("B")
        done = super().write(view)
        while done < len(view):
            done += super().write(view[done:])
        return len(view)


def install() -> None:
    """Put a :class:`WholeWriter` under ``sys.stdout`` when it is the process's own stdout (not
    a caller's capture); the text settings (UTF-8, line buffering) are kept."""
    out = sys.stdout
    if out is not sys.__stdout__ or type(out) is not io.TextIOWrapper:
        return
    try:
        fd = out.fileno()
        out.flush()
    except (OSError, ValueError):
        return
    raw = io.FileIO(fd, "w", closefd=False)
    sys.stdout = io.TextIOWrapper(
        WholeWriter(raw),
        encoding=out.encoding,
        errors=out.errors,
        line_buffering=out.line_buffering,
        write_through=out.write_through,
    )
