"""Model access over httpx.MockTransport: the other region is asked after a 401 and only
then; a refusal names the region as data (WrongRegionError), and a miss names the source."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import httpx
import pytest

from kimi_cli.api.client import KimiClient
from kimi_cli.api.types import Model
from kimi_cli.catalog.access import list_models_checked, resolve_model
from kimi_cli.catalog.cache import ModelCache
from kimi_cli.catalog.region_probe import RegionProbe
from kimi_cli.config import ConfigStore, GlobalOptions, Settings, Source, resolve_settings
from kimi_cli.errors import AuthError, ConfigError, ModelNotFoundError, WrongRegionError

GLOBAL = "http://global.test/v1"
CN = "http://cn.test/v1"
MODELS = {"object": "list", "data": [{"id": "kimi-k2.6"}, {"id": "kimi-k3"}]}


def answering(accepts: str) -> Callable[[httpx.Request], httpx.Response]:
    def handler(request: httpx.Request) -> httpx.Response:
        if request.headers.get("authorization") != f"Bearer {accepts}":
            return httpx.Response(401, json={"error": {"message": "Invalid Authentication"}})
        return httpx.Response(200, json=MODELS)

    return handler


class Clients:
    """A client factory that records which URLs it was asked for."""

    def __init__(self, handlers: dict[str, Callable[[httpx.Request], httpx.Response]]) -> None:
        self.handlers = handlers
        self.made: list[str] = []

    def __call__(self, base_url: str, api_key: str) -> KimiClient:
        self.made.append(base_url)
        transport = httpx.MockTransport(self.handlers[base_url])
        return KimiClient(base_url, api_key, max_retries=0, transport=transport)


def settings(tmp_path: Path, **env: str) -> Settings:
    variables = {"KIMI_GLOBAL_BASE_URL": GLOBAL, "KIMI_CN_BASE_URL": CN, **env}
    return resolve_settings(GlobalOptions(), variables, ConfigStore(tmp_path / "none.toml"))


def test_a_cached_model_builds_and_asks_nothing(tmp_path: Path) -> None:
    cache = ModelCache(tmp_path / "cache")
    cache.save(GLOBAL, [Model.from_json({"id": "kimi-k2.6"})])
    clients = Clients({GLOBAL: answering("nobody"), CN: answering("nobody")})
    probe = RegionProbe(settings(tmp_path), "sk-x", clients)
    client = clients(GLOBAL, "sk-x")
    found = resolve_model(
        "kimi-k2.6", client, api_key="sk-x", cache=cache, find_other_region=probe.find
    )
    assert found.id == "kimi-k2.6"
    assert clients.made == [GLOBAL]  # the main client only: no other-region client


def test_a_401_asks_the_other_region_and_names_it(tmp_path: Path) -> None:
    clients = Clients({GLOBAL: answering("sk-cn"), CN: answering("sk-cn")})
    clients.handlers[GLOBAL] = answering("someone-else")
    probe = RegionProbe(settings(tmp_path, KIMI_REGION="global"), "sk-cn", clients)
    with pytest.raises(WrongRegionError) as info:
        list_models_checked(clients(GLOBAL, "sk-cn"), api_key="sk-cn", find_other_region=probe.find)
    assert info.value.region == "cn" and info.value.exit_code == 4
    assert "export KIMI_REGION=cn" in (info.value.hint or "")  # the variable beats the file
    assert clients.made == [GLOBAL, CN]


def test_a_key_no_region_knows_stays_a_plain_401(tmp_path: Path) -> None:
    clients = Clients({GLOBAL: answering("other"), CN: answering("other")})
    probe = RegionProbe(settings(tmp_path), "sk-bad", clients)
    with pytest.raises(AuthError) as info:
        list_models_checked(
            clients(GLOBAL, "sk-bad"), api_key="sk-bad", find_other_region=probe.find
        )
    assert not isinstance(info.value, WrongRegionError)


def test_an_explicit_url_is_never_probed(tmp_path: Path) -> None:
    url = "http://gateway.test/v1"
    clients = Clients({url: answering("other")})
    probe = RegionProbe(settings(tmp_path, KIMI_BASE_URL=url), "sk-x", clients)
    with pytest.raises(AuthError):
        list_models_checked(clients(url, "sk-x"), api_key="sk-x", find_other_region=probe.find)
    assert clients.made == [url]


def test_a_404_names_the_source_of_the_url(tmp_path: Path) -> None:
    clients = Clients({GLOBAL: lambda request: httpx.Response(404, text="no")})
    with pytest.raises(ConfigError) as info:
        list_models_checked(
            clients(GLOBAL, "sk-x"), api_key="sk-x", base_url_source=Source.env("KIMI_BASE_URL")
        )
    assert "check KIMI_BASE_URL" in (info.value.hint or "")
    assert "--base-url" not in (info.value.hint or "")


@pytest.mark.parametrize(
    ("source", "wanted"),
    [
        (Source.env("KIMI_MODEL"), "export KIMI_MODEL=kimi-k2.6"),
        (Source.flag("--model"), "use --model kimi-k2.6"),
        (Source.file(), "kimi models use kimi-k2.6"),
    ],
)
def test_a_miss_is_fixed_where_the_id_came_from(source: Source, wanted: str) -> None:
    client = Clients({GLOBAL: answering("sk-x")})(GLOBAL, "sk-x")
    with pytest.raises(ModelNotFoundError) as info:
        resolve_model("kimi-k2-6", client, api_key="sk-x", cache=None, model_source=source)
    assert wanted in (info.value.hint or "")
