"""The ``kimi`` application: global options, command registration, and the one place
where failures become a line on stderr and an exit code."""

from __future__ import annotations

import os
import signal
import sys
import traceback
from collections.abc import Sequence
from types import FrameType
from typing import Annotated

import typer

from kimi_cli.cli.state import AppState
from kimi_cli.config import GlobalOptions
from kimi_cli.errors import ExitCode, KimiError
from kimi_cli.render.terminal import print_error, reconfigure_utf8

app = typer.Typer(
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

GLOBAL_VALUE_OPTIONS = ("--base-url", "--region", "--timeout")
GLOBAL_FLAGS = ("--debug",)


class Terminated(BaseException):
    """SIGTERM arrived: unwind (saving partial work on the way) and exit 143."""


@app.callback(invoke_without_command=True)
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
        typer.Option("--timeout", help="Connect and idle-read timeout in seconds (default 60)."),
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


def _register() -> None:
    from kimi_cli.cli import (
        balance,
        chat,
        config_cmd,
        doctor_cmd,
        emulator_cmd,
        history_cmd,
        models,
        setup,
        tokens,
    )

    for module in (
        chat,
        models,
        config_cmd,
        setup,
        history_cmd,
        emulator_cmd,
        doctor_cmd,
        balance,
        tokens,
    ):
        module.register(app)


_register()


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
    command = typer.main.get_command(app)
    try:
        with command.make_context("kimi", list(args)) as ctx:
            command.invoke(ctx)
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


def _silence_stdout() -> None:
    """After EPIPE, stop Python from complaining when it flushes stdout at exit."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError):
        pass
