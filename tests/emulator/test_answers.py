"""What the emulator answers: ECHO, LOREM, reasoning, usage, budget, the SSE shape."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest

from kimi_cli.emulator.answers import lorem, pieces

from .helpers import chat_stream, user

ECHO_TEXTS = [
    "hello world",
    "héllo wörld — ça va? 你好，世界！ 日本語 🎉👩‍💻",
    "  leading and   inner   spaces and trailing   ",
    "para one\n\n\npara two\n\n",
    "tabs\tand\r\nCRLF\r\n",
    "trailing newline\n",
    "",
    "ECHO nested ECHO stays",
    '{"json": "looking", "n": [1, 2]}',
    "```python\nprint('code')\n```\n",
]


def _echo_prompt(text: str) -> str:
    return "ECHO " + text


@pytest.mark.parametrize("text", ECHO_TEXTS)
@pytest.mark.parametrize("model", ["kimi-k2.6", "kimi-k3"])
def test_echo_exact_non_stream(client: httpx.Client, text: str, model: str) -> None:
    response = client.post(
        "/chat/completions", json={"model": model, "messages": user(_echo_prompt(text))}
    )
    assert response.status_code == 200
    choice = response.json()["choices"][0]
    assert choice["message"]["content"] == text
    assert choice["finish_reason"] == "stop"


@pytest.mark.parametrize("text", ECHO_TEXTS)
def test_echo_exact_stream(client: httpx.Client, text: str) -> None:
    _, stream = chat_stream(client, model="kimi-k2.7-code", messages=user(_echo_prompt(text)))
    assert stream.done
    assert stream.text() == text
    # one event per word (plus its whitespace)
    assert stream.deltas("content")[1:] == pieces(text)


def test_echo_after_newline_and_after_other_text(client: httpx.Client) -> None:
    body: dict[str, Any] = {"model": "kimi-k3", "messages": user("ECHO\nline one\nline two")}
    assert client.post("/chat/completions", json=body).json()["choices"][0]["message"][
        "content"
    ] == ("line one\nline two")
    body["messages"] = user("piped stdin text\n\nECHO the prompt")
    message = client.post("/chat/completions", json=body).json()["choices"][0]["message"]
    assert message["content"] == "the prompt"


def test_echo_reads_last_user_message_and_joins_text_parts(client: httpx.Client) -> None:
    messages = [
        {"role": "user", "content": "ECHO old"},
        {"role": "assistant", "content": "old"},
        {
            "role": "user",
            "content": [{"type": "text", "text": "ECHO a"}, {"type": "text", "text": "b"}],
        },
    ]
    response = client.post("/chat/completions", json={"model": "kimi-k3", "messages": messages})
    assert response.json()["choices"][0]["message"]["content"] == "a\nb"


def test_default_answer_quotes_prompt(client: httpx.Client) -> None:
    prompt = "What is the capital of France? " * 5
    response = client.post("/chat/completions", json={"model": "kimi-k3", "messages": user(prompt)})
    content = response.json()["choices"][0]["message"]["content"]
    assert content.startswith("You said: " + " ".join(prompt.split())[:80] + "\n")
    again = client.post("/chat/completions", json={"model": "kimi-k3", "messages": user(prompt)})
    assert again.json()["choices"][0]["message"]["content"] == content  # deterministic


@pytest.mark.parametrize("count", [1, 7, 60, 61, 333, 1000])
def test_lorem_word_count(client: httpx.Client, count: int) -> None:
    body = {"model": "kimi-k3", "messages": user(f"LOREM {count}")}
    content = client.post("/chat/completions", json=body).json()["choices"][0]["message"]["content"]
    assert len(content.split()) == count
    assert content == lorem(count)


def test_lorem_is_markdown() -> None:
    text = lorem(3000)
    assert "\n\n" in text
    assert "\n## " in text
    assert "\n- " in text
    assert "```python\n" in text and text.count("```") % 2 == 0
    assert "|---|---|" in text


def test_lorem_20000_streams_20000_events(client: httpx.Client) -> None:
    _, stream = chat_stream(client, model="kimi-k3", messages=user("LOREM 20000"))
    assert stream.done
    content = stream.deltas("content")
    assert len(content) == 20001  # the role chunk's "" and one event per word
    assert len(stream.text().split()) == 20000
    assert stream.finish["choices"][0]["finish_reason"] == "stop"


def test_reasoning_streams_before_content(client: httpx.Client) -> None:
    _, stream = chat_stream(client, model="kimi-k2.6", messages=user("ECHO hi there"))
    kinds = []
    for event in stream.events:
        delta = event["choices"][0]["delta"] if event["choices"] else {}
        if delta.get("reasoning_content"):
            kinds.append("r")
        elif delta.get("content"):
            kinds.append("c")
    assert kinds == sorted(kinds, reverse=True)  # all "r" first, then all "c"
    assert kinds.count("r") >= 10 and kinds.count("c") == 2
    assert len(stream.text("reasoning_content").split()) >= 10


def test_chunk_shape(client: httpx.Client) -> None:
    _, stream = chat_stream(client, model="kimi-k3", messages=user("ECHO a b"))
    first = stream.events[0]
    assert first["object"] == "chat.completion.chunk"
    assert first["id"].startswith("chatcmpl-")
    assert first["model"] == "kimi-k3"
    assert isinstance(first["created"], int)
    assert first["choices"] == [
        {"index": 0, "delta": {"role": "assistant", "content": ""}, "finish_reason": None}
    ]
    assert {e["id"] for e in stream.events} == {first["id"]}
    assert "usage" not in first


def test_usage_in_choice_by_default(client: httpx.Client) -> None:
    _, stream = chat_stream(client, model="kimi-k3", messages=user("ECHO one two three"))
    finish = stream.events[-1]
    assert finish["choices"][0]["finish_reason"] == "stop"
    assert finish["choices"][0]["delta"] == {}
    usage = finish["choices"][0]["usage"]
    assert usage["total_tokens"] == usage["prompt_tokens"] + usage["completion_tokens"]
    assert usage["cached_tokens"] == 0
    assert all("usage" not in e for e in stream.events)


def test_usage_chunk_with_include_usage(client: httpx.Client) -> None:
    _, stream = chat_stream(
        client,
        model="kimi-k3",
        messages=user("ECHO one two three"),
        stream_options={"include_usage": True},
    )
    last = stream.events[-1]
    assert last["choices"] == []
    assert last["usage"]["completion_tokens"] > 0
    # As recorded live traffic: the finish chunk still carries usage in its choice, and the
    # extra chunk repeats the same numbers at the top level.
    assert stream.finish["choices"][0]["usage"] == last["usage"]
    assert stream.finish["usage"] is None
    for event in stream.events[:-1]:
        assert event["usage"] is None
        if event is not stream.finish:
            assert "usage" not in event["choices"][0]
    plain = client.post(
        "/chat/completions", json={"model": "kimi-k3", "messages": user("ECHO one two three")}
    ).json()
    assert plain["usage"] == last["usage"]


def test_completion_tokens_count_reasoning_and_content(client: httpx.Client) -> None:
    _, stream = chat_stream(client, model="kimi-k2.6", messages=user("ECHO abcdefgh"))
    usage = stream.finish["choices"][0]["usage"]
    off = client.post(
        "/chat/completions",
        json={
            "model": "kimi-k2.6",
            "messages": user("ECHO abcdefgh"),
            "thinking": {"type": "disabled"},
        },
    ).json()["usage"]
    assert off["completion_tokens"] == 2  # "abcdefgh": 8 bytes
    assert usage["completion_tokens"] > off["completion_tokens"] + 10


@pytest.mark.parametrize("budget", [1, 5, 16])
def test_tiny_budget_reasoning_eats_it(client: httpx.Client, budget: int) -> None:
    body = {"model": "kimi-k3", "messages": user("ECHO hello"), "max_completion_tokens": budget}
    response = client.post("/chat/completions", json=body).json()
    choice = response["choices"][0]
    assert choice["finish_reason"] == "length"
    assert choice["message"]["content"] == ""
    assert response["usage"]["completion_tokens"] <= budget
    _, stream = chat_stream(client, **body)
    assert stream.text() == ""
    assert stream.finish["choices"][0]["finish_reason"] == "length"
    assert stream.done


def test_budget_cuts_content_with_length(client: httpx.Client) -> None:
    body = {
        "model": "kimi-k2.6",
        "messages": user("LOREM 400"),
        "thinking": {"type": "disabled"},
        "max_completion_tokens": 100,
    }
    response = client.post("/chat/completions", json=body).json()
    assert response["choices"][0]["finish_reason"] == "length"
    words = response["choices"][0]["message"]["content"].split()
    assert 0 < len(words) < 400
    assert lorem(400).startswith(response["choices"][0]["message"]["content"])


def test_cached_tokens_for_later_turns(client: httpx.Client) -> None:
    history = [
        {"role": "system", "content": "Be brief."},
        {"role": "user", "content": "ECHO first"},
        {"role": "assistant", "content": "first"},
    ]
    messages = [*history, {"role": "user", "content": "ECHO second"}]
    usage = client.post(
        "/chat/completions", json={"model": "kimi-k2.6", "messages": messages}
    ).json()["usage"]
    expected = client.post(
        "/tokenizers/estimate-token-count", json={"model": "kimi-k2.6", "messages": history}
    ).json()["data"]["total_tokens"]
    assert usage["cached_tokens"] == expected > 0
    assert usage["cached_tokens"] < usage["prompt_tokens"]


def test_json_object_mode(client: httpx.Client) -> None:
    body: dict[str, Any] = {
        "model": "kimi-k3",
        "messages": user("Give me JSON please"),
        "response_format": {"type": "json_object"},
    }
    content = client.post("/chat/completions", json=body).json()["choices"][0]["message"]["content"]
    assert json.loads(content)["answer"].startswith("You said: Give me JSON please")
    body["messages"] = user('ECHO {"a": 1}')
    content = client.post("/chat/completions", json=body).json()["choices"][0]["message"]["content"]
    assert content == '{"a": 1}'


def test_non_stream_shape(client: httpx.Client) -> None:
    body = client.post(
        "/chat/completions", json={"model": "kimi-k3.1-pro", "messages": user("ECHO x")}
    ).json()
    assert body["object"] == "chat.completion"
    assert body["id"].startswith("chatcmpl-")
    assert body["model"] == "kimi-k3.1-pro"
    assert body["choices"][0]["index"] == 0
    assert body["choices"][0]["message"]["reasoning_content"].startswith("The user")
    assert set(body["usage"]) == {
        "prompt_tokens",
        "completion_tokens",
        "total_tokens",
        "cached_tokens",
    }


def test_pieces_round_trip() -> None:
    for text in [*ECHO_TEXTS, lorem(500), " \n x"]:
        assert "".join(pieces(text)) == text
    assert pieces("a  b\n") == ["a  ", "b\n"]
