"""Exit codes and the error tree.

Every failure a user can foresee is a ``KimiError``: it carries one line saying what
happened, one saying what to do, and the exit code a script can branch on. The CLI
prints ``kimi: error: <message> — <hint>`` and exits with ``exit_code``.

    KimiError
    ├── UsageError                 2   bad option, flag the model refuses, empty input
    ├── ConfigError                3   no key, no model, corrupt config, not the API
    │   └── HistoryError           3   the history database cannot be read or written
    ├── AuthError                  4   401/403, Kimi Code key
    │   └── WrongRegionError       4   the key belongs to the other region
    ├── ModelNotFoundError         5   not in /models, gateway ID, retired, 404 on chat
    ├── QuotaError                 6   no balance, exceeded_current_quota_error
    │   └── BudgetExceededError    6   a budget or --max-cost would be exceeded (budget.py)
    ├── APIRequestError            1   400, content filter, other 4xx
    │   ├── NotFoundError          1   404, before it is known what is missing
    │   │   ├── UnknownFileError   1   a file ID the account does not hold (api/files.py)
    │   │   └── UnknownBatchError  1   a batch ID the account does not hold (api/batches.py)
    │   ├── UnexpectedResponseError 1  a success status with a body that is not the API's
    │   ├── FileLimitError         1   the account holds as many files as allowed (api/files.py)
    │   ├── FileRefusedError       1   the API refused a file (type, size, no text; api/files.py)
    │   ├── FiberFailedError       1   a Formula's tool call (web search) failed (api/formulas.py)
    │   └── SearchLimitError       1   still searching after --max-searches (conversation)
    ├── TemporaryError            75   rate limit, overloaded, 5xx, network, timeout
    │   └── StreamCutError        75   the stream ended before a finish reason
    └── InternalError             70   a bug in a batch run's sender (batch/engine.py)

A class marked with a module is defined there, with the code that raises it, so a command
defines only the errors of the parts it uses.

Standard library only: this module is imported by everything else.
"""

from __future__ import annotations

import errno
from collections.abc import Sequence
from enum import IntEnum


class ExitCode(IntEnum):
    """The exit codes of ``kimi``; ``docs/exit-codes.md`` is tested to agree."""

    OK = 0
    API_ERROR = 1
    USAGE = 2
    CONFIG = 3
    AUTH = 4
    MODEL_NOT_FOUND = 5
    NO_BALANCE = 6
    INTERNAL = 70
    TEMPORARY = 75
    INTERRUPTED = 130
    BROKEN_PIPE = 141
    TERMINATED = 143


EXIT_CODE_MEANINGS: dict[ExitCode, str] = {
    ExitCode.OK: "success",
    ExitCode.API_ERROR: (
        "the API refused the request (400, content filter, other 4xx), an answer that is not "
        "the API's (an HTML page or JSON where a stream was due), no answer within the token "
        "budget, or an answer without the code block of -x or the shape of --schema"
    ),
    ExitCode.USAGE: (
        "usage: bad option or argument, a flag the model does not take, empty or undecodable "
        "input, an input longer than the model's context"
    ),
    ExitCode.CONFIG: (
        "configuration: no key, no model, unreadable or corrupt config, "
        "a base URL that is not the API, an untrusted TLS certificate"
    ),
    ExitCode.AUTH: "authentication: 401/403, wrong-region key, Kimi Code key or endpoint",
    ExitCode.MODEL_NOT_FOUND: (
        "model not found: not in /models, gateway ID, retired, or answered 404 on chat"
    ),
    ExitCode.NO_BALANCE: (
        "no balance or quota, or over a budget (budget_daily, budget_monthly, --max-cost; "
        "nothing was sent): do not retry as is"
    ),
    ExitCode.INTERNAL: "internal error (a bug): rerun with --debug and report it",
    ExitCode.TEMPORARY: (
        "temporary: rate limit, overloaded, 5xx, timeout, network, stream cut off, "
        "output that could not be written — retry later"
    ),
    ExitCode.INTERRUPTED: "interrupted by Ctrl-C",
    ExitCode.BROKEN_PIPE: "broken pipe: the reader went away (quiet)",
    ExitCode.TERMINATED: "terminated by SIGTERM, or SIGHUP (the terminal closed)",
}


class KimiError(Exception):
    """A foreseeable failure: one line for the user, and an exit code."""

    exit_code: ExitCode = ExitCode.API_ERROR
    #: The API's own message, when the error came from an answer of the API.
    api_message: str | None = None

    def __init__(
        self,
        message: str,
        *,
        hint: str | None = None,
        notes: Sequence[str] = (),
        request_id: str | None = None,
        status_code: int | None = None,
        error_type: str | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint
        #: Said after the hint, in order: what was kept (``the partial answer was kept``),
        #: what ``kimi doctor`` finds out (``'kimi doctor' checks them``). The doctor's own
        #: report gives the hint alone: neither is true of it.
        self.notes = tuple(notes)
        self.request_id = request_id
        self.status_code = status_code
        self.error_type = error_type

    def line(self) -> str:
        """The one line shown on stderr (without the ``kimi: error:`` prefix)."""
        text = self.message
        fix = "; ".join(part for part in (self.hint, *self.notes) if part)
        if fix:
            text = f"{text} — {fix}"
        if self.request_id:
            text = f"{text} (request id {self.request_id})"
        return text


class UsageError(KimiError):
    exit_code = ExitCode.USAGE


class ConfigError(KimiError):
    exit_code = ExitCode.CONFIG


class AuthError(KimiError):
    exit_code = ExitCode.AUTH


class WrongRegionError(AuthError):
    """A 401 from one region for a key that ``region`` (the other one) accepts."""

    def __init__(
        self,
        message: str,
        *,
        region: str,
        hint: str | None = None,
        request_id: str | None = None,
    ) -> None:
        super().__init__(message, hint=hint, request_id=request_id, status_code=401)
        self.region = region


class ModelNotFoundError(KimiError):
    exit_code = ExitCode.MODEL_NOT_FOUND
    #: The live model the hint says to move to, when it names one, and whether Moonshot
    #: named it the successor: a caller may word the command differently (``-c`` keeps
    #: the conversation's model, so "kimi models use" would not help there).
    move_to: str | None = None
    successor_named: bool = False


class QuotaError(KimiError):
    exit_code = ExitCode.NO_BALANCE


class APIRequestError(KimiError):
    exit_code = ExitCode.API_ERROR


class NotFoundError(APIRequestError):
    """HTTP 404. Whether it means a model or a wrong URL is decided above the API layer."""


class UnexpectedResponseError(APIRequestError):
    """A body that is not the API's (an HTML page, broken JSON): the base URL points
    elsewhere, or a proxy answered. Raised without a hint: the HTTP layer cannot know where
    the URL came from, the caller words it (``kimi_cli.hints.base_url_fix``)."""


class TemporaryError(KimiError):
    exit_code = ExitCode.TEMPORARY

    def __init__(
        self,
        message: str,
        *,
        hint: str | None = None,
        notes: Sequence[str] = (),
        request_id: str | None = None,
        status_code: int | None = None,
        error_type: str | None = None,
        retry_after: float | None = None,
    ) -> None:
        super().__init__(
            message,
            hint=hint,
            notes=notes,
            request_id=request_id,
            status_code=status_code,
            error_type=error_type,
        )
        self.retry_after = retry_after


class StreamCutError(TemporaryError):
    """The stream broke, stalled or ended before a finish reason; what arrived is kept by
    the caller."""


class HistoryError(KimiError):
    """The history database could not be read or written.

    Writing history never changes the exit code (a warning only); reading it for
    ``-c``/``--session``/``kimi history`` fails with a configuration error.
    """

    exit_code = ExitCode.CONFIG


def unreadable_input(path: object, exc: OSError) -> UsageError:
    """A file the user named that cannot be read (``-f``, a batch input): one usage error,
    worded by what went wrong."""
    if isinstance(exc, FileNotFoundError):
        return UsageError(f"no such file: {path}", hint="check the path")
    if isinstance(exc, IsADirectoryError):
        return UsageError(f"{path} is a directory", hint="give a file")
    return UsageError(f"cannot read {path} ({exc.strerror or exc})")


def os_error_fix(exc: OSError, where: object) -> str:
    """What to do about a file that could not be read or written, by what went wrong:
    a full disk is not a permission problem."""
    if exc.errno in (errno.ENOSPC, getattr(errno, "EDQUOT", errno.ENOSPC)):
        return f"free some disk space where {where} lives"
    if exc.errno == errno.EROFS:
        return f"{where} is on a read-only file system: make it writable or move it"
    if exc.errno in (errno.EACCES, errno.EPERM):
        return f"check permissions of {where}"
    if exc.errno == errno.EISDIR:
        return f"{where} is a directory: move it away"
    if exc.errno == errno.ENOTDIR:
        return f"a part of the path {where} is a file, not a directory: move it away"
    return f"check {where}"
