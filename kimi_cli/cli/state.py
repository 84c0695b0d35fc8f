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
            raise AuthError(
                f"{url} is the Kimi Code endpoint, which only coding agents may use",
                hint="use the Open Platform: kimi config unset base_url (region global or cn)",
            )
        cache_key = f"{url}\n{key}"
        if cache_key not in self._clients:
            self._clients[cache_key] = KimiClient(
                url,
                key,
                timeout=settings.timeout,
                max_retries=settings.max_retries,
                trace=_trace if self.debug else None,
            )
        return self._clients[cache_key]

    def model_cache(self) -> ModelCache:
        from kimi_cli.catalog import ModelCache

        return ModelCache(self.settings().cache_dir)

    def history(self) -> HistoryStore:
        if self._history is None:
            from kimi_cli.history import HistoryStore

            self._history = HistoryStore(self.settings().data_dir / "history.db")
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


def _trace(line: str) -> None:
    sys.stderr.write(f"kimi: debug: {line}\n")


def _truthy(value: str | None) -> bool:
    return (value or "").strip().lower() in {"1", "true", "yes", "on"}
