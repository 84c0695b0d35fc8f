"""Reading /models with a diagnosis: what a refusal *means* for this user's setup.

A wrong-region key and a bad key get the same 401 from the API; a Kimi Code key gets it
on both regions. Only asking the other region tells them apart, so ``setup``, ``models``,
``chat`` and ``doctor`` pass a way to find it (``FindOtherRegion``: a
``region_probe.RegionProbe``'s ``find``, or a function that makes one) and this module
calls it after a 401 only.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from kimi_cli.api.client import KimiClient
from kimi_cli.api.types import Model
from kimi_cli.catalog.cache import ModelCache, fetch_models
from kimi_cli.catalog.ids import diagnose, find_model, verify
from kimi_cli.config import Source, consoles_phrase, region_named
from kimi_cli.errors import (
    AuthError,
    ConfigError,
    KimiError,
    ModelNotFoundError,
    NotFoundError,
    UnexpectedResponseError,
    WrongRegionError,
)

if TYPE_CHECKING:
    from kimi_cli.catalog.region_probe import OtherRegion

KIMI_CODE_KEY_PREFIX = "sk-kimi-"

#: Makes a client for (base_url, api_key): the CLI's shares one per URL and key, with the
#: resolved timeout and retries. The one factory type of kimi (setup, models, chat, doctor).
ClientFactory = Callable[[str, str], KimiClient]

#: Asks the other region whether it knows the key: the region if it does, else None.
FindOtherRegion = Callable[[], "OtherRegion | None"]


def is_kimi_code_key(key: str | None) -> bool:
    return bool(key) and str(key).startswith(KIMI_CODE_KEY_PREFIX)


def kimi_code_key_error() -> AuthError:
    return AuthError(
        "this is a Kimi Code key (sk-kimi-…), which the Open Platform refuses",
        hint=f"create an API key on {consoles_phrase()}",
    )


def list_models_checked(
    client: KimiClient,
    *,
    api_key: str | None,
    cache: ModelCache | None = None,
    find_other_region: FindOtherRegion | None = None,
    base_url_source: Source | None = None,
) -> list[Model]:
    """``GET /models`` whose failures name the cause: region, key kind, or a wrong URL.

    After a 401, ``find_other_region`` asks the other region. ``base_url_source`` words a
    wrong URL's hint (the flag, variable or key to fix).
    """
    try:
        return fetch_models(client, cache)
    except AuthError as exc:
        if exc.status_code != 401:
            raise
        if is_kimi_code_key(api_key):
            raise kimi_code_key_error() from exc
        if find_other_region is None:
            raise
        region = find_other_region()
        if region is not None:
            raise WrongRegionError(
                f"this key belongs to the {region.name} region ({_host(region)}), "
                f"not {client.base_url}",
                region=region.name,
                hint=region.switch_hint,
                request_id=exc.request_id,
            ) from exc
        if exc.error_type != "incorrect_api_key_error":
            # The other region was asked already (what 'kimi doctor' would do): the key is
            # not one either region knows, or only this URL could be asked.
            exc.hint = (
                "check that the key is whole and still listed on the console that issued it: "
                f"{consoles_phrase()}"
            )
            exc.notes = ()  # nor would 'kimi doctor' find out more
        raise
    except (NotFoundError, UnexpectedResponseError) as exc:
        raise not_the_api_error(client.base_url, exc, base_url_source) from exc


def not_the_api_error(base_url: str, exc: KimiError, source: Source | None = None) -> ConfigError:
    """A 404 or a non-API body where /models should be; the fix names where the URL came from."""
    from kimi_cli.hints import base_url_fix

    return ConfigError(
        f"{base_url} is not the Kimi API ({exc.message})",
        hint=base_url_fix(base_url, source),
        request_id=exc.request_id,
    )


def _host(region: OtherRegion) -> str:
    try:
        return region_named(region.name).host
    except KeyError:
        return region.base_url


def resolve_model(
    model_id: str,
    client: KimiClient,
    *,
    api_key: str | None,
    cache: ModelCache | None,
    find_other_region: FindOtherRegion | None = None,
    model_source: Source | None = None,
    base_url_source: Source | None = None,
) -> Model:
    """The verified model: from the cache when it lists the ID (no round trip), else from
    one live ``GET /models``. Never a guess: an ID the live list lacks is refused, with a fix
    fitted to ``model_source`` (a variable or a flag is named, not ``kimi models use``).

    A model an earlier run saw answer 404 (the cache forgot it) is refused with nothing
    sent, its successor named; ``kimi models`` lists afresh and clears that note."""
    cached = cache.load(client.base_url) if cache is not None else None
    if cached is not None:
        found = find_model(model_id, cached.models)
        if found is not None:
            return found
        if model_id in cached.forgotten:
            from kimi_cli.catalog.retirements import gone_error

            raise gone_error(model_id, [m.id for m in cached.models], earlier=True)
    models = list_models_checked(
        client,
        api_key=api_key,
        cache=cache,
        find_other_region=find_other_region,
        base_url_source=base_url_source,
    )
    try:
        return verify(model_id, models)
    except ModelNotFoundError as exc:
        hint = fitted_model_hint(exc, model_id, [m.id for m in models], model_source)
        if hint == exc.hint:
            raise
        raise ModelNotFoundError(exc.message, hint=hint) from exc


def fitted_model_hint(
    error: ModelNotFoundError, model_id: str, live_ids: list[str], source: Source | None
) -> str | None:
    """The hint of a model ID the live list lacks, fitted to where the ID came from: a
    variable wins over the saved model, so a gone model set there is replaced there
    (``suggested: X — export KIMI_MODEL=X …``), not with ``kimi models use X``."""
    from kimi_cli.hints import model_fix

    suggestion = diagnose(model_id, live_ids).suggestion
    if suggestion is None and error.move_to and source is not None and source.is_env:
        from kimi_cli.catalog.retirements import move_hint

        fix = model_fix(source, error.move_to, None)
        return move_hint(error.move_to, error.successor_named, fix)
    return model_fix(source, suggestion, error.hint)
