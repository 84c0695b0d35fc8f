"""Model IDs over httpx.MockTransport: what people paste (gateway IDs, dash forms, product
names, Kimi Code and retired IDs) is explained and never substituted silently."""

from __future__ import annotations

import httpx
import pytest

from kimi_cli.api.client import KimiClient
from kimi_cli.catalog import diagnose, normalize, not_found_error, verify
from kimi_cli.catalog.access import resolve_model
from kimi_cli.errors import ModelNotFoundError

LIVE = ["kimi-k3", "kimi-k3.1-pro", "kimi-k2.6", "kimi-k2.7-code"]


def serving(ids: list[str], asked: list[str]) -> KimiClient:
    """A client whose ``GET /models`` lists ``ids``; each request path lands in ``asked``."""

    def handler(request: httpx.Request) -> httpx.Response:
        asked.append(request.url.path)
        return httpx.Response(200, json={"object": "list", "data": [{"id": i} for i in ids]})

    transport = httpx.MockTransport(handler)
    return KimiClient("http://api.test/v1", "sk-x", max_retries=0, transport=transport)


@pytest.mark.parametrize(
    ("pasted", "meant"),
    [
        ("moonshotai/kimi-k2.6", "kimi-k2.6"),
        ("openrouter/moonshotai/kimi-k3", "kimi-k3"),
        ("@cf/moonshotai/kimi-k2.6", "kimi-k2.6"),
        ("kimi-k2-6", "kimi-k2.6"),
        ("kimi-k3-1-pro", "kimi-k3.1-pro"),
        ("Kimi K2.6", "kimi-k2.6"),
        ("K3", "kimi-k3"),
        ("  kimi-k3 ", "kimi-k3"),
    ],
)
def test_normalise_finds_the_official_spelling(pasted: str, meant: str) -> None:
    assert normalize(pasted) == meant


@pytest.mark.parametrize(
    ("pasted", "says"),
    [
        ("openrouter/moonshotai/kimi-k3", "is an OpenRouter ID, not a Moonshot API model ID"),
        ("@cf/moonshotai/kimi-k2.6", "is a Cloudflare Workers AI ID, not a Moonshot API model ID"),
        (
            "moonshotai/kimi-k2.6",
            "is a gateway (OpenRouter, Together, Groq or Vercel) ID, not a Moonshot API model ID",
        ),
        ("kimi-for-coding", "is a Kimi Code model ID; the Open Platform does not serve it"),
        ("kimi-latest", "was retired by Moonshot (2026-01-28)"),
        ("kimi-k2-6", "is not a model ID (the API spells it 'kimi-k2.6')"),
        ("gpt-4o", "is not in this account's model list (GET /models)"),
    ],
)
def test_the_reason_names_what_was_pasted(pasted: str, says: str) -> None:
    found = diagnose(pasted, LIVE)
    assert found.reason == f"'{pasted}' {says}"


def test_a_suggestion_is_only_ever_a_live_id() -> None:
    assert diagnose("moonshotai/kimi-k2.6", LIVE).suggestion == "kimi-k2.6"
    assert diagnose("moonshotai/kimi-k2.6", ["kimi-k3"]).suggestion is None
    assert "kimi-k3.1-pro" in diagnose("kimi-k3.1", LIVE).close_matches


@pytest.mark.parametrize(
    ("pasted", "live", "hint"),
    [
        ("moonshotai/kimi-k3", LIVE, "use 'kimi-k3': kimi models use kimi-k3"),
        ("kimi-k3.2-pro", LIVE, "close matches: kimi-k3.1-pro"),
        ("gpt-4o", LIVE, "available: kimi-k3, kimi-k3.1-pro, kimi-k2.6, kimi-k2.7-code"),
        ("kimi-k3", [], "this key sees no models at all; check 'kimi doctor'"),
    ],
)
def test_the_hint_says_what_to_do(pasted: str, live: list[str], hint: str) -> None:
    asked: list[str] = []
    models = serving(live, asked).list_models()
    error = not_found_error(pasted, models)
    assert error.exit_code == 5
    assert error.line().split(" — ", 1)[1].startswith(hint)


def test_only_the_exact_id_is_accepted() -> None:
    models = serving(LIVE, []).list_models()
    assert verify("kimi-k2.6", models).id == "kimi-k2.6"
    for near in ("Kimi-K2.6", "kimi-k2-6", "moonshotai/kimi-k2.6"):
        with pytest.raises(ModelNotFoundError):
            verify(near, models)


def test_resolving_a_gateway_id_asks_once_and_refuses_with_the_fix() -> None:
    asked: list[str] = []
    client = serving(LIVE, asked)
    with pytest.raises(ModelNotFoundError) as info:
        resolve_model("moonshotai/kimi-k2.6", client, api_key="sk-x", cache=None)
    assert "gateway" in info.value.message
    assert "kimi-k2.6" in (info.value.hint or "")
    assert asked == ["/v1/models"]
