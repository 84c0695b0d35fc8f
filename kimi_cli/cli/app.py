"""The ``kimi`` application: global options, command registration, and the one place
where failures become a line on stderr and an exit code."""

# No ``from __future__ import annotations``: Typer reads the annotations of ``root`` on
# every run, and evaluating them from strings costs more than the rest of parsing
# (docs/performance.md).

import errno
import importlib
import os
import re
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
from kimi_cli.render.terminal import print_error, reconfigure_utf8, utf8_text

GLOBAL_VALUE_OPTIONS = ("--base-url", "--region", "--timeout")
GLOBAL_FLAGS = ("--debug",)
#: Options of ``kimi`` itself; any other option where a command name goes starts a chat.
ROOT_OPTIONS = ("-h", "--help", "-V", "--version", "--install-completion", "--show-completion")
COMPLETE_VAR = "_KIMI_COMPLETE"  # what the scripts of --show-completion set (Typer's naming)


_NOT_UTF8_HINT = (
    "pass UTF-8 text, or set a UTF-8 locale (LANG=C.UTF-8); "
    "for a file so named: rename it, or pipe it in (-f - < FILE)"
)


class Terminated(BaseException):
    """SIGTERM (or SIGHUP) arrived: unwind (saving partial work on the way) and exit 143."""


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
        from kimi_cli.cli.chat_cmd import run_bare

        run_bare(ctx, state)


#: Each command, in the order help lists them; ``kimi_cli/cli/<command>_cmd.py`` registers it.
COMMANDS = (
    "chat",
    "models",
    "config",
    "setup",
    "history",
    "emulator",
    "doctor",
    "balance",
    "tokens",
    "usage",
    "files",
    "batch",
)


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
            'Example: git diff | kimi chat "write a commit message"\n\n'
            "Without a command, kimi chats: 'kimi \"a question\"', 'kimi -m MODEL \"a question\"'"
            " and 'echo a question | kimi' are 'kimi chat …'. A first word that is a command"
            " name, or a single word close to one (a typo), stays a command: to ask it, use"
            " 'kimi chat WORD'."
        ),
        add_completion=True,
        no_args_is_help=False,
        rich_markup_mode=None,
        pretty_exceptions_enable=False,
        context_settings={"help_option_names": ["-h", "--help"]},
    )
    target.callback(invoke_without_command=True)(root)
    for name in COMMANDS:
        if only is None or name == only:
            importlib.import_module(f"kimi_cli.cli.{name}_cmd").register(target)
    return target


_app: typer.Typer | None = None


def __getattr__(name: str) -> typer.Typer:
    global _app
    if name != "app":
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    if _app is None:
        _app = build()
    return _app


def route(argv: Sequence[str], piped: bool) -> tuple[list[str], str | None]:
    """``argv`` as the application parses it, and the command it runs when that is plain to
    see (None for ``--help``, a typo…).

    Global options found after the command name move to the front (order kept, so the later
    one still wins; everything after ``--`` is left alone). With no command, kimi chats: a
    first word that is not a command, an option that is not one of ``kimi``'s own, or
    nothing at all with ``piped`` input become ``kimi chat …``. A single word close to a
    command name is left alone, so a typo is reported, not sent."""
    front: list[str] = []
    rest: list[str] = []
    dangling = False  # a value option without its value: Typer says so
    i = 0
    while i < len(argv):
        arg = argv[i]
        if arg == "--":
            rest.extend(argv[i:])
            break
        name = arg.split("=", 1)[0]
        if name in GLOBAL_VALUE_OPTIONS:
            if "=" in arg or i + 1 >= len(argv):
                front.append(arg)
                dangling = "=" not in arg
            else:
                front.extend((arg, argv[i + 1]))
                i += 1
        elif arg in GLOBAL_FLAGS:
            front.append(arg)
        else:
            rest.append(arg)
        i += 1
    if dangling:
        return front + rest, None
    if not rest:
        return ([*front, "chat"], "chat") if piped else (front, None)
    first = rest[0]
    if first in COMMANDS:
        return front + rest, first
    if first in ROOT_OPTIONS or _looks_like_a_command(first, len(rest)):
        return front + rest, None
    return [*front, "chat", *rest], "chat"


def _looks_like_a_command(word: str, words_left: int) -> bool:
    if words_left != 1 or not word.isalpha():
        return False
    import difflib

    return bool(difflib.get_close_matches(word.lower(), COMMANDS, n=1, cutoff=0.75))


#: The termination signals that arrived: after SIGHUP the terminal is gone, and writing to
#: it fails on the way out; that is still a terminated run, not an output error.
_SIGNALLED: list[int] = []


def _on_sigterm(signum: int, frame: FrameType | None) -> None:
    _SIGNALLED.append(signum)
    raise Terminated()


def run(argv: Sequence[str]) -> int:
    # ``kimi … >&-``, ``<&-``: a closed stream becomes /dev/null, so output is discarded and
    # input is empty rather than a crash, and the history database opened later cannot take
    # fd 0, 1 or 2.
    for stream in ("stdin", "stdout", "stderr"):
        if getattr(sys, stream) is None:
            mode = "r" if stream == "stdin" else "w"
            setattr(sys, stream, open(os.devnull, mode, encoding="utf-8"))  # noqa: SIM115
    reconfigure_utf8()
    _SIGNALLED.clear()  # a run in-process after another (the tests) starts afresh
    if hasattr(signal, "SIGTERM"):
        signal.signal(signal.SIGTERM, _on_sigterm)
    # The terminal closed (an ssh session dropped): as SIGTERM; unless it came in ignored
    # (`nohup kimi chat …`), which stays so.
    if hasattr(signal, "SIGHUP") and signal.getsignal(signal.SIGHUP) is signal.SIG_DFL:
        signal.signal(signal.SIGHUP, _on_sigterm)
    args = list(argv)
    debug = "--debug" in args or os.environ.get("KIMI_DEBUG", "").lower() in {
        "1",
        "true",
        "yes",
        "on",
    }
    complete = os.environ.get(COMPLETE_VAR)
    name = None
    if not complete:  # a completion reads the words from the shell's variables
        args, name = route(args, piped=sys.stdin is not None and not sys.stdin.isatty())
    command = typer.main.get_command(build(name))
    coercion.install(command)  # Typer's value conversion without importing pydantic
    if name != "chat" or "--help" in args or "-h" in args:  # a chat needs no help text
        from kimi_cli.cli import help_text, whole_output

        help_text.humanize(command)
        # A chat writes small pieces and checks each; other commands may write megabytes at
        # once, which a closed pipe would cut short in silence.
        whole_output.install()
    if complete:  # a Tab press in a shell with kimi's completion script: answer, run nothing
        from typer.completion import shell_complete

        return shell_complete(command, {}, "kimi", COMPLETE_VAR, complete)
    state = AppState()
    try:
        for index, arg in enumerate(args):  # a loop, not a helper: a chat's path stays short
            if not arg.isascii():  # bytes that are not UTF-8: exit 2 here, for every command
                args[index] = utf8_text(arg, "the argument", _NOT_UTF8_HINT)
        with command.make_context("kimi", list(args), obj=state) as ctx:
            command.invoke(ctx)
        sys.stdout.flush()  # a full disk fails here, where it is reported, not at exit
        return 0
    except typer.Exit as exc:
        return exc.exit_code
    except KimiError as exc:
        if debug:
            traceback.print_exc()
        state.fit_hint(exc)
        print_error(exc)
        return int(exc.exit_code)
    except typer.TyperException as exc:  # Typer's (vendored Click's) usage errors
        from kimi_cli.cli import help_text

        help_text.humanize(command)  # the message names parameters as the help does
        return _usage_error(exc, f"kimi {name}" if name else "kimi")
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
            if _SIGNALLED:
                return int(ExitCode.TERMINATED)
            hint = "free disk space or write it elsewhere, then retry"
            print_error(f"could not write the output ({exc.strerror}) — {hint}")
            return int(ExitCode.TEMPORARY)
        if debug:
            traceback.print_exc()
        print_error(
            f"internal error ({type(exc).__name__}: {exc}) — rerun with --debug and report it"
        )
        return int(ExitCode.INTERNAL)


def _usage_error(exc: typer.TyperException, command: str) -> int:
    """``command``: the command line routed to, for an error without a context (an option
    without its value is refused by the parser, before a context is made)."""
    ctx = getattr(exc, "ctx", None)
    path = getattr(ctx, "command_path", None) or command
    if type(exc).__name__ == "NoArgsIsHelpError" and ctx is not None:  # Typer's own check
        # A group without its command: Typer's message is the whole help, not one line.
        *rest, last = ctx.command.list_commands(ctx) or ["COMMAND"]
        names = f"{', '.join(rest)} or {last}" if rest else last
        print_error(f"'{path}' needs a command: {names} — see '{path} --help'")
        return 2
    message = _PYDANTIC_WORDING.sub(_plain_wording, exc.format_message()).strip().rstrip(".")
    code = int(getattr(exc, "exit_code", 2))
    if code == 2:
        print_error(f"{message} — see '{path} --help'")
    else:
        print_error(message)
    return code


#: Typer 0.29 words conversion errors as pydantic does ("Value error, 'x' is not one of 'a',
#: 'b'", "Input should be a valid integer, unable to parse string as an integer").
_PYDANTIC_WORDING = re.compile(
    r"Value error, (?P<value>'[^']*') is not one of (?P<choices>[^\n]+)"
    r"|Input should be a valid (?P<type>\w+)[^\n]*"
    r"|Value error, |Input should be"
)
_PLAIN_TYPES = {"integer": "not a whole number", "number": "not a number"}


def _plain_wording(match: re.Match[str]) -> str:
    if match["choices"]:
        *rest, last = (c.strip(" '.") for c in match["choices"].split(","))
        choices = f"{', '.join(rest)} or {last}" if rest else last
        return f"{match['value']} is not {choices}"
    if match["type"]:
        return _PLAIN_TYPES.get(match["type"], f"not a valid {match['type']}")
    return "" if match.group(0) == "Value error, " else "should be"


#: Writing stdout failed for a reason outside kimi (a full disk, an I/O error): not a bug.
_OUTPUT_ERRNOS = {errno.ENOSPC, errno.EFBIG, errno.EIO, getattr(errno, "EDQUOT", errno.ENOSPC)}


def _silence_stdout() -> None:
    """After EPIPE, stop Python from complaining when it flushes stdout at exit."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError):
        pass
