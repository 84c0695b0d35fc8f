"""Reading /models with a diagnosis: what a refusal *means* for this user's setup.

A wrong-region key and a bad key get the same 401 from the API; a Kimi Code key gets it
on both regions. Only asking the other region tells them apart, so ``setup``, ``models``
and ``doctor`` pass a ``client_factory`` and this module asks.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from kimi_cli.api.client import KimiClient
from kimi_cli.api.types import Model
from kimi_cli.catalog.cache import ModelCache, fetch_models
from kimi_cli.catalog.ids import find_model, verify
from kimi_cli.errors import (
    AuthError,
    ConfigError,
    KimiError,
    NotFoundError,
    UnexpectedResponseError,
)

KIMI_CODE_KEY_PREFIX = "sk-kimi-"
REGION_HOSTS = {"global": "api.moonshot.ai", "cn": "api.moonshot.cn"}


@dataclass(frozen=True)
class OtherRegion:
    name: str  # "cn" or "global"
    base_url: str
    #: The command that switches to it, as the caller knows best (a saved region, or an
    #: environment variable that would beat it, or a setup not saved yet).
    fix: str | None = None

    @property
    def switch_hint(self) -> str:
        return self.fix or f"kimi config set region {self.name}"


ClientFactory = Callable[[str], KimiClient]


def is_kimi_code_key(key: str | None) -> bool:
    return bool(key) and str(key).startswith(KIMI_CODE_KEY_PREFIX)


def kimi_code_key_error() -> AuthError:
    return AuthError(
        "this is a Kimi Code key (sk-kimi-…), which the Open Platform refuses",
        hint="create an API key on platform.kimi.ai (global) or platform.kimi.com (cn)",
    )


def list_models_checked(
    client: KimiClient,
    *,
    api_key: str | None,
    cache: ModelCache | None = None,
    other_region: OtherRegion | None = None,
    client_factory: ClientFactory | None = None,
) -> list[Model]:
    """``GET /models`` whose failures name the cause: region, key kind, or a wrong URL."""
    try:
        return fetch_models(client, cache)
    except AuthError as exc:
        if exc.status_code != 401:
            raise
        if is_kimi_code_key(api_key):
            raise kimi_code_key_error() from exc
        region = probe_other_region(other_region, client_factory)
        if region is not None:
            raise AuthError(
                f"this key belongs to the {region.name} region ({_host(region)}), "
                f"not {client.base_url}",
                hint=region.switch_hint,
                request_id=exc.request_id,
            ) from exc
        raise
    except (NotFoundError, UnexpectedResponseError) as exc:
        raise not_the_api_error(client.base_url, exc) from exc


def probe_other_region(
    other_region: OtherRegion | None, client_factory: ClientFactory | None
) -> OtherRegion | None:
    """The other region, if the same key works there; None if it does not or cannot tell."""
    if other_region is None or client_factory is None:
        return None
    try:
        client_factory(other_region.base_url).list_models()
    except KimiError:
        return None
    return other_region


def not_the_api_error(base_url: str, exc: KimiError) -> ConfigError:
    missing_v1 = not base_url.rstrip("/").endswith("/v1")
    hint = (
        f"the base URL probably lacks /v1: try {base_url.rstrip('/')}/v1"
        if missing_v1
        else "check --base-url / KIMI_BASE_URL and any proxy"
    )
    return ConfigError(
        f"{base_url} is not the Kimi API ({exc.message})", hint=hint, request_id=exc.request_id
    )


def _host(region: OtherRegion) -> str:
    return REGION_HOSTS.get(region.name, region.base_url)


def resolve_model(
    model_id: str,
    client: KimiClient,
    *,
    api_key: str | None,
    cache: ModelCache | None,
    other_region: OtherRegion | None = None,
    client_factory: ClientFactory | None = None,
) -> Model:
    """The verified model: from the cache when it lists the ID (no round trip), else from
    one live ``GET /models``. Never a guess: an ID the live list lacks is refused."""
    cached = cache.load(client.base_url) if cache is not None else None
    if cached is not None:
        found = find_model(model_id, cached.models)
        if found is not None:
            return found
    models = list_models_checked(
        client,
        api_key=api_key,
        cache=cache,
        other_region=other_region,
        client_factory=client_factory,
    )
    return verify(model_id, models)
