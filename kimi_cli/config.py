"""Settings: what ``kimi`` runs with, and where each value came from.

Every setting resolves the same way: flag > environment > config file > built-in default, and
remembers its source so that ``kimi config show`` and ``kimi doctor`` can say why a value is what
it is. Where requests go is one setting with several spellings, tried in this order:
``--base-url``, ``--region``, ``KIMI_BASE_URL``, ``KIMI_REGION``, file ``base_url``, file
``region``, then region ``global``. Only the value that wins is validated (flags always are), so
an environment variable can be used to work around a bad value in the file.

The config file itself (ConfigStore, the keys and their value rules) lives in
``kimi_cli.config_store`` and is re-exported here. Standard library, platformdirs and the
errors module only: no rich, typer or httpx, and tomlkit only when writing.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Any
from urllib.parse import urlsplit

import platformdirs

from kimi_cli.config_store import CONFIG_KEYS as CONFIG_KEYS
from kimi_cli.config_store import REGIONS as REGIONS
from kimi_cli.config_store import ConfigStore as ConfigStore
from kimi_cli.config_store import VerifiedModel as VerifiedModel
from kimi_cli.config_store import (
    check_key,
    expected,
    normalize,
    refuse_api_key,
)
from kimi_cli.errors import ConfigError, KimiError, UsageError

REGION_URLS: dict[str, str] = {
    "global": "https://api.moonshot.ai/v1",
    "cn": "https://api.moonshot.cn/v1",
}
REGION_URL_VARS: dict[str, str] = {"global": "KIMI_GLOBAL_BASE_URL", "cn": "KIMI_CN_BASE_URL"}
CURRENCY_BY_REGION: dict[str, str] = {"global": "USD", "cn": "CNY"}
KIMI_CODE_HOST = "api.kimi.com"
DEFAULT_TIMEOUT = 60.0
DEFAULT_MAX_RETRIES = 2
API_KEY_CMD_TIMEOUT = 15.0
NOT_SET = "not set"
_OFFICIAL_HOST_CURRENCY = {"api.moonshot.ai": "USD", "api.moonshot.cn": "CNY"}
_TRUTHY = frozenset({"1", "true", "yes", "on"})
_FALSY = frozenset({"0", "false", "no", "off"})


def mask_key(key: str | None) -> str:
    """The one way a key is ever shown: ``sk-abc…wxyz``.

    At most 10 characters are revealed, and never more than half of the key: a prefix of up to
    6 characters and the last 4 for keys of 12 characters or more, the first 2 otherwise.
    """
    if not key:
        return "(none)"
    size = len(key)
    if size < 12:
        return key[: min(2, size // 2)] + "…"
    return key[: min(6, size // 2 - 4)] + "…" + key[-4:]


def parse_bool(text: str) -> bool:
    """``true/yes/on/1`` or ``false/no/off/0`` (any case); UsageError otherwise."""
    word = text.strip().lower()
    if word in _TRUTHY:
        return True
    if word in _FALSY:
        return False
    raise UsageError(f"not a boolean: {text!r}", hint="use true or false")


def _parse_text(key: str, text: str) -> Any:
    """The text of a variable or argument in ``key``'s type; ValueError if it does not parse."""
    try:
        if key == "history":
            return parse_bool(text)
        if key == "timeout":
            return float(text)
        if key in ("max_retries", "max_tokens"):
            return int(text.strip())
    except (ValueError, UsageError):
        raise ValueError(expected(key)) from None
    return text


def coerce_value(key: str, text: str) -> Any:
    """The value of ``kimi config set KEY VALUE``, typed and checked; UsageError if invalid."""
    check_key(key)
    if key == "api_key":
        raise refuse_api_key()
    try:
        return normalize(key, _parse_text(key, text))
    except ValueError as exc:
        raise UsageError(f"invalid {key} {text!r}: expected {exc}") from None


def _env(env: Mapping[str, str], name: str) -> str | None:
    """An environment variable's value, stripped; None when unset or empty."""
    value = env.get(name, "").strip()
    return value or None


def region_url(region: str, env: Mapping[str, str]) -> str:
    """Where ``region`` lives: the built-in URL, or KIMI_GLOBAL_BASE_URL / KIMI_CN_BASE_URL."""
    if region not in REGION_URLS:
        raise ValueError(f"unknown region {region!r}")
    var = REGION_URL_VARS[region]
    override = _env(env, var)
    if override is None:
        return REGION_URLS[region]
    try:
        return str(normalize("base_url", override))
    except ValueError as exc:
        message = f"invalid {var} {override!r}: expected {exc}"
        raise ConfigError(message, hint=f"fix or unset {var}") from None


def state_dirs(env: Mapping[str, str]) -> tuple[Path, Path, Path]:
    """(config, data, cache) directories: KIMI_*_DIR, else the platform's usual places."""

    def pick(var: str, default: Path) -> Path:
        value = _env(env, var)
        return Path(value).expanduser().absolute() if value else default

    return (
        pick("KIMI_CONFIG_DIR", platformdirs.user_config_path("kimi", appauthor=False)),
        pick("KIMI_DATA_DIR", platformdirs.user_data_path("kimi", appauthor=False)),
        pick("KIMI_CACHE_DIR", platformdirs.user_cache_path("kimi", appauthor=False)),
    )


def default_store(env: Mapping[str, str]) -> ConfigStore:
    """The ConfigStore for ``config.toml`` in the config directory (nothing is read yet)."""
    return ConfigStore(state_dirs(env)[0] / "config.toml")


@dataclass(frozen=True)
class GlobalOptions:
    """What the user gave as global flags (None: not given)."""

    base_url: str | None = None
    region: str | None = None
    timeout: float | None = None
    debug: bool = False
    api_key: str | None = field(default=None, repr=False)  # setup/internal only: no flag
    model: str | None = None  # chat -m/--model


@dataclass(frozen=True)
class Settings:
    """Everything resolved, with ``sources[setting]`` saying where each value came from."""

    api_key: str | None = field(repr=False)
    api_key_source: str | None
    base_url: str
    base_url_source: str
    region: str | None
    model: str | None
    model_source: str | None
    timeout: float
    max_retries: int
    history: bool
    max_tokens: int | None
    currency: str | None
    debug: bool
    config_path: Path
    config_dir: Path
    data_dir: Path
    cache_dir: Path
    sources: Mapping[str, str]
    saved_api_key_overridden: bool
    api_key_cmd: str | None = None

    @property
    def roles_dir(self) -> Path:
        return self.config_dir / "roles"

    def other_region(self) -> str | None:
        """The region to probe after a 401; None when the URL was given explicitly."""
        if self.region is None:
            return None
        return "cn" if self.region == "global" else "global"

    def is_kimi_code_endpoint(self) -> bool:
        """True for ``api.kimi.com``: Kimi Code, not the Open Platform."""
        return (urlsplit(self.base_url).hostname or "") == KIMI_CODE_HOST

    def describe(self) -> dict[str, dict[str, Any]]:
        """``{KEY: {value, source}}`` for every config key, the key masked (config show)."""
        values: dict[str, Any] = {
            "region": self.region,
            "base_url": self.base_url,
            "model": self.model,
            "api_key": mask_key(self.api_key),
            "api_key_cmd": self.api_key_cmd,
            "history": self.history,
            "timeout": self.timeout,
            "max_retries": self.max_retries,
            "max_tokens": self.max_tokens,
            "currency": self.currency,
        }
        return {key: {"value": values[key], "source": self.sources[key]} for key in CONFIG_KEYS}


class _Resolver:
    """Picks the first given value per setting and validates it, naming its source."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def check(self, key: str, raw: object, source: str) -> Any:
        try:
            return normalize(key, _parse_text(key, raw) if isinstance(raw, str) else raw)
        except ValueError as exc:
            raise self.invalid(key, raw, source, str(exc)) from None

    def pick(self, key: str, candidates: Iterable[tuple[str, object]]) -> tuple[Any, str] | None:
        for source, raw in candidates:
            if raw is not None:
                return self.check(key, raw, source), source
        return None

    def invalid(self, key: str, raw: object, source: str, want: str) -> KimiError:
        shown = "" if key == "api_key" else f" {raw!r}"
        message = f"invalid {key}{shown} from {source}: expected {want}"
        if source.startswith("flag"):
            return UsageError(message, hint="see 'kimi --help'")
        if source.startswith("env "):
            return ConfigError(message, hint=f"fix or unset {source[4:]}")
        if source == "api_key_cmd":
            return ConfigError(message, hint="make api_key_cmd print only the key")
        if key == "api_key":
            return ConfigError(message, hint=f"run 'kimi setup' or edit {self.path}")
        return ConfigError(message, hint=f"run 'kimi config set {key} …' or edit {self.path}")


def run_api_key_cmd(command: str) -> str:
    """Run ``api_key_cmd`` in a shell and return what it printed, stripped.

    stdin is /dev/null (so a piped prompt is never swallowed); stdout never appears in a message.
    """
    import subprocess  # only this needs it: not imported on every run

    hint = "run the api_key_cmd of your config file yourself to see why"
    try:
        proc = subprocess.Popen(  # a shell command the user configured
            command,
            shell=True,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
    except OSError as exc:
        raise ConfigError(f"api_key_cmd could not start: {exc.strerror or exc}", hint=hint) from exc
    with proc:
        try:
            out, err = proc.communicate(timeout=API_KEY_CMD_TIMEOUT)
        except subprocess.TimeoutExpired:
            proc.kill()
            with contextlib.suppress(subprocess.TimeoutExpired):
                proc.communicate(timeout=1)
            message = f"api_key_cmd timed out after {API_KEY_CMD_TIMEOUT:g} s"
            raise ConfigError(message, hint=hint) from None
    key = out.decode("utf-8", "replace").strip()
    if proc.returncode != 0:
        lines = [line.strip() for line in err.decode("utf-8", "replace").splitlines()]
        first = next((line for line in lines if line), "")[:200]
        if key and len(key) >= 4:
            first = first.replace(key, mask_key(key))
        detail = f": {first}" if first else ""
        raise ConfigError(f"api_key_cmd failed (exit {proc.returncode}){detail}", hint=hint)
    if not key:
        raise ConfigError("api_key_cmd printed nothing", hint=hint)
    if "\n" in key:
        raise ConfigError(
            "api_key_cmd printed more than one line",
            hint="make it print only the key, e.g. 'pass show kimi | head -n 1'",
        )
    return key


def _resolve_base_url(
    options: GlobalOptions, env: Mapping[str, str], file: Mapping[str, Any], r: _Resolver
) -> tuple[str, str, str | None]:
    """(base URL, its source, region or None when the URL was given explicitly)."""
    candidates: list[tuple[str, str, object]] = [
        ("base_url", "flag --base-url", options.base_url),
        ("region", "flag --region", options.region),
        ("base_url", "env KIMI_BASE_URL", _env(env, "KIMI_BASE_URL")),
        ("region", "env KIMI_REGION", _env(env, "KIMI_REGION")),
        ("base_url", "config file base_url", file.get("base_url")),
        ("region", "config file region", file.get("region")),
    ]
    for key, source, raw in candidates[:2]:  # a flag is checked even when it does not win
        if raw is not None:
            r.check(key, raw, source)
    for key, source, raw in candidates:
        if raw is None:
            continue
        value = r.check(key, raw, source)
        if key == "base_url":
            return value, source, None
        return region_url(value, env), source, value
    return region_url("global", env), "region global (default)", "global"


def resolve_settings(
    options: GlobalOptions,
    env: Mapping[str, str],
    store: ConfigStore,
    *,
    run_key_cmd: bool = True,
) -> Settings:
    """Resolve every setting (flag > environment > config file > default).

    ``run_key_cmd=False`` leaves a key that only ``api_key_cmd`` could give unresolved (None),
    for commands that do not talk to the API (``config show``): the command is not run.
    """
    file = store.load()
    r = _Resolver(store.path)
    sources: dict[str, str] = {}
    if options.timeout is not None:
        r.check("timeout", options.timeout, "flag --timeout")

    base_url, base_source, region = _resolve_base_url(options, env, file, r)
    sources["base_url"] = base_source
    sources["region"] = base_source if region else f"unused: the base URL is from {base_source}"

    if region is not None:
        currency: str | None = CURRENCY_BY_REGION[region]
        sources["currency"] = f"region {region}"
    elif file.get("currency") is not None:
        currency = r.check("currency", file["currency"], "config file")
        sources["currency"] = "config file"
    else:
        host = urlsplit(base_url).hostname or ""
        currency = _OFFICIAL_HOST_CURRENCY.get(host)
        sources["currency"] = f"host {host}" if currency else "unknown for an explicit base URL"

    picked = r.pick(
        "api_key",
        [
            ("flag", options.api_key),
            ("env KIMI_API_KEY", _env(env, "KIMI_API_KEY")),
            ("env MOONSHOT_API_KEY", _env(env, "MOONSHOT_API_KEY")),
            ("config file", file.get("api_key") or None),
        ],
    )
    key_cmd = file.get("api_key_cmd") or None
    api_key, key_source = picked if picked else (None, None)
    sources["api_key"] = key_source or NOT_SET
    sources["api_key_cmd"] = "config file" if key_cmd else NOT_SET
    if api_key is None and key_cmd:
        key_source = sources["api_key"] = "api_key_cmd"
        if run_key_cmd:
            api_key = r.check("api_key", run_api_key_cmd(key_cmd), "api_key_cmd")
        else:
            sources["api_key"] = "api_key_cmd (not run)"
    saved_key = bool(file.get("api_key")) or bool(key_cmd)
    overridden = bool(key_source and key_source.startswith("env ") and saved_key)

    def setting(key: str, default: Any, *candidates: tuple[str, object]) -> Any:
        found = r.pick(key, candidates)
        value, sources[key] = found if found else (default, "default" if default else NOT_SET)
        return value

    def var(name: str) -> tuple[str, str | None]:
        return f"env {name}", _env(env, name)

    def saved(key: str) -> tuple[str, object]:
        return "config file", file.get(key)

    model = setting(
        "model", None, ("flag --model", options.model), var("KIMI_MODEL"), saved("model")
    )
    timeout = setting(
        "timeout",
        DEFAULT_TIMEOUT,
        ("flag --timeout", options.timeout),
        var("KIMI_TIMEOUT"),
        saved("timeout"),
    )
    max_retries = setting(
        "max_retries", DEFAULT_MAX_RETRIES, var("KIMI_MAX_RETRIES"), saved("max_retries")
    )
    history = setting("history", True, saved("history"))
    max_tokens = setting("max_tokens", None, saved("max_tokens"))

    debug_env = _env(env, "KIMI_DEBUG")
    debug = options.debug or (debug_env or "").lower() in _TRUTHY
    sources["debug"] = (
        "flag --debug" if options.debug else "env KIMI_DEBUG" if debug_env else "default"
    )

    _, data_dir, cache_dir = state_dirs(env)
    return Settings(
        api_key=api_key,
        api_key_source=key_source,
        base_url=base_url,
        base_url_source=base_source,
        region=region,
        model=model,
        model_source=None if model is None else sources["model"],
        timeout=timeout,
        max_retries=max_retries,
        history=history,
        max_tokens=max_tokens,
        currency=currency,
        debug=debug,
        config_path=store.path,
        config_dir=store.path.parent,
        data_dir=data_dir,
        cache_dir=cache_dir,
        sources=MappingProxyType(sources),
        saved_api_key_overridden=overridden,
        api_key_cmd=key_cmd,
    )
