"""Entry point. ``kimi --version`` answers here, before anything heavy is imported, and the
process ends without the interpreter's teardown."""

from __future__ import annotations

import sys


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if args == ["--version"] or args == ["-V"]:
        from kimi_cli import __version__

        sys.stdout.write(f"kimi {__version__}\n")
        return 0
    from kimi_cli.cli.app import run

    code = run(args)
    if argv is None:  # the program itself, not a caller in the same process
        _exit_now(code)
    return code


def _exit_now(code: int) -> None:
    """End the process without the interpreter's teardown, which would free every object
    one by one and collect garbage a last time: ~30 ms, a tenth of a one-shot chat
    (docs/performance.md). By now ``run`` has closed the history database and the HTTP
    clients; the atexit handlers still run and the output is flushed here. Python never
    promised ``__del__`` at exit. Returns (the ordinary exit follows) if another non-daemon
    thread is running or the output cannot be flushed."""
    import atexit
    import contextlib
    import os
    import threading

    main_thread = threading.main_thread()
    if any(t is not main_thread and not t.daemon for t in threading.enumerate()):
        return
    try:
        sys.stdout.flush()
        sys.stderr.flush()
    except (OSError, ValueError, AttributeError):
        return
    atexit._run_exitfuncs()  # they run once: the list is emptied
    with contextlib.suppress(OSError, ValueError, AttributeError):
        sys.stdout.flush()
        sys.stderr.flush()
    os._exit(code)


if __name__ == "__main__":
    sys.exit(main())
