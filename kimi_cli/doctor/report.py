"""The doctor's report as data: each check's verdict, the context the checks run in, and
what earlier checks found.

Plain data on purpose: the CLI builds a ``DoctorContext`` from its settings and streams, tests
build one by hand, and nothing here imports rich, typer or the CLI.
"""

from __future__ import annotations

import importlib.util
import os
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from kimi_cli.errors import ExitCode, KimiError

if TYPE_CHECKING:  # the HTTP layer imports httpx: only its types are needed here
    from kimi_cli.api.types import Model
    from kimi_cli.catalog.access import ClientFactory
    from kimi_cli.catalog.cache import ModelCache
    from kimi_cli.config import Settings

Status = Literal["pass", "warn", "fail", "skip"]
STATUSES: tuple[Status, ...] = ("pass", "warn", "fail", "skip")
NO_SETTINGS = "skipped: the configuration could not be resolved (see the config check)"

#: doctor exits with the code of the most basic failing check, in this order.
EXIT_ORDER: tuple[ExitCode, ...] = (
    ExitCode.CONFIG,
    ExitCode.TEMPORARY,
    ExitCode.AUTH,
    ExitCode.MODEL_NOT_FOUND,
    ExitCode.NO_BALANCE,
    ExitCode.API_ERROR,
)


@dataclass(frozen=True)
class Check:
    """One verdict: what was seen (``detail``) and, unless it passed, what to do (``fix``).

    ``exit_code`` is 0 unless the check failed; then it is the code this failure stands for.
    """

    id: str
    title: str
    status: Status
    detail: str
    fix: str | None = None
    exit_code: int = 0

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "title": self.title,
            "status": self.status,
            "detail": self.detail,
            "fix": self.fix,
            "exit_code": self.exit_code,
        }


def passed(id: str, title: str, detail: str) -> Check:
    return Check(id, title, "pass", detail)


def warned(id: str, title: str, detail: str, fix: str | None) -> Check:
    return Check(id, title, "warn", detail, fix)


def failed(id: str, title: str, detail: str, fix: str | None, code: int) -> Check:
    return Check(id, title, "fail", detail, fix, int(code))


def skipped(id: str, title: str, detail: str) -> Check:
    return Check(id, title, "skip", detail)


def from_error(id: str, title: str, error: KimiError) -> Check:
    """A failure that is a KimiError: its message, its hint, its exit code."""
    detail = error.message
    if error.request_id:
        detail = f"{detail} (request id {error.request_id})"
    return failed(id, title, detail, error.hint, error.exit_code)


def exit_code_of(checks: Iterable[Check]) -> int:
    """The code of the most basic failing check (3, 75, 4, 5, 6, 1; then any other); else 0."""
    codes = [c.exit_code for c in checks if c.status == "fail" and c.exit_code]
    for code in EXIT_ORDER:
        if code in codes:
            return int(code)
    return codes[0] if codes else 0


def _module_available(name: str) -> bool:
    try:
        return importlib.util.find_spec(name) is not None
    except (ImportError, ValueError):
        return False


@dataclass(frozen=True)
class DoctorContext:
    """Everything the checks look at, built by the CLI (or a test).

    ``settings`` is None when they could not be resolved at all (``settings_error`` says why:
    a corrupt config file, a bad environment variable); ``key_error`` is set when everything
    resolved except the key, because ``api_key_cmd`` failed.
    """

    settings: Settings | None
    config_path: Path
    env: Mapping[str, str]
    client_factory: ClientFactory
    model_cache: ModelCache | None = None
    settings_error: KimiError | None = None
    key_error: KimiError | None = None
    stdout_encoding: str | None = "utf-8"
    stderr_encoding: str | None = "utf-8"
    locale_encoding: str | None = "utf-8"
    stdout_is_tty: bool = False
    chat: bool = True
    windows: bool = os.name == "nt"
    module_available: Callable[[str], bool] = _module_available
    versions: Mapping[str, str] | None = None  # None: read them (importlib.metadata)
    executable: str | None = None  # the running script (sys.argv[0]), to tell which kimi we are
    history_path: Path | None = None  # None: history.db in the settings' data dir

    @property
    def network_timeout(self) -> float:
        timeout = self.settings.timeout if self.settings is not None else 10.0
        return min(timeout, 10.0)


@dataclass
class Findings:
    """What earlier checks learnt, so later ones know whether they still mean something."""

    key_ok: bool = False  # a key of a usable shape is present
    endpoint_ok: bool = False  # the base URL is one to ask (not the Kimi Code endpoint)
    reachable: bool = True  # DNS and TCP did not fail (or a proxy may still get through)
    proxy: str | None = None  # the proxy URL httpx would use for the base URL (shown masked)
    models: list[Model] | None = None
    model: Model | None = None
    no_balance: bool = False
    notes: list[str] = field(default_factory=list)
