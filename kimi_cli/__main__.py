"""Entry point. ``kimi --version`` answers here, before anything heavy is imported."""

from __future__ import annotations

import sys


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if args == ["--version"] or args == ["-V"]:
        from kimi_cli import __version__

        sys.stdout.write(f"kimi {__version__}\n")
        return 0
    import kimi_cli.cli.app as cli  # not ``from … import``: that asks the module for __path__

    code = cli.run(args)
    if argv is None:  # the program itself, not a caller in the same process
        # At exit the interpreter collects garbage over every object it still holds, several
        # times while it tears the modules down: ~30 ms of a ~250 ms one-shot chat
        # (docs/performance.md). Nothing left needs the collector (``run`` has closed the
        # history database and the HTTP clients), so the objects are moved out of its reach;
        # the exit stays the ordinary one (atexit handlers, flushing, joining threads).
        import gc

        gc.freeze()
    return code


if __name__ == "__main__":
    sys.exit(main())
