"""``kimi doctor``'s checks, as data: ``run_checks(ctx) -> list[Check]``.

The checks run in order, from the most basic (the config file) to the API (a chat round trip),
then this machine (encoding, PATH, versions). A check whose answer an earlier failure already
decides is skipped; every other one still runs. The exit code is that of the most basic
failing check (``exit_code_of``). Nothing here imports rich, typer or the CLI: the CLI builds a
``DoctorContext`` and draws the result.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

from kimi_cli.config import mask_key
from kimi_cli.doctor.checks_budget import check_budget
from kimi_cli.doctor.checks_local import (
    check_agent_env,
    check_certificates,
    check_config,
    check_endpoint,
    check_key,
    check_proxy,
)
from kimi_cli.doctor.checks_network import (
    check_balance,
    check_chat,
    check_dns,
    check_model,
    check_models,
    check_tcp,
    check_tls,
)
from kimi_cli.doctor.checks_state import check_history
from kimi_cli.doctor.checks_system import check_encoding, check_path, check_versions
from kimi_cli.doctor.report import (
    EXIT_ORDER,
    STATUSES,
    Check,
    DoctorContext,
    Findings,
    Status,
    exit_code_of,
)
from kimi_cli.errors import ExitCode

__all__ = [
    "EXIT_ORDER",
    "STATUSES",
    "STEPS",
    "Check",
    "DoctorContext",
    "Status",
    "exit_code_of",
    "iter_checks",
    "run_checks",
]

CheckFn = Callable[[DoctorContext, Findings], Check]

#: (id, what is being looked at, the check), in the order they run.
STEPS: tuple[tuple[str, str, CheckFn], ...] = (
    ("config", "reading the config file", check_config),
    ("key", "looking at the API key", check_key),
    ("endpoint", "looking at the base URL", check_endpoint),
    ("agent_env", "looking at KIMI_* variables", check_agent_env),
    ("proxy", "looking at proxy variables", check_proxy),
    ("certs", "looking at CA certificates", check_certificates),
    ("dns", "resolving the host", check_dns),
    ("tcp", "connecting", check_tcp),
    ("tls", "TLS handshake", check_tls),
    ("models", "GET /v1/models", check_models),
    ("model", "looking for the configured model", check_model),
    ("balance", "GET /v1/users/me/balance", check_balance),
    ("history", "looking at the history database", check_history),
    ("budget", "adding up what was spent", check_budget),
    ("chat", "a minimal chat round trip", check_chat),
    ("encoding", "looking at output encodings", check_encoding),
    ("path", "looking for kimi on PATH", check_path),
    ("versions", "reading versions", check_versions),
)


def run_checks(ctx: DoctorContext, *, progress: Callable[[str], None] | None = None) -> list[Check]:
    """Run every check in order; ``progress`` hears what is being looked at next."""
    return list(iter_checks(ctx, progress=progress))


def iter_checks(
    ctx: DoctorContext, *, progress: Callable[[str], None] | None = None
) -> Iterator[Check]:
    """Each check's verdict as soon as it is known, so that a run stopped half-way (Ctrl-C,
    SIGTERM) can still report the checks it finished."""
    found = Findings()
    key = ctx.settings.api_key if ctx.settings is not None else None
    for check_id, doing, check in STEPS:
        if progress is not None:
            progress(doing)
        try:
            result = check(ctx, found)
        except Exception as exc:  # a bug in a check must not hide the others
            result = Check(
                check_id,
                check_id,
                "fail",
                f"internal error ({type(exc).__name__}: {exc})",
                "rerun with --debug and report it",
                int(ExitCode.INTERNAL),
            )
        yield _scrubbed(result, key)


def _scrubbed(check: Check, key: str | None) -> Check:
    """The key never leaves the doctor except masked, whatever a message quoted. (No fix
    says to run the doctor or that an answer was kept: a check's fix is an error's
    ``hint``, never its ``notes``.)"""
    if not key or (key not in check.detail and key not in (check.fix or "")):
        return check
    masked = mask_key(key)
    fix = check.fix.replace(key, masked) if check.fix else None
    return Check(
        check.id, check.title, check.status, check.detail.replace(key, masked), fix, check.exit_code
    )
