"""The official ``openai`` SDK talks to the emulator: proof that it speaks the real protocol."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import openai
import pytest
from openai import OpenAI

from kimi_cli.emulator import Emulator


@pytest.fixture
def sdk(emulator: Emulator) -> Iterator[OpenAI]:
    with OpenAI(
        base_url=emulator.base_url,
        api_key="sk-emulator",
        max_retries=0,
        http_client=httpx.Client(verify=False),
    ) as client:
        yield client


def test_sdk_lists_models(sdk: OpenAI) -> None:
    models = {m.id: m for m in sdk.models.list()}
    assert "kimi-k3.1-pro" in models and "kimi-k2.6" in models
    assert (models["kimi-k3"].model_extra or {})["context_length"] == 1048576


def test_sdk_streams_a_chat(sdk: OpenAI, emulator: Emulator) -> None:
    stream = sdk.chat.completions.create(
        model="kimi-k2.6",
        messages=[{"role": "user", "content": "ECHO hello world"}],
        stream=True,
        stream_options={"include_usage": True},
    )
    content, reasoning, usage, finish = [], [], None, None
    for chunk in stream:
        if chunk.usage is not None:
            usage = chunk.usage
        for choice in chunk.choices:
            if choice.delta.content:
                content.append(choice.delta.content)
            extra = choice.delta.model_extra or {}
            if extra.get("reasoning_content"):
                reasoning.append(extra["reasoning_content"])
            finish = choice.finish_reason or finish
    assert "".join(content) == "hello world"
    assert reasoning
    assert finish == "stop"
    assert usage is not None and usage.completion_tokens > 0
    assert emulator.stats()["chat_requests"][-1]["stream"] is True


def test_sdk_non_stream_and_errors(sdk: OpenAI, emulator: Emulator) -> None:
    completion = sdk.chat.completions.create(
        model="kimi-k3",
        messages=[{"role": "user", "content": "ECHO 你好 🎉"}],
        extra_body={"reasoning_effort": "low"},
    )
    assert completion.choices[0].message.content == "你好 🎉"
    assert completion.usage is not None and completion.usage.prompt_tokens > 0
    with pytest.raises(openai.BadRequestError, match="only 1 is allowed"):
        sdk.chat.completions.create(
            model="kimi-k3", messages=[{"role": "user", "content": "hi"}], temperature=0.2
        )
    with pytest.raises(openai.NotFoundError):
        sdk.chat.completions.create(model="kimi-k2.5", messages=[{"role": "user", "content": "hi"}])
    emulator.configure(faults=[{"name": "rate_limit", "once": True, "endpoint": "models"}])
    with pytest.raises(openai.RateLimitError) as info:
        sdk.models.list()
    assert info.value.response.headers["retry-after"] == "1"
