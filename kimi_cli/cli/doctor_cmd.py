"""``kimi doctor``: check the setup step by step, say what is wrong and how to fix it."""

from __future__ import annotations

import locale
import os
import sys
from typing import TYPE_CHECKING, Annotated

import typer

from kimi_cli.cli.app import Terminated
from kimi_cli.cli.common import print_json, state_of
from kimi_cli.cli.state import AppState
from kimi_cli.config import Settings, resolve_settings
from kimi_cli.errors import ExitCode, KimiError, UsageError
from kimi_cli.render.terminal import is_tty, print_error

if TYPE_CHECKING:
    from kimi_cli.doctor import Check, DoctorContext

HELP = """Check the setup step by step: config file, key, base URL, proxy, DNS/TCP/TLS,
GET /models, the configured model (and its retirement), the balance, the history database,
the budgets, a minimal chat (less than $0.001), output encoding, other kimi executables,
versions. Each check passes, warns, fails or is skipped, with what was seen and the fix.
Exit code: that of the most basic failing check (3, 75, 4, 5, 6, 1 in that order); 0 when
nothing fails; 130 (143) when stopped by Ctrl-C (SIGTERM), after the checks done so far.

Example: kimi doctor --no-chat --json | jq '.checks[] | select(.status == "fail")'
"""


def register(root: typer.Typer) -> None:
    root.command("doctor", help=HELP)(doctor)


def doctor(
    ctx: typer.Context,
    as_json: Annotated[bool, typer.Option("--json", help="Print the report as JSON.")] = False,
    no_chat: Annotated[
        bool, typer.Option("--no-chat", help="Skip the chat round trip (sends no chat request).")
    ] = False,
) -> None:
    from kimi_cli.doctor import exit_code_of

    state = state_of(ctx)
    context = build_context(state, chat=not no_chat)
    checks: list[Check] = []
    try:
        _run(context, checks)
    except (KeyboardInterrupt, Terminated) as stopped:  # report what was done, then stop
        _report(checks, _stopped_code(stopped), as_json=as_json, stopped=stopped)
        raise  # the one line and the exit code of every stopped command (cli/app.py)
    code = exit_code_of(checks)
    _report(checks, code, as_json=as_json)
    if code:
        print_error(_failure_line(checks, code))
    raise typer.Exit(code)


def _run(context: DoctorContext, into: list[Check]) -> None:
    """Run the checks into ``into`` as each ends; a spinner on stderr says which runs when
    stderr is a terminal (also with --json, or stdout in a file or a pipe)."""
    from kimi_cli.doctor import iter_checks

    if not is_tty(sys.stderr) or os.environ.get("TERM") == "dumb":  # as every spinner of kimi
        for check in iter_checks(context):
            into.append(check)
        return
    from kimi_cli.render.doctor_table import progress

    with progress() as step:  # leaving it clears the spinner, also on Ctrl-C
        for check in iter_checks(context, progress=step):
            into.append(check)


def _stopped_code(stopped: BaseException) -> int:
    return int(ExitCode.INTERRUPTED if _kind(stopped) == "interrupted" else ExitCode.TERMINATED)


def _kind(stopped: BaseException) -> str:
    return "interrupted" if isinstance(stopped, KeyboardInterrupt) else "terminated"


def _report(
    checks: list[Check], code: int, *, as_json: bool, stopped: BaseException | None = None
) -> None:
    """The report on stdout: JSON, a table on a terminal, plain lines in a pipe. A run
    stopped half-way reports the checks it finished and says so (``partial``, ``error``)."""
    from kimi_cli.doctor import STEPS

    ending = None
    if stopped is not None:
        ending = f"{_kind(stopped)} after {len(checks)} of {len(STEPS)} checks"
    if as_json:
        document: dict[str, object] = {
            "checks": [c.to_json() for c in checks],
            "exit_code": code,
            "partial": stopped is not None,
        }
        if stopped is not None:
            kind = _kind(stopped)
            document["error"] = {"type": kind, "exit_code": code, "message": kind}
        print_json(document)
    elif is_tty(sys.stdout):
        from kimi_cli.render.doctor_table import print_checks

        print_checks(checks, code, stopped=ending)
    else:
        from kimi_cli.render.doctor_table import plain_report

        sys.stdout.write(plain_report(checks, code, ending))
        sys.stdout.flush()


def _failure_line(checks: list[Check], code: int) -> str:
    failing = [c for c in checks if c.status == "fail"]
    first = next((c for c in failing if c.exit_code == code), failing[0])
    more = f" (and {len(failing) - 1} more)" if len(failing) > 1 else ""
    line = f"doctor: {first.title}: {first.detail}{more}"
    return f"{line} — {first.fix}" if first.fix else line


def _settings(state: AppState) -> tuple[Settings | None, KimiError | None, KimiError | None]:
    """(settings, why they could not be resolved, why the key could not be had).

    A usage error (a bad flag) is not the setup's fault: it ends the command (exit 2).
    """
    try:
        return state.settings(), None, None
    except UsageError:
        raise
    except KimiError as exc:
        try:  # everything but api_key_cmd or the keychain?
            settings = resolve_settings(
                state.options, state.env, state.store(), run_key_cmd=False, read_keyring=False
            )
        except KimiError:
            return None, exc, None
        if (settings.api_key_cmd or settings.api_key_store) and settings.api_key is None:
            return settings, None, exc
        return None, exc, None


def build_context(state: AppState, *, chat: bool) -> DoctorContext:
    from kimi_cli.doctor import DoctorContext

    settings, settings_error, key_error = _settings(state)
    usable = settings is not None and key_error is None
    return DoctorContext(
        settings=settings,
        config_path=state.store().path,
        env=state.env,
        client_factory=lambda url, key: state.make_client(url, key, settings),
        model_cache=state.model_cache() if usable else None,
        settings_error=settings_error,
        key_error=key_error,
        stdout_encoding=getattr(sys.stdout, "encoding", None),
        stderr_encoding=getattr(sys.stderr, "encoding", None),
        locale_encoding=locale.getpreferredencoding(False),
        stdout_is_tty=is_tty(sys.stdout),
        chat=chat,
        executable=sys.argv[0] if sys.argv and sys.argv[0] else None,
    )
