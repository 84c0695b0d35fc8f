"""Entry point. ``kimi --version`` answers here, before anything heavy is imported."""

from __future__ import annotations

import sys


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if args == ["--version"] or args == ["-V"]:
        from kimi_cli import __version__

        sys.stdout.write(f"kimi {__version__}\n")
        return 0
    from kimi_cli.cli.app import run

    return run(args)


if __name__ == "__main__":
    sys.exit(main())
