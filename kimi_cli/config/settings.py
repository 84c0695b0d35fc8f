"""The resolved settings, and the small facts every command needs about them."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import platformdirs

from kimi_cli.config.masking import mask_key
from kimi_cli.config_store import (
    CONFIG_KEYS,
    KIMI_CODE_HOST,
    ConfigStore,
    Region,
    Source,
    check_key,
    normalize,
    other_region,
    parse_text,
    refuse_api_key,
    region_named,
)
from kimi_cli.errors import AuthError, ConfigError, UsageError


def env_value(env: Mapping[str, str], name: str) -> str | None:
    """An environment variable's value, stripped; None when unset or empty."""
    value = env.get(name, "").strip()
    return value or None


def region_url(region: str, env: Mapping[str, str]) -> str:
    """Where ``region`` lives: the built-in URL, or KIMI_GLOBAL_BASE_URL / KIMI_CN_BASE_URL."""
    try:
        facts = region_named(region)
    except KeyError:
        raise ValueError(f"unknown region {region!r}") from None
    var = facts.url_variable
    override = env_value(env, var)
    if override is None:
        return facts.base_url
    try:
        return str(normalize("base_url", override))
    except ValueError as exc:
        message = f"invalid {var} {override!r}: expected {exc}"
        raise ConfigError(message, hint=f"fix or unset {var}") from None


def coerce_value(key: str, text: str) -> Any:
    """The value of ``kimi config set KEY VALUE``, typed and checked; UsageError if invalid."""
    from kimi_cli.config_store import SPEC

    check_key(key)
    spec = SPEC[key]
    if not spec.settable:
        raise refuse_api_key()
    try:
        value = normalize(key, parse_text(key, text))
    except ValueError as exc:
        raise UsageError(f"invalid {key} {text!r}: expected {exc}") from None
    refusal = spec.refuse_on_set(value) if spec.refuse_on_set else None
    if refusal:
        raise UsageError(refusal, hint=f"leave {key} unset, or give the Open Platform's URL")
    return value


def state_dirs(env: Mapping[str, str]) -> tuple[Path, Path, Path]:
    """(config, data, cache) directories: KIMI_*_DIR, else the platform's usual places."""

    def pick(var: str, default: Path) -> Path:
        value = env_value(env, var)
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
    api_key_source: Source | None
    base_url: str
    base_url_source: Source
    region: str | None
    model: str | None
    model_source: Source | None
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
    sources: Mapping[str, Source]
    saved_api_key_overridden: bool
    api_key_cmd: str | None = None
    api_key_store: str | None = None  # "keyring": the key lives in the OS keychain
    budget_daily: float | None = None  # kimi_cli.budget checks requests against them
    budget_monthly: float | None = None
    env: Mapping[str, str] = field(default_factory=dict, repr=False, compare=False)
    web_search: bool = False

    @property
    def roles_dir(self) -> Path:
        return self.config_dir / "roles"

    def other_region_facts(self) -> tuple[Region, str] | None:
        """(the other region, the URL it lives at here), for a probe after a 401; None when
        the base URL was given explicitly."""
        if self.region is None:
            return None
        other = other_region(self.region)
        return other, region_url(other.name, self.env)

    def is_kimi_code_endpoint(self) -> bool:
        """True for ``api.kimi.com``: Kimi Code, not the Open Platform."""
        return (urlsplit(self.base_url).hostname or "") == KIMI_CODE_HOST

    def endpoint_error(self) -> AuthError | None:
        """Why requests must not go to this base URL (Kimi Code's), or None."""
        if not self.is_kimi_code_endpoint():
            return None
        fix = self.base_url_source.unset_fix("base_url")
        return AuthError(
            f"{self.base_url} is the Kimi Code endpoint, which only coding agents may use",
            hint=f"use the Open Platform: {fix} (then region global or cn applies)",
        )

    def describe(self) -> dict[str, dict[str, Any]]:
        """``{KEY: {value, source}}`` for every config key, the key masked (config show)."""
        values: dict[str, Any] = {
            "region": self.region,
            "base_url": self.base_url,
            "model": self.model,
            "api_key": mask_key(self.api_key),
            "api_key_cmd": self.api_key_cmd,
            "api_key_store": self.api_key_store,
            "history": self.history,
            "timeout": self.timeout,
            "max_retries": self.max_retries,
            "max_tokens": self.max_tokens,
            "currency": self.currency,
            "web_search": self.web_search,
            "budget_daily": self.budget_daily,
            "budget_monthly": self.budget_monthly,
        }
        return {
            key: {"value": values[key], "source": str(self.sources[key])} for key in CONFIG_KEYS
        }
