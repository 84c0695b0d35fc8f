"""What every command shares: settings resolved once, one HTTP client per base URL.

Nothing here is built before a command asks for it, so ``kimi --help`` and usage
errors never resolve settings, run ``api_key_cmd`` or import httpx.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from kimi_cli.config import ConfigStore, GlobalOptions, Settings, resolve_settings, state_dirs
from kimi_cli.errors import AuthError, ConfigError

if TYPE_CHECKING:
    from kimi_cli.api.client import KimiClient
    from kimi_cli.catalog import ModelCache
    from kimi_cli.history import HistoryStore


@dataclass
class AppState:
    options: GlobalOptions = field(default_factory=GlobalOptions)
    env: Mapping[str, str] = field(default_factory=lambda: dict(os.environ))
    _settings: Settings | None = None
    _store: ConfigStore | None = None
    _clients: dict[str, KimiClient] = field(default_factory=dict)
    _history: HistoryStore | None = None

    @property
    def debug(self) -> bool:
        return self.options.debug or _truthy(self.env.get("KIMI_DEBUG"))

    def store(self) -> ConfigStore:
        if self._store is None:
            config_dir, _, _ = state_dirs(self.env)
            self._store = ConfigStore(config_dir / "config.toml")
        return self._store

    def settings(self, **overrides: object) -> Settings:
        """Resolve once; ``overrides`` (e.g. a chat ``--model``) resolve afresh."""
        if overrides:
            options = GlobalOptions(**{**self.options.__dict__, **overrides})
            return resolve_settings(options, self.env, self.store())
        if self._settings is None:
            self._settings = resolve_settings(self.options, self.env, self.store())
        return self._settings

    def require_key(self, settings: Settings | None = None) -> str:
        settings = settings or self.settings()
        if not settings.api_key:
            raise ConfigError(
                "no API key",
                hint="run 'kimi setup', or set KIMI_API_KEY ('kimi emulator' needs no real key)",
            )
        return settings.api_key

    def client(self, base_url: str | None = None, api_key: str | None = None) -> KimiClient:
        """The one client for ``base_url`` (default: the resolved one), with the key."""
        from kimi_cli.api.client import KimiClient
        from kimi_cli.api.proxy import normalise_socks_env

        normalise_socks_env(os.environ)
        settings = self.settings()
        url = (base_url or settings.base_url).rstrip("/")
        key = api_key if api_key is not None else self.require_key(settings)
        if base_url is None and settings.is_kimi_code_endpoint():
            from kimi_cli.hints import unset_source

            source = settings.base_url_source
            fix = unset_source("config file" if "config file" in source else source, "base_url")
            raise AuthError(
                f"{url} is the Kimi Code endpoint, which only coding agents may use",
                hint=f"use the Open Platform: {fix} (then region global or cn applies)",
            )
        cache_key = f"{url}\n{key}"
        if cache_key not in self._clients:
            try:
                self._clients[cache_key] = KimiClient(
                    url,
                    key,
                    timeout=settings.timeout,
                    max_retries=settings.max_retries,
                    trace=_trace if self.debug else None,
                )
            except (OSError, ValueError) as exc:  # httpx reads SSL_CERT_FILE and proxies here
                raise _environment_error(exc) from exc
        return self._clients[cache_key]

    def model_cache(self) -> ModelCache:
        from kimi_cli.catalog import ModelCache

        return ModelCache(self.settings().cache_dir)

    def history(self) -> HistoryStore:
        if self._history is None:
            from kimi_cli.history import HistoryStore

            _, data_dir, _ = state_dirs(self.env)  # as Settings.data_dir, without api_key_cmd
            self._history = HistoryStore(data_dir / "history.db")
        return self._history

    def roles_dir(self) -> Path:
        return self.settings().config_dir / "roles"

    def close(self) -> None:
        for client in self._clients.values():
            client.close()
        self._clients.clear()
        if self._history is not None:
            self._history.close()
            self._history = None


def _environment_error(exc: OSError | ValueError) -> Exception:
    """A client that cannot be built: a CA bundle or a proxy variable httpx cannot use."""
    if isinstance(exc, OSError):
        names = [
            f"{n}={os.environ[n]}" for n in ("SSL_CERT_FILE", "SSL_CERT_DIR") if n in os.environ
        ]
        return ConfigError(
            f"cannot load the TLS certificates ({', '.join([*names, exc.strerror or str(exc)])})",
            hint="point SSL_CERT_FILE at a PEM bundle (your organisation's CA) or unset it; "
            "'kimi doctor' checks it",
        )
    if "proxy" in str(exc).lower():
        return ConfigError(
            f"a proxy variable is not usable ({exc})",
            hint="use an http://, https://, socks5:// or socks5h:// URL; 'kimi doctor' checks them",
        )
    return exc  # not the environment's fault: a bug, reported as one


def _trace(line: str) -> None:
    sys.stderr.write(f"kimi: debug: {line}\n")


def _truthy(value: str | None) -> bool:
    return (value or "").strip().lower() in {"1", "true", "yes", "on"}
