"""One spec per config key: its type, its rule, where else it can come from, its docs.

Parsing (``parse_text``), checking (``normalize``), ``kimi config show`` (the order of
``CONFIG_KEYS``), the resolution order (``env``, ``flag``) and the table in
docs/configuration.md (``markdown_table``, tested to match) are all read from ``SPECS``.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from kimi_cli.config_store.regions import KIMI_CODE_HOST, REGIONS
from kimi_cli.errors import UsageError

_TRUTHY = frozenset({"1", "true", "yes", "on"})
_FALSY = frozenset({"0", "false", "no", "off"})


def _text(value: str) -> str | None:
    return value or None


def _region(value: str) -> str | None:
    return value.lower() if value.lower() in REGIONS else None


def _url(value: str) -> str | None:
    value = value.rstrip("/")
    found = re.fullmatch(r"https?://[^/\s?#]+(/\S*)?", value, re.IGNORECASE)
    return value if found is not None and value.isprintable() else None


def _currency(value: str) -> str | None:
    value = value.upper()
    return value if re.fullmatch(r"[A-Z]{3}", value) else None


def key_problem(value: str) -> str | None:
    """What makes ``value`` unusable as an API key (it goes into an HTTP header, which
    takes ASCII only), in words that never show the key; None when it is fine."""
    if value and value.isascii() and value.isprintable() and " " not in value:
        return None  # printable ASCII has no other space: the usual key, checked at once
    if not value:
        return "is empty"
    if any(c.isspace() for c in value):
        return "contains spaces"
    if not value.isprintable():
        return "contains control characters"
    if not value.isascii():
        odd = next(c for c in value if not c.isascii())
        return f"contains {odd!r}, which is not ASCII (a quote or a letter copied with the key?)"
    return None


def _key(value: str) -> str | None:
    return None if key_problem(value) else value


#: The longest timeout kept: "as long as it takes" (1e308) overflows the socket layer, and
#: the API itself gives up after two hours.
MAX_TIMEOUT_S = 86400.0


def _seconds(value: float) -> float | None:
    value = float(value)
    return min(value, MAX_TIMEOUT_S) if math.isfinite(value) and value > 0 else None


#: The most retries kept: each waits longer than the one before, so 20 is already hours.
MAX_RETRIES = 20
#: The largest output budget: the largest context of any model (kimi-k3.1-pro's), which is
#: also K3's documented maximum of ``max_completion_tokens`` (docs/api-notes.md).
MAX_OUTPUT_TOKENS = 1_048_576


def _retries(value: int) -> int | None:
    return value if 0 <= value <= MAX_RETRIES else None


def _budget(value: int) -> int | None:
    return value if 0 < value <= MAX_OUTPUT_TOKENS else None


def _amount(value: float) -> float | None:
    value = float(value)
    return value if math.isfinite(value) and value > 0 else None


def _not_kimi_code(value: str) -> str | None:
    if (urlsplit(value).hostname or "") == KIMI_CODE_HOST:
        return (
            f"{value} is the Kimi Code endpoint, which only coding agents may use; "
            "this kimi talks to the Open Platform"
        )
    return None


@dataclass(frozen=True)
class ConfigKey:
    """One key of config.toml and everything kimi knows about it."""

    name: str
    type: type
    expected: str  # what a valid value looks like, for error messages
    check: Callable[[Any], Any]  # the canonical value, or None when invalid
    meaning: str
    type_doc: str
    default: Any = None
    default_doc: str = "none"
    env: tuple[str, ...] = ()  # variables that beat the file, in order
    flag: str | None = None  # the global flag that beats them all
    settable: bool = True  # False: never from argv (the API key)
    #: A reason to refuse a value at ``config set`` time that is valid from elsewhere.
    refuse_on_set: Callable[[Any], str | None] | None = None


SPECS: tuple[ConfigKey, ...] = (
    ConfigKey(
        "region", str, "global or cn", _region,
        "which Moonshot platform your key belongs to", "`global` or `cn`",
        default="global", default_doc="`global`", env=("KIMI_REGION",), flag="--region",
    ),
    ConfigKey(
        "base_url", str, "a URL starting with http:// or https://", _url,
        "an explicit endpoint; wins over `region`", "URL",
        env=("KIMI_BASE_URL",), flag="--base-url", refuse_on_set=_not_kimi_code,
    ),
    ConfigKey(
        "model", str, "a non-empty model ID", _text,
        "the model ID; `config set model` checks it against `/models` first", "string",
        env=("KIMI_MODEL",), flag="--model",
    ),
    ConfigKey(
        "api_key", str, "a key of ASCII characters, without spaces or control characters", _key,
        "written only by `kimi setup` (see below)", "string",
        env=("KIMI_API_KEY", "MOONSHOT_API_KEY"), settable=False,
    ),
    ConfigKey(
        "api_key_cmd", str, "a non-empty shell command", _text,
        "shell command that prints the key", "string",
    ),
    ConfigKey(
        "api_key_store", str, "keyring", lambda v: v if v == "keyring" else None,
        "`keyring`: the key is in the OS keychain (`kimi setup --keyring` writes it)", "`keyring`",
    ),
    ConfigKey(
        "history", bool, "true or false", lambda v: v,
        "save conversations in the history database", "`true` or `false`",
        default=True, default_doc="`true`",
    ),
    ConfigKey(
        "timeout", float, "a positive number of seconds", _seconds,
        "idle timeout before the first byte and between stream events; "
        "connect timeout (at most 15 s); more than a day counts as a day", "seconds, > 0",
        default=60.0, default_doc="`60`", env=("KIMI_TIMEOUT",), flag="--timeout",
    ),
    ConfigKey(
        "max_retries", int, f"a whole number from 0 to {MAX_RETRIES}", _retries,
        "retries after a temporary failure", f"integer, 0–{MAX_RETRIES}",
        default=2, default_doc="`2`", env=("KIMI_MAX_RETRIES",),
    ),
    ConfigKey(
        "max_tokens", int, f"a whole number from 1 to {MAX_OUTPUT_TOKENS:,}", _budget,
        "default output budget (`--max-tokens` wins)", f"integer, 1–{MAX_OUTPUT_TOKENS:,}",
    ),
    ConfigKey(
        "currency", str, "a 3-letter currency code such as USD", _currency,
        "currency for costs when `base_url` is explicit", "3-letter code",
    ),
    ConfigKey(
        "web_search", bool, "true or false", lambda v: v,
        "let `kimi chat` search the web (`--web-search`/`--no-web-search` win)",
        "`true` or `false`", default=False, default_doc="`false`",
    ),
    ConfigKey(
        "budget_daily", float, "a positive amount", _amount,
        "most to spend per UTC day, in the region's currency (see docs/usage.md)", "amount, > 0",
    ),
    ConfigKey(
        "budget_monthly", float, "a positive amount", _amount,
        "most to spend per UTC month, in the region's currency", "amount, > 0",
    ),
)  # fmt: skip
SPEC: dict[str, ConfigKey] = {spec.name: spec for spec in SPECS}
CONFIG_KEYS: tuple[str, ...] = tuple(SPEC)


def expected(key: str) -> str:
    """What a valid value of ``key`` looks like, for error messages."""
    return SPEC[key].expected


def type_ok(key: str, value: object) -> bool:
    kind = SPEC[key].type
    if kind is float:
        return isinstance(value, int | float) and not isinstance(value, bool)
    if kind is int:
        return isinstance(value, int) and not isinstance(value, bool)
    return isinstance(value, kind)


def normalize(key: str, value: object) -> Any:
    """Check a typed value of ``key`` and return its canonical form; ValueError if invalid.

    The ValueError's message is ``expected(key)``; callers add the key, value and source.
    """
    spec = SPEC[key]  # KeyError for an unknown key
    if not type_ok(key, value):
        raise ValueError(spec.expected)
    canonical = spec.check(value.strip() if isinstance(value, str) else value)
    if canonical is None:
        raise ValueError(spec.expected)
    return canonical


def parse_bool(text: str) -> bool:
    """``true/yes/on/1`` or ``false/no/off/0`` (any case); UsageError otherwise."""
    word = text.strip().lower()
    if word in _TRUTHY:
        return True
    if word in _FALSY:
        return False
    raise UsageError(f"not a boolean: {text!r}", hint="use true or false")


def parse_text(key: str, text: str) -> Any:
    """The text of a variable or argument in ``key``'s type; ValueError if it does not parse."""
    kind = SPEC[key].type
    try:
        if kind is bool:
            return parse_bool(text)
        if kind is float:
            return float(text)
        if kind is int:
            return int(text.strip())
    except (ValueError, UsageError):
        raise ValueError(expected(key)) from None
    return text


def check_key(key: str) -> None:
    if key not in SPEC:
        raise UsageError(
            f"unknown config key {key!r}", hint=f"the keys are: {', '.join(CONFIG_KEYS)}"
        )


def markdown_table() -> str:
    """The "Config keys" table of docs/configuration.md."""
    lines = ["| key | type | default | meaning |", "|---|---|---|---|"]
    for s in SPECS:
        lines.append(f"| `{s.name}` | {s.type_doc} | {s.default_doc} | {s.meaning} |")
    return "\n".join(lines) + "\n"
