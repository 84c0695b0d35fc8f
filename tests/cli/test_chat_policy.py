"""Issue: chat. The request carries only what each model accepts; a flag a model does
not take is refused before anything is sent (the emulator's stats prove it)."""

from __future__ import annotations

import pytest

from kimi_cli.emulator import Emulator
from tests.helpers import chats, invoke

EFFORT_MODELS = ["kimi-k3.1-pro", "kimi-k3.1-pro-highspeed", "kimi-k3"]
ALWAYS_THINKING = [*EFFORT_MODELS, "kimi-k2.7-code", "kimi-k2.7-code-highspeed"]
ALL_MODELS = [*ALWAYS_THINKING, "kimi-k2.6"]


@pytest.mark.parametrize("model", ALL_MODELS)
def test_default_request_passes_the_api_rules(configured: Emulator, model: str) -> None:
    out = invoke("chat", "-m", model, "ECHO ok")
    assert out.code == 0, out.stderr
    assert out.stdout == "ok\n"
    body = configured.stats()["chat_requests"][-1]
    assert "temperature" not in body and "max_tokens" not in body
    assert not ("thinking" in body and "reasoning_effort" in body)
    assert body["max_completion_tokens"] == 32768  # the documented reasoning budget


@pytest.mark.parametrize("model", ALL_MODELS)
def test_temperature_is_refused_where_sampling_is_fixed(configured: Emulator, model: str) -> None:
    line = invoke("chat", "-m", model, "--temperature", "0.3", "hi").assert_one_error_line(2)
    assert "--temperature" in line
    assert chats(configured) == 0


@pytest.mark.parametrize("model", ALL_MODELS)
def test_effort_only_where_the_model_has_efforts(configured: Emulator, model: str) -> None:
    out = invoke("chat", "-m", model, "--effort", "low", "ECHO e")
    if model in EFFORT_MODELS:
        assert out.code == 0, out.stderr
        body = configured.stats()["chat_requests"][-1]
        assert body["reasoning_effort"] == "low" and "thinking" not in body
    else:
        assert "--effort" in out.assert_one_error_line(2)
        assert chats(configured) == 0


@pytest.mark.parametrize("model", ALL_MODELS)
def test_no_thinking_only_where_thinking_can_be_turned_off(
    configured: Emulator, model: str
) -> None:
    out = invoke("chat", "-m", model, "--no-thinking", "ECHO t")
    if model in ALWAYS_THINKING:
        assert "--no-thinking" in out.assert_one_error_line(2)
        assert chats(configured) == 0
    else:
        assert out.code == 0, out.stderr
        body = configured.stats()["chat_requests"][-1]
        assert body["thinking"] == {"type": "disabled"}
        assert "max_completion_tokens" not in body  # no reasoning budget when not reasoning


def test_max_tokens_becomes_max_completion_tokens(configured: Emulator) -> None:
    invoke("chat", "--max-tokens", "500", "ECHO m")
    body = configured.stats()["chat_requests"][-1]
    assert body["max_completion_tokens"] == 500 and "max_tokens" not in body


def test_format_json_asks_for_a_json_object(configured: Emulator) -> None:
    out = invoke("chat", "--format", "json", "give me json")
    assert out.code == 0, out.stderr
    assert configured.stats()["chat_requests"][-1]["response_format"] == {"type": "json_object"}


def test_a_400_naming_a_parameter_becomes_a_usage_error_naming_the_flag(
    configured: Emulator,
) -> None:
    # the cached metadata says nothing of temperature for this unknown model, so it is sent;
    # the API's 400 must come back as exit 2 naming --temperature
    configured.configure(
        models=[
            {
                "id": "kimi-k9-preview",
                "context_length": 8192,
                "supports_reasoning": True,
                "supports_thinking_type": "only",
            }
        ]
    )
    out = invoke("chat", "-m", "kimi-k9-preview", "--temperature", "0.5", "hi")
    line = out.assert_one_error_line(2)
    assert "only 1 is allowed" in line and "--temperature" in line
    assert configured.stats()["chat_requests"][-1]["temperature"] == 0.5  # it was sent once


def test_images_refused_for_a_model_without_vision(configured: Emulator, tmp_path) -> None:  # type: ignore[no-untyped-def]
    image = tmp_path / "x.png"
    image.write_bytes(b"\x89PNG\r\n\x1a\n" + b"\x00" * 16)
    out = invoke("chat", "-m", "kimi-k2.7-code", "-f", str(image), "what is this")
    out.assert_one_error_line(2)
    assert chats(configured) == 0
    ok = invoke("chat", "-m", "kimi-k2.6", "-f", str(image), "ECHO seen")
    assert ok.code == 0, ok.stderr
    parts = configured.stats()["chat_requests"][-1]["messages"][-1]["content"]
    assert parts[1]["image_url"]["url"].startswith("data:image/png;base64,")


@pytest.mark.parametrize("given", ["", "  "])
def test_an_empty_model_flag_is_refused_not_ignored(configured: Emulator, given: str) -> None:
    # `kimi chat -m "$MODEL"` with MODEL unset would otherwise ask the configured model.
    line = invoke("chat", "-m", given, "ECHO x").assert_one_error_line(2)
    assert "model ID is empty" in line
    assert chats(configured) == 0


def test_empty_and_undecodable_input_are_never_sent(configured: Emulator) -> None:
    assert "empty" in invoke("chat", input="   \n").assert_one_error_line(2)
    line = invoke("chat", input=b"ok \xff\xfe bad").assert_one_error_line(2)
    assert "byte offset 3" in line
    assert "-f" in invoke("chat", input=b"bin\x00ary\xff").assert_one_error_line(2)
    assert chats(configured) == 0


def test_no_model_chosen_lists_the_live_ids(
    configured: Emulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("KIMI_MODEL")
    line = invoke("chat", "hi").assert_one_error_line(3)
    assert "kimi models use" in line and "kimi-k3.1-pro" in line


def test_a_verified_model_costs_no_models_round_trip(configured: Emulator) -> None:
    invoke("chat", "ECHO a")  # first run: cache miss, one GET /models
    invoke("chat", "ECHO b")
    assert configured.stats()["requests"]["GET /v1/models"] == 1
