"""Request policy over httpx.MockTransport: models come from a ``GET /models`` answer, and the
body built for them carries only what each model takes; a flag it does not take is refused
before anything is sent, by name."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from kimi_cli.api.client import KimiClient
from kimi_cli.api.types import Model
from kimi_cli.catalog import (
    DEFAULT_REASONING_BUDGET,
    ChatOptions,
    build_body,
    flag_for_message,
    policy_for,
)
from kimi_cli.errors import UsageError

LISTED: list[dict[str, Any]] = [
    {"id": "kimi-k3", "context_length": 262144},
    {"id": "kimi-k2.6", "context_length": 262144, "supports_image_in": True},
    {"id": "kimi-k2.6-always", "supports_thinking_type": "only"},
    {"id": "acme-1"},
    {"id": "acme-reasoner", "think_efforts": {"valid_efforts": ["low", "high"]}},
    {"id": "acme-small", "supports_thinking_type": "both", "context_length": 10000},
    {"id": "acme-no-tools", "supports_tool_use": False},
]
HI = [{"role": "user", "content": "hi"}]


@pytest.fixture(scope="module")
def models() -> dict[str, Model]:
    """The models as the client parses them from the API's answer."""

    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, json={"object": "list", "data": LISTED})

    client = KimiClient("http://api.test/v1", "sk-x", transport=httpx.MockTransport(handler))
    return {m.id: m for m in client.list_models()}


def body(model: Model, **options: Any) -> dict[str, Any]:
    return build_body(policy_for(model), HI, ChatOptions(**options))


def refusal(model: Model, **options: Any) -> str:
    with pytest.raises(UsageError) as info:
        body(model, **options)
    assert info.value.exit_code == 2
    return f"{info.value.message} — {info.value.hint}"


def test_a_model_that_always_reasons_gets_a_budget_and_no_thinking_field(
    models: dict[str, Model],
) -> None:
    assert body(models["kimi-k3"]) == {
        "model": "kimi-k3",
        "messages": HI,
        "max_completion_tokens": DEFAULT_REASONING_BUDGET,
    }


def test_effort_is_sent_as_reasoning_effort_and_checked(models: dict[str, Model]) -> None:
    sent = body(models["kimi-k3"], effort="high")
    assert sent["reasoning_effort"] == "high" and "thinking" not in sent
    assert "use one of: low, high, max" in refusal(models["kimi-k3"], effort="medium")
    assert "has no reasoning efforts" in refusal(models["kimi-k2.6"], effort="high")
    assert "contradict" in refusal(models["kimi-k3"], effort="high", thinking=False)


def test_thinking_switch_on_a_model_that_has_both(models: dict[str, Model]) -> None:
    off = body(models["kimi-k2.6"], thinking=False)
    assert off["thinking"] == {"type": "disabled"} and "max_completion_tokens" not in off
    on = body(models["kimi-k2.6"], thinking=True)
    assert on["thinking"] == {"type": "enabled"}
    assert on["max_completion_tokens"] == DEFAULT_REASONING_BUDGET
    assert "thinking" not in body(models["kimi-k2.6"])  # the model's own default


def test_fixed_sampling_refuses_temperature(models: dict[str, Model]) -> None:
    assert "takes no temperature — drop --temperature" in refusal(
        models["kimi-k2.6"], temperature=0.3
    )


def test_metadata_beats_the_family_table(models: dict[str, Model]) -> None:
    # kimi-k2.6* is a "both" family, but this model's /models entry says "only".
    assert "always thinks — drop --no-thinking" in refusal(
        models["kimi-k2.6-always"], thinking=False
    )


def test_an_unknown_model_gets_only_what_was_asked(models: dict[str, Model]) -> None:
    assert body(models["acme-1"]) == {"model": "acme-1", "messages": HI}
    sent = body(models["acme-1"], temperature=0.3, thinking=True)
    assert sent["temperature"] == 0.3 and sent["thinking"] == {"type": "enabled"}
    assert "outside 0..1" in refusal(models["acme-1"], temperature=1.5)


def test_efforts_from_metadata_replace_the_thinking_field(models: dict[str, Model]) -> None:
    policy = policy_for(models["acme-reasoner"])
    assert policy.efforts == ("low", "high") and policy.thinking_param is False
    assert body(models["acme-reasoner"], effort="low")["reasoning_effort"] == "low"


def test_the_default_budget_fits_what_the_context_has_left(models: dict[str, Model]) -> None:
    policy = policy_for(models["acme-small"])
    fits = build_body(policy, HI, ChatOptions(), input_tokens=9000)
    assert fits["max_completion_tokens"] == 1000
    full = build_body(policy, HI, ChatOptions(), input_tokens=20000)
    assert full["max_completion_tokens"] == 1
    given = build_body(policy, HI, ChatOptions(max_tokens=50), input_tokens=9000)
    assert given["max_completion_tokens"] == 50


def test_output_format_and_tools(models: dict[str, Model]) -> None:
    sent = body(models["kimi-k2.6"], json_object=True)
    assert sent["response_format"] == {"type": "json_object"}
    assert "cannot search the web" in refusal(models["acme-no-tools"], web_search=True)
    assert "at least 1" in refusal(models["acme-1"], max_tokens=0)


@pytest.mark.parametrize(
    ("message", "flag"),
    [
        ("Invalid reasoning_effort: medium", "--effort"),
        ("temperature must be 0.6 for this model", "--temperature"),
        ("invalid tools: unknown function", "--web-search"),
        ("the server had a bad day", None),
    ],
)
def test_a_400_names_the_flag_that_set_the_parameter(message: str, flag: str | None) -> None:
    assert flag_for_message(message) == flag
