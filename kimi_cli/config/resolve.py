"""Resolving every setting: flag > environment > config file > built-in default.

Where requests go is one setting with several spellings, tried in this order: ``--base-url``,
``--region``, ``KIMI_BASE_URL``, ``KIMI_REGION``, file ``base_url``, file ``region``, then
region ``global``. Only the value that wins is validated (flags always are), so an environment
variable can be used to work around a bad value in the file.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from types import MappingProxyType
from typing import Any
from urllib.parse import urlsplit

from kimi_cli.config.settings import (
    GlobalOptions,
    Settings,
    env_value,
    region_url,
    state_dirs,
)
from kimi_cli.config_store import (
    DEFAULT_REGION,
    SPEC,
    ConfigStore,
    Source,
    SourceKind,
    normalize,
    parse_text,
    region_named,
    region_of_host,
)
from kimi_cli.errors import ConfigError, KimiError, UsageError

_TRUTHY = frozenset({"1", "true", "yes", "on"})
Candidate = tuple[Source, object]


class _Resolver:
    """Picks the first given value per setting and validates it, naming its source."""

    def __init__(self, store: ConfigStore) -> None:
        self.store = store
        self.path = store.path

    def check(self, key: str, raw: object, source: Source) -> Any:
        if source.is_file:
            wrong_type = self.store.type_error(key)
            if wrong_type is not None:
                raise wrong_type
        try:
            return normalize(key, parse_text(key, raw) if isinstance(raw, str) else raw)
        except ValueError as exc:
            raise self.invalid(key, raw, source, str(exc)) from None

    def pick(self, key: str, candidates: Iterable[Candidate]) -> tuple[Any, Source] | None:
        for source, raw in candidates:
            if raw is not None:
                return self.check(key, raw, source), source
        return None

    def invalid(self, key: str, raw: object, source: Source, want: str) -> KimiError:
        shown = "" if key == "api_key" else f" {raw!r}"
        message = f"invalid {key}{shown} from {source}: expected {want}"
        if source.is_flag:
            return UsageError(message, hint="see 'kimi --help'")
        if source.is_env:
            return ConfigError(message, hint=f"fix or unset {source.name}")
        if source.kind is SourceKind.KEY_CMD:
            return ConfigError(message, hint="make api_key_cmd print only the key")
        if key == "api_key":
            return ConfigError(message, hint=f"run 'kimi setup' or edit {self.path}")
        return ConfigError(message, hint=f"run 'kimi config set {key} …' or edit {self.path}")


def _candidates(
    key: str, options: GlobalOptions, env: Mapping[str, str], file: Mapping[str, Any]
) -> list[Candidate]:
    """Where ``key`` may come from, in order, as its spec says: flag, variables, file."""
    spec = SPEC[key]
    found: list[Candidate] = []
    if spec.flag is not None:
        found.append((Source.flag(spec.flag), getattr(options, spec.flag[2:].replace("-", "_"))))
    found.extend((Source.env(name), env_value(env, name)) for name in spec.env)
    found.append((Source.file(), file.get(key)))
    return found


def _resolve_base_url(
    options: GlobalOptions, env: Mapping[str, str], file: Mapping[str, Any], r: _Resolver
) -> tuple[str, Source, str | None]:
    """(base URL, its source, region or None when the URL was given explicitly)."""
    url = _candidates("base_url", options, env, file)
    region = _candidates("region", options, env, file)
    # Each level (flag, variable, file) tries the URL before the region.
    ordered: list[tuple[str, Source, object]] = []
    for (url_source, url_raw), (region_source, region_raw) in zip(url, region, strict=True):
        ordered.append(("base_url", _named(url_source, "base_url"), url_raw))
        ordered.append(("region", _named(region_source, "region"), region_raw))
    for key, source, raw in ordered[:2]:  # a flag is checked even when it does not win
        if raw is not None:
            r.check(key, raw, source)
    for key, source, raw in ordered:
        if raw is None:
            continue
        value = r.check(key, raw, source)
        if key == "base_url":
            return value, source, None
        return region_url(value, env), source, value
    default = Source.default(f"region {DEFAULT_REGION}")
    return region_url(DEFAULT_REGION, env), default, DEFAULT_REGION


def _named(source: Source, key: str) -> Source:
    """``config file base_url``: the file's two spellings of the URL say which one won."""
    return Source.file(key) if source.is_file else source


def resolve_settings(
    options: GlobalOptions,
    env: Mapping[str, str],
    store: ConfigStore,
    *,
    run_key_cmd: bool = True,
    read_keyring: bool = True,
) -> Settings:
    """Resolve every setting (flag > environment > config file > default).

    ``run_key_cmd=False`` leaves a key that only ``api_key_cmd`` could give unresolved (None),
    for commands that do not talk to the API (``config show``): the command is not run.
    ``read_keyring=False`` does the same for a key in the OS keychain (``setup`` replaces it).
    """
    file = store.load()
    r = _Resolver(store)
    sources: dict[str, Source] = {}
    if options.timeout is not None:
        r.check("timeout", options.timeout, Source.flag("--timeout"))

    base_url, base_source, region = _resolve_base_url(options, env, file, r)
    sources["base_url"] = base_source
    sources["region"] = base_source if region else Source(SourceKind.UNUSED, str(base_source))

    if region is not None:
        currency: str | None = region_named(region).currency
        sources["currency"] = Source(SourceKind.REGION, region)
    elif file.get("currency") is not None:
        currency = r.check("currency", file["currency"], Source.file())
        sources["currency"] = Source.file()
    else:
        host = urlsplit(base_url).hostname or ""
        official = region_of_host(host)
        currency = official.currency if official else None
        sources["currency"] = (
            Source(SourceKind.HOST, host)
            if official
            else Source.not_set("unknown for an explicit base URL")
        )

    key_candidates = _candidates("api_key", options, env, file)
    key_candidates[-1] = (Source.file(), file.get("api_key") or None)
    picked = r.pick("api_key", [(Source.flag(), options.api_key), *key_candidates])
    key_cmd = file.get("api_key_cmd") or None
    key_store = file.get("api_key_store") or None
    if key_store is not None:
        r.check("api_key_store", key_store, Source.file())
    api_key, key_source = picked if picked else (None, None)
    sources["api_key"] = key_source or Source.not_set()
    sources["api_key_cmd"] = Source.file() if key_cmd else Source.not_set()
    sources["api_key_store"] = Source.file() if key_store else Source.not_set()
    if api_key is None and key_store:
        from kimi_cli.config.keychain import read_key

        key_source = sources["api_key"] = Source(SourceKind.KEYRING)
        if read_keyring:
            api_key = r.check("api_key", read_key(), key_source)
        else:
            sources["api_key"] = Source(SourceKind.KEYRING, note="not read")
    elif api_key is None and key_cmd:
        key_source = sources["api_key"] = Source(SourceKind.KEY_CMD)
        if run_key_cmd:
            from kimi_cli.config.key_cmd import run_api_key_cmd  # a subprocess: only when set

            api_key = r.check("api_key", run_api_key_cmd(key_cmd), key_source)
        else:
            sources["api_key"] = Source(SourceKind.KEY_CMD, note="not run")
    saved_key = bool(file.get("api_key")) or bool(key_cmd) or bool(key_store)
    overridden = bool(key_source and key_source.is_env and saved_key)

    def setting(key: str) -> Any:
        found = r.pick(key, _candidates(key, options, env, file))
        default = SPEC[key].default
        if found:
            value, sources[key] = found
            return value
        sources[key] = Source.default() if default is not None else Source.not_set()
        return default

    model = setting("model")
    timeout = setting("timeout")
    max_retries = setting("max_retries")
    history = setting("history")
    max_tokens = setting("max_tokens")
    web_search = setting("web_search")
    budget_daily = setting("budget_daily")
    budget_monthly = setting("budget_monthly")

    debug_env = env_value(env, "KIMI_DEBUG")
    debug = options.debug or (debug_env or "").lower() in _TRUTHY
    sources["debug"] = (
        Source.flag("--debug")
        if options.debug
        else Source.env("KIMI_DEBUG")
        if debug_env
        else Source.default()
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
        web_search=web_search,
        currency=currency,
        debug=debug,
        config_path=store.path,
        config_dir=store.path.parent,
        data_dir=data_dir,
        cache_dir=cache_dir,
        sources=MappingProxyType(sources),
        saved_api_key_overridden=overridden,
        api_key_cmd=key_cmd,
        budget_daily=budget_daily,
        budget_monthly=budget_monthly,
        api_key_store=key_store,
        env=env,
    )
