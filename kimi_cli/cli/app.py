"""The ``kimi`` application: global options, command registration, and the one place
where failures become a line on stderr and an exit code."""

# No ``from __future__ import annotations``: Typer reads the annotations of ``root`` on
# every run, and evaluating them from strings costs more than the rest of parsing
# (docs/performance.md).

import errno
import importlib
import os
import signal
import sys
import traceback
from collections.abc import Sequence
from types import FrameType
from typing import Annotated

import typer

from kimi_cli.cli import coercion
from kimi_cli.cli.state import AppState
from kimi_cli.config import DEFAULT_TIMEOUT, GlobalOptions
from kimi_cli.errors import ExitCode, KimiError
from kimi_cli.render.terminal import print_error, reconfigure_utf8

GLOBAL_VALUE_OPTIONS = ("--base-url", "--region", "--timeout")
GLOBAL_FLAGS = ("--debug",)
COMPLETE_VAR = "_KIMI_COMPLETE"  # what the scripts of --show-completion set (Typer's naming)


class Terminated(BaseException):
    """SIGTERM arrived: unwind (saving partial work on the way) and exit 143."""


def root(
    ctx: typer.Context,
    base_url: Annotated[
        str | None, typer.Option("--base-url", help="API base URL, e.g. http://127.0.0.1:8765/v1.")
    ] = None,
    region: Annotated[
        str | None,
        typer.Option("--region", help="global (api.moonshot.ai) or cn (api.moonshot.cn)."),
    ] = None,
    timeout: Annotated[
        float | None,
        typer.Option(
            "--timeout",
            help=f"Connect and idle-read timeout in seconds (default {DEFAULT_TIMEOUT:g}).",
        ),
    ] = None,
    debug: Annotated[
        bool, typer.Option("--debug", help="Tracebacks and HTTP traces (the key redacted).")
    ] = False,
    version: Annotated[bool, typer.Option("--version", "-V", help="Print the version.")] = False,
) -> None:
    """Global options are accepted before and after the command name."""
    if version:
        from kimi_cli import __version__

        typer.echo(f"kimi {__version__}")
        raise typer.Exit(0)
    state = ctx.ensure_object(AppState)
    state.options = GlobalOptions(base_url=base_url, region=region, timeout=timeout, debug=debug)
    ctx.call_on_close(state.close)
    if ctx.invoked_subcommand is None:
        from kimi_cli.cli.chat import run_bare

        run_bare(ctx, state)


#: Each command and the module that registers it, in the order help lists them.
COMMANDS = {
    "chat": "chat",
    "models": "models",
    "config": "config_cmd",
    "setup": "setup",
    "history": "history_cmd",
    "emulator": "emulator_cmd",
    "doctor": "doctor_cmd",
    "balance": "balance",
    "tokens": "tokens",
    "usage": "usage_cmd",
    "batch": "batch_cmd",
}


def build(only: str | None = None) -> typer.Typer:
    """The application with every command, or with only the one named.

    Parsing ``kimi chat ...`` needs nothing of the other commands: importing their modules
    and building their parameters costs more than the rest of a one-shot chat does
    (docs/performance.md). ``app`` (every command) is built on first use.
    """
    target = typer.Typer(
        name="kimi",
        help=(
            "A command line for Moonshot AI's Kimi API.\n\n"
            'Example: git diff | kimi chat "write a commit message"'
        ),
        add_completion=True,
        no_args_is_help=False,
        rich_markup_mode=None,
        pretty_exceptions_enable=False,
        context_settings={"help_option_names": ["-h", "--help"]},
    )
    target.callback(invoke_without_command=True)(root)
    for name, module in COMMANDS.items():
        if only is None or name == only:
            importlib.import_module(f"kimi_cli.cli.{module}").register(target)
    return target


_app: typer.Typer | None = None


def __getattr__(name: str) -> typer.Typer:
    global _app
    if name != "app":
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    if _app is None:
        _app = build()
    return _app


def command_named(args: Sequence[str]) -> str | None:
    """The command that ``args`` (global options hoisted to the front) run, when it is
    plain to see; None otherwise (no command, ``--help``, ``--version``, a typo…)."""
    i = 0
    while i < len(args):
        arg = args[i]
        if arg in GLOBAL_VALUE_OPTIONS:
            i += 2
        elif arg in GLOBAL_FLAGS or arg.split("=", 1)[0] in GLOBAL_VALUE_OPTIONS:
            i += 1
        else:
            return arg if arg in COMMANDS else None
    return None


def hoist_global_options(args: Sequence[str]) -> list[str]:
    """Move global options found after the command name to the front (order kept, so
    the later one still wins). Everything after ``--`` is left alone."""
    front: list[str] = []
    rest: list[str] = []
    i = 0
    while i < len(args):
        arg = args[i]
        if arg == "--":
            rest.extend(args[i:])
            break
        name = arg.split("=", 1)[0]
        if name in GLOBAL_VALUE_OPTIONS:
            if "=" in arg or i + 1 >= len(args):
                front.append(arg)
            else:
                front.extend((arg, args[i + 1]))
                i += 1
        elif arg in GLOBAL_FLAGS:
            front.append(arg)
        else:
            rest.append(arg)
        i += 1
    return front + rest


def _on_sigterm(signum: int, frame: FrameType | None) -> None:
    raise Terminated()


def run(argv: Sequence[str]) -> int:
    _open_closed_std_streams()
    reconfigure_utf8()
    if hasattr(signal, "SIGTERM"):
        signal.signal(signal.SIGTERM, _on_sigterm)
    args = hoist_global_options(argv)
    debug = "--debug" in args or os.environ.get("KIMI_DEBUG", "").lower() in {
        "1",
        "true",
        "yes",
        "on",
    }
    complete = os.environ.get(COMPLETE_VAR)
    command = typer.main.get_command(build(None if complete else command_named(args)))
    coercion.install(command)  # Typer's value conversion without importing pydantic
    if complete:  # a Tab press in a shell with kimi's completion script: answer, run nothing
        from typer.completion import shell_complete

        return shell_complete(command, {}, "kimi", COMPLETE_VAR, complete)
    try:
        with command.make_context("kimi", list(args)) as ctx:
            command.invoke(ctx)
        sys.stdout.flush()  # a full disk fails here, where it is reported, not at exit
        return 0
    except typer.Exit as exc:
        return exc.exit_code
    except KimiError as exc:
        if debug:
            traceback.print_exc()
        print_error(exc)
        return int(exc.exit_code)
    except typer.TyperException as exc:  # Typer's (vendored Click's) usage errors
        return _usage_error(exc)
    except typer.Abort:
        return int(ExitCode.INTERRUPTED)
    except KeyboardInterrupt:
        print_error("interrupted")
        return int(ExitCode.INTERRUPTED)
    except Terminated:
        print_error("terminated")
        return int(ExitCode.TERMINATED)
    except BrokenPipeError:
        _silence_stdout()
        return int(ExitCode.BROKEN_PIPE)
    except Exception as exc:  # a bug: one line, unless --debug
        if isinstance(exc, OSError) and exc.errno in _OUTPUT_ERRNOS:
            _silence_stdout()  # what is still buffered cannot be written either
            hint = "free disk space or write it elsewhere, then retry"
            print_error(f"could not write the output ({exc.strerror}) — {hint}")
            return int(ExitCode.TEMPORARY)
        if debug:
            traceback.print_exc()
        print_error(
            f"internal error ({type(exc).__name__}: {exc}) — rerun with --debug and report it"
        )
        return int(ExitCode.INTERNAL)


def _usage_error(exc: typer.TyperException) -> int:
    ctx = getattr(exc, "ctx", None)
    path = getattr(ctx, "command_path", None) or "kimi"
    message = exc.format_message().strip().rstrip(".")
    code = int(getattr(exc, "exit_code", 2))
    if code == 2:
        print_error(f"{message} — see '{path} --help'")
    else:
        print_error(message)
    return code


#: Writing stdout failed for a reason outside kimi (a full disk, an I/O error): not a bug.
_OUTPUT_ERRNOS = {
    getattr(errno, name) for name in ("ENOSPC", "EDQUOT", "EFBIG", "EIO") if hasattr(errno, name)
}


def _open_closed_std_streams() -> None:
    """``kimi … >&-``: a closed stdout or stderr becomes /dev/null, so output is discarded
    rather than a crash, and the history database opened later cannot take fd 1 or 2."""
    for name in ("stdout", "stderr"):
        if getattr(sys, name) is None:
            setattr(sys, name, open(os.devnull, "w", encoding="utf-8"))  # noqa: SIM115


def _silence_stdout() -> None:
    """After EPIPE, stop Python from complaining when it flushes stdout at exit."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError):
        pass
