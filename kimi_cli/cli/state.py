"""What every command shares: settings resolved once, one HTTP client per base URL and key.

Nothing here is built before a command asks for it, so ``kimi --help`` and usage errors never
resolve settings, run ``api_key_cmd`` or import httpx. A command that talks to the API asks for
a ``Connection`` once and passes it down: the settings, the key, the client and the model cache,
typed, with the other-region probe made only when a 401 needs it.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING

from kimi_cli.config import (
    ConfigStore,
    GlobalOptions,
    Settings,
    Source,
    resolve_settings,
    state_dirs,
)
from kimi_cli.errors import ConfigError, KimiError, UnexpectedResponseError

if TYPE_CHECKING:
    import httpx

    from kimi_cli.api.client import KimiClient
    from kimi_cli.api.types import Model
    from kimi_cli.catalog import ModelCache
    from kimi_cli.catalog.access import ClientFactory
    from kimi_cli.catalog.region_probe import OtherRegion
    from kimi_cli.history import HistoryStore

MODELS_SPINNER = "asking the API for its models…"
NO_KEY_HINT = "run 'kimi setup', or set KIMI_API_KEY ('kimi emulator' needs no real key)"


@dataclass(frozen=True)
class Connection:
    """Everything a command needs to talk to the API, resolved once."""

    settings: Settings
    api_key: str
    client: KimiClient
    make_client: ClientFactory
    cache: ModelCache

    def find_other_region(self, fix_template: str | None = None) -> OtherRegion | None:
        """The other region, if it knows this key: asked after a 401 only, so nothing of
        the probe is built before one. ``fix_template``: the switch command, ``{region}``
        in it (default: worded by where the base URL came from)."""
        from kimi_cli.catalog.region_probe import RegionProbe

        return RegionProbe(self.settings, self.api_key, self.make_client, fix_template).find()

    def list_models(self) -> list[Model]:
        """The live model list (or its cache), with refusals explained; a spinner on a
        terminal while it comes."""
        from kimi_cli.catalog.access import list_models_checked
        from kimi_cli.render.spinner import waiting

        with waiting(MODELS_SPINNER):
            return list_models_checked(
                self.client,
                api_key=self.api_key,
                cache=self.cache,
                find_other_region=self.find_other_region,
                base_url_source=self.settings.base_url_source,
            )

    def resolve_model(self, model_id: str, source: Source | None) -> Model:
        """The verified model; a miss is explained for where the ID came from (``source``:
        a flag, a variable, the config file; None: the catalog's own hint, as for an ID from
        a stored conversation or a batch line)."""
        from kimi_cli.catalog.access import resolve_model

        return resolve_model(
            model_id,
            self.client,
            api_key=self.api_key,
            cache=self.cache,
            find_other_region=self.find_other_region,
            model_source=source,
            base_url_source=self.settings.base_url_source,
        )


@dataclass
class AppState:
    options: GlobalOptions = field(default_factory=GlobalOptions)
    env: Mapping[str, str] = field(default_factory=os.environ.copy)
    _settings: Settings | None = None
    _store: ConfigStore | None = None
    _clients: dict[str, KimiClient] = field(default_factory=dict)
    _history: HistoryStore | None = None
    _connection: Connection | None = None
    #: The settings of the last connection made (``connect(settings)`` may differ).
    _connected: Settings | None = None

    @property
    def debug(self) -> bool:
        return self.options.debug or _truthy(self.env.get("KIMI_DEBUG"))

    def store(self) -> ConfigStore:
        if self._store is None:
            config_dir, _, _ = state_dirs(self.env)
            self._store = ConfigStore(config_dir / "config.toml")
        return self._store

    def settings(self, *, model: str | None = None, region: str | None = None) -> Settings:
        """Resolve once; a ``model`` (``tokens -m``) or ``region`` given here resolves afresh."""
        if model is not None or region is not None:
            options = replace(
                self.options,
                model=self.options.model if model is None else model,
                region=self.options.region if region is None else region,
            )
            return resolve_settings(options, self.env, self.store())
        if self._settings is None:
            self._settings = resolve_settings(self.options, self.env, self.store())
        return self._settings

    def connect(self, settings: Settings | None = None) -> Connection:
        """The settings, the key and the client, resolved once (or for ``settings`` given).

        ConfigError without a key; AuthError for the Kimi Code endpoint.
        """
        if settings is None and self._connection is not None:
            return self._connection
        settings = settings or self.settings()
        self._connected = settings
        key = require_key(settings)
        refused = settings.endpoint_error()
        if refused is not None:
            raise refused
        connection = Connection(
            settings=settings,
            api_key=key,
            client=self.make_client(settings.base_url, key, settings),
            make_client=lambda url, api_key: self.make_client(url, api_key, settings),
            cache=self.model_cache(settings),
        )
        if settings is self._settings:
            self._connection = connection
        return connection

    def fit_hint(self, exc: KimiError) -> None:
        """Add the hint the HTTP layer leaves out, worded by where the setting came from: a
        base URL that did not answer like the API names the flag, variable or key to check."""
        if exc.hint is not None or not isinstance(exc, UnexpectedResponseError):
            return
        from kimi_cli.hints import base_url_fix

        settings = self._connected or self._settings
        if settings is not None:
            exc.hint = base_url_fix(settings.base_url, settings.base_url_source)

    def require_key(self, settings: Settings | None = None) -> str:
        return require_key(settings or self.settings())

    def client(self, base_url: str | None = None, api_key: str | None = None) -> KimiClient:
        """The one client for ``base_url`` (default: the resolved one), with the key.

        The older spelling of ``connect().client`` / ``connect().make_client(url, key)``.
        """
        settings = self.settings()
        if base_url is None:
            refused = settings.endpoint_error()
            if refused is not None:
                raise refused
        key = api_key if api_key is not None else require_key(settings)
        return self.make_client(base_url or settings.base_url, key, settings)

    def make_client(
        self, base_url: str, api_key: str, settings: Settings | None = None
    ) -> KimiClient:
        """The shared client for (``base_url``, ``api_key``): a ``ClientFactory``."""
        from kimi_cli.api.client import KimiClient

        settings = settings or self.settings()
        url = base_url.rstrip("/")
        cache_key = f"{url}\n{api_key}"
        if cache_key not in self._clients:
            try:
                self._clients[cache_key] = KimiClient(
                    url,
                    api_key,
                    timeout=settings.timeout,
                    max_retries=settings.max_retries,
                    transport=_socks_transport(url, self.env),
                    trace=_trace if settings.debug else None,
                )
            except Exception as exc:  # httpx reads SSL_CERT_FILE and proxies here
                raise _environment_error(exc, self.env) from exc
        return self._clients[cache_key]

    def model_cache(self, settings: Settings | None = None) -> ModelCache:
        from kimi_cli.catalog.cache import ModelCache

        return ModelCache((settings or self.settings()).cache_dir)

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
        self._connection = None
        if self._history is not None:
            self._history.close()
            self._history = None


def _socks_transport(url: str, env: Mapping[str, str]) -> httpx.BaseTransport | None:
    """None in the usual case: httpx reads the proxy variables itself.

    V2RayN and Clash export ``socks://``, which means SOCKS5 to them and which httpx refuses
    outright; it is read as ``socks5://`` here, with NO_PROXY honoured, and the environment is
    left as it was (a transport given to httpx replaces its own reading of the variables).
    """
    from kimi_cli.api.proxy import PROXY_VARIABLES

    socks = [n for n in PROXY_VARIABLES if env.get(n, "").strip().lower().startswith("socks://")]
    if not socks:
        return None
    import httpx

    from kimi_cli.doctor.checks_local import proxy_for

    fixed = {**env, **{n: "socks5://" + env[n].strip()[len("socks://") :] for n in socks}}
    proxy = proxy_for(url, fixed)
    return httpx.HTTPTransport(proxy=proxy) if proxy else httpx.HTTPTransport()


def require_key(settings: Settings) -> str:
    if not settings.api_key:
        raise ConfigError("no API key", hint=NO_KEY_HINT)
    return settings.api_key


#: The proxy variables httpx reads when a client is made (lower case wins).
PROXY_VARS = ("https_proxy", "HTTPS_PROXY", "http_proxy", "HTTP_PROXY", "all_proxy", "ALL_PROXY")


def _environment_error(exc: Exception, env: Mapping[str, str]) -> Exception:
    """A client that cannot be built: a CA bundle or a proxy variable httpx cannot use."""
    if isinstance(exc, OSError):
        names = [
            f"{n}={os.environ[n]}" for n in ("SSL_CERT_FILE", "SSL_CERT_DIR") if n in os.environ
        ]
        return ConfigError(
            f"cannot load the TLS certificates ({', '.join([*names, exc.strerror or str(exc)])})",
            hint="point SSL_CERT_FILE at a PEM bundle (your organisation's CA) or unset it",
            notes=("'kimi doctor' checks it",),
        )
    broken = _unparsable_proxy(env)
    if broken is not None or (isinstance(exc, ValueError) and "proxy" in str(exc).lower()):
        if broken is not None:
            return ConfigError(
                f"{broken} is not a URL ({exc})",
                hint=f"fix {broken} (http://HOST:PORT, or https://, socks5://, socks5h://) "
                "or unset it",
                notes=("'kimi doctor' checks the proxy variables",),
            )
        return ConfigError(
            f"a proxy variable is not usable ({exc})",
            hint="use an http://, https://, socks5:// or socks5h:// URL",
            notes=("'kimi doctor' checks them",),
        )
    return exc  # not the environment's fault: a bug, reported as one


def _unparsable_proxy(env: Mapping[str, str]) -> str | None:
    """The first proxy variable httpx cannot read as a URL (a bad port, a broken [IPv6])."""
    import httpx

    for name in PROXY_VARS:
        value = env.get(name, "").strip()
        if not value:
            continue
        try:  # as httpx reads it: a value without a scheme is http://
            httpx.URL(value if "://" in value else f"http://{value}")
        except (httpx.InvalidURL, ValueError):
            return name
    return None


def _trace(line: str) -> None:
    sys.stderr.write(f"kimi: debug: {line}\n")


def _truthy(value: str | None) -> bool:
    return (value or "").strip().lower() in {"1", "true", "yes", "on"}
