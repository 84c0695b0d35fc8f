"""KimiClient against httpx.MockTransport: error translation, retries, streams."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from kimi_cli.api import KimiClient
from kimi_cli.errors import (
    APIRequestError,
    AuthError,
    ExitCode,
    NotFoundError,
    QuotaError,
    StreamCutError,
    TemporaryError,
    UnexpectedResponseError,
)
from tests.api.mock import KEY, error, make


def sse(*events: object, done: bool = True) -> httpx.Response:
    body = "".join(f"data: {json.dumps(e)}\n\n" for e in events)
    if done:
        body += "data: [DONE]\n\n"
    return httpx.Response(200, content=body.encode(), headers={"content-type": "text/event-stream"})


def delta(
    content: str = "", reasoning: str = "", finish: str | None = None, usage: object = None
) -> dict[str, object]:
    choice: dict[str, object] = {
        "index": 0,
        "delta": {"content": content, "reasoning_content": reasoning},
        "finish_reason": finish,
    }
    if usage is not None:
        choice["usage"] = usage
    return {"id": "c1", "model": "kimi-k3", "choices": [choice]}


def test_list_models_sends_bearer_and_parses_metadata() -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(
            200,
            json={
                "data": [
                    {
                        "id": "kimi-k3",
                        "context_length": 1048576,
                        "supports_reasoning": True,
                        "think_efforts": {
                            "support": True,
                            "valid_efforts": ["low", "max"],
                            "default_effort": "max",
                        },
                    }
                ]
            },
        )

    client, _ = make(handler)
    [model] = client.list_models()
    assert seen[0].url == "https://api.example/v1/models"
    assert seen[0].headers["authorization"] == f"Bearer {KEY}"
    assert model.id == "kimi-k3" and model.context_length == 1048576
    assert model.think_efforts is not None and model.think_efforts.valid_efforts == ("low", "max")


@pytest.mark.parametrize(
    ("response", "kind", "code"),
    [
        (error(400, "content_filter", "high risk"), APIRequestError, ExitCode.API_ERROR),
        (
            error(401, "invalid_authentication_error", "Invalid Authentication"),
            AuthError,
            ExitCode.AUTH,
        ),
        (
            error(403, "permission_denied_error", "The API you are accessing is not open"),
            AuthError,
            ExitCode.AUTH,
        ),
        (
            error(
                403,
                "permission_denied_error",
                "Your account is suspended due to insufficient balance",
            ),
            QuotaError,
            ExitCode.NO_BALANCE,
        ),
        (
            error(404, "resource_not_found_error", "Not found the model x"),
            NotFoundError,
            ExitCode.API_ERROR,
        ),
        (
            error(429, "exceeded_current_quota_error", "You exceeded your current token quota"),
            QuotaError,
            ExitCode.NO_BALANCE,
        ),
        (httpx.Response(418, text="teapot"), APIRequestError, ExitCode.API_ERROR),
    ],
)
def test_status_translation_without_retry(
    response: httpx.Response, kind: type, code: ExitCode
) -> None:
    calls = []

    def handler(request: httpx.Request) -> httpx.Response:
        calls.append(request)
        return response

    client, sleeps = make(handler)
    with pytest.raises(kind) as info:
        client.list_models()
    assert info.value.exit_code == code
    assert len(calls) == 1 and sleeps == []  # never retried
    assert KEY not in info.value.line()


def test_request_id_is_kept() -> None:
    client, _ = make(
        lambda r: error(
            401, "invalid_authentication_error", "Invalid Authentication", {"x-trace-id": "tr-42"}
        )
    )
    with pytest.raises(AuthError) as info:
        client.list_models()
    assert "tr-42" in info.value.line()


@pytest.mark.parametrize(
    ("response", "expected_wait"),
    [
        (error(429, "engine_overloaded_error", "overloaded", {"Retry-After": "2"}), 2.0),
        (
            error(429, "rate_limit_reached_error", "max RPM: 3, please try again after 3 seconds"),
            3.0,
        ),
        (
            httpx.Response(503, json={"error": {"type": "server_unavailable", "message": "down"}}),
            None,
        ),
    ],
)
def test_temporary_errors_are_retried_with_the_right_wait(
    response: httpx.Response, expected_wait: float | None
) -> None:
    answers = iter([response, httpx.Response(200, json={"data": []})])
    client, sleeps = make(lambda r: next(answers))
    assert client.list_models() == []
    assert len(sleeps) == 1
    if expected_wait is not None:
        assert sleeps[0] == expected_wait
    else:
        assert 0 < sleeps[0] <= 0.5


def test_retries_stop_after_max_retries_and_backoff_grows() -> None:
    calls = []

    def handler(request: httpx.Request) -> httpx.Response:
        calls.append(request)
        return httpx.Response(500, json={"error": {"type": "server_error", "message": "boom"}})

    client, sleeps = make(handler, max_retries=3)
    with pytest.raises(TemporaryError) as info:
        client.list_models()
    assert len(calls) == 4 and len(sleeps) == 3
    assert sleeps[0] < sleeps[2]
    assert info.value.exit_code == ExitCode.TEMPORARY


def test_zero_retries_means_one_attempt() -> None:
    calls = []

    def handler(request: httpx.Request) -> httpx.Response:
        calls.append(request)
        return httpx.Response(502, text="bad gateway")

    client, sleeps = make(handler, max_retries=0)
    with pytest.raises(TemporaryError):
        client.list_models()
    assert len(calls) == 1 and sleeps == []


def test_retry_after_beyond_the_cap_is_not_slept() -> None:
    client, sleeps = make(
        lambda r: error(429, "rate_limit_reached_error", "TPD", {"Retry-After": "1152"})
    )
    with pytest.raises(TemporaryError) as info:
        client.list_models()
    assert sleeps == []
    assert "1152" in info.value.line()


def test_connect_error_is_temporary_and_retried() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("[Errno 111] Connection refused", request=request)

    client, sleeps = make(handler, max_retries=1)
    with pytest.raises(TemporaryError) as info:
        client.list_models()
    assert len(sleeps) == 1
    assert "nothing is listening" in info.value.line()
    assert isinstance(info.value.__cause__, httpx.ConnectError)


def test_html_page_with_200_is_not_the_api() -> None:
    client, _ = make(
        lambda r: httpx.Response(
            200, text="<html>portal</html>", headers={"content-type": "text/html"}
        )
    )
    with pytest.raises(UnexpectedResponseError) as info:
        client.list_models()
    assert "HTML" in info.value.line()


def test_html_error_page_from_a_proxy_is_temporary() -> None:
    client, _ = make(
        lambda r: httpx.Response(
            502, text="<html><h1>502</h1></html>", headers={"content-type": "text/html"}
        ),
        max_retries=0,
    )
    with pytest.raises(TemporaryError) as info:
        client.list_models()
    assert "HTML page" in info.value.line()


def test_balance_and_estimate() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path.endswith("balance"):
            return httpx.Response(
                200,
                json={
                    "code": 0,
                    "data": {
                        "available_balance": 0,
                        "voucher_balance": 0,
                        "cash_balance": -31.14918,
                    },
                },
            )
        assert json.loads(request.content)["model"] == "kimi-k3"
        return httpx.Response(200, json={"data": {"total_tokens": 80}})

    client, _ = make(handler)
    balance = client.balance()
    assert balance.available == 0 and balance.cash == pytest.approx(-31.14918)
    assert client.estimate_tokens("kimi-k3", [{"role": "user", "content": "hi"}]) == 80


def test_stream_yields_reasoning_content_and_usage_from_the_choice() -> None:
    response = sse(
        delta(reasoning="think "),
        delta(content="Hello"),
        delta(content=" world"),
        delta(
            finish="stop", usage={"prompt_tokens": 5, "completion_tokens": 3, "cached_tokens": 2}
        ),
    )
    client, _ = make(lambda r: response)
    with client.stream_chat({"model": "kimi-k3", "messages": []}) as stream:
        chunks = list(stream)
    assert "".join(c.reasoning for c in chunks) == "think "
    assert "".join(c.content for c in chunks) == "Hello world"
    assert chunks[-1].finish_reason == "stop"
    assert chunks[-1].usage is not None and chunks[-1].usage.cached_tokens == 2
    assert stream.done


def test_stream_usage_from_top_level_and_prompt_tokens_details() -> None:
    final = {
        "id": "c1",
        "choices": [],
        "usage": {
            "prompt_tokens": 9,
            "completion_tokens": 1,
            "prompt_tokens_details": {"cached_tokens": 4},
        },
    }
    client, _ = make(lambda r: sse(delta(content="x", finish="stop"), final))
    with client.stream_chat({"model": "m", "messages": []}) as stream:
        chunks = list(stream)
    assert chunks[-1].usage is not None
    assert (chunks[-1].usage.input_tokens, chunks[-1].usage.cached_tokens) == (9, 4)


def test_stream_without_a_finish_reason_is_cut_and_keeps_what_arrived() -> None:
    """No finish reason and no [DONE]: cut off, even though the body closed cleanly."""
    client, _ = make(lambda r: sse(delta(content="partial"), done=False))
    got: list[str] = []
    with (
        pytest.raises(StreamCutError) as info,
        client.stream_chat({"model": "m", "messages": []}) as stream,
    ):
        for chunk in stream:
            got.append(chunk.content)
    assert got == ["partial"]
    assert info.value.exit_code == ExitCode.TEMPORARY
    assert not stream.finished


def test_error_object_inside_a_stream_is_classified_by_type() -> None:
    quota = {"error": {"type": "exceeded_current_quota_error", "message": "no money"}}
    other = {"error": {"type": "engine_overloaded_error", "message": "busy"}}
    for event, kind in ((quota, QuotaError), (other, TemporaryError)):
        client, _ = make(lambda r, e=event: sse(delta(content="a"), e, done=False))
        with pytest.raises(kind), client.stream_chat({"model": "m", "messages": []}) as stream:
            list(stream)


def test_malformed_event_is_a_cut_stream() -> None:
    body = (
        b'data: {"choices": [{"delta": {"content": "a"}}]}\n\ndata: {not json\n\ndata: [DONE]\n\n'
    )
    client, _ = make(
        lambda r: httpx.Response(200, content=body, headers={"content-type": "text/event-stream"})
    )
    with (
        pytest.raises(StreamCutError),
        client.stream_chat({"model": "m", "messages": []}) as stream,
    ):
        list(stream)


def test_error_raised_while_iterating_is_translated() -> None:
    class Breaking(httpx.SyncByteStream):
        def __iter__(self) -> Iterator[bytes]:
            yield b'data: {"choices": [{"delta": {"content": "a"}}]}\n\n'
            raise httpx.ReadTimeout("idle")

    client, _ = make(
        lambda r: httpx.Response(
            200, stream=Breaking(), headers={"content-type": "text/event-stream"}
        ),
        timeout=7,
    )
    with (
        pytest.raises(StreamCutError) as info,
        client.stream_chat({"model": "m", "messages": []}) as stream,
    ):
        list(stream)
    assert "no data for 7 s" in info.value.line()
    assert isinstance(info.value.__cause__, httpx.ReadTimeout)


def test_stream_opening_is_retried() -> None:
    answers = iter([httpx.Response(503, text="down"), sse(delta(content="ok", finish="stop"))])
    client, sleeps = make(lambda r: next(answers))
    with client.stream_chat({"model": "m", "messages": []}) as stream:
        assert [c.content for c in stream] == ["ok"]
    assert len(sleeps) == 1


def test_nothing_is_retried_once_answer_text_arrived() -> None:
    """The first answer breaks after some text; a second request would succeed, and must
    never be made: the text is already on the user's screen."""

    class TextThenBreak(httpx.SyncByteStream):
        def __iter__(self) -> Iterator[bytes]:
            yield b'data: {"choices": [{"delta": {"content": "Hel"}}]}\n\n'
            raise httpx.ReadError("connection reset by peer")

    calls: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        calls.append(request)
        if len(calls) == 1:
            return httpx.Response(
                200, stream=TextThenBreak(), headers={"content-type": "text/event-stream"}
            )
        return sse(delta(content="Hello again", finish="stop"))

    client, sleeps = make(handler, max_retries=3)
    got: list[str] = []
    with (
        pytest.raises(StreamCutError) as info,
        client.stream_chat({"model": "m", "messages": []}) as stream,
    ):
        got.extend(chunk.content for chunk in stream)
    assert got == ["Hel"]
    assert len(calls) == 1 and sleeps == []
    assert "ReadError" not in info.value.line()
    assert "connection was lost" in info.value.line()


def test_stream_with_a_finish_reason_is_complete_without_done() -> None:
    """Some proxies drop [DONE]; the answer that carried its finish reason is whole."""
    client, _ = make(lambda r: sse(delta(content="all"), delta(finish="length"), done=False))
    with client.stream_chat({"model": "m", "messages": []}) as stream:
        chunks = list(stream)
    assert "".join(c.content for c in chunks) == "all"
    assert chunks[-1].finish_reason == "length"
    assert stream.finished and not stream.done


def test_stream_cut_after_a_finish_reason_is_still_cut_when_the_connection_breaks() -> None:
    class FinishThenBreak(httpx.SyncByteStream):
        def __iter__(self) -> Iterator[bytes]:
            yield f"data: {json.dumps(delta(content='x', finish='stop'))}\n\n".encode()
            raise httpx.RemoteProtocolError("incomplete chunked read")

    client, _ = make(
        lambda r: httpx.Response(
            200, stream=FinishThenBreak(), headers={"content-type": "text/event-stream"}
        )
    )
    with (
        pytest.raises(StreamCutError) as info,
        client.stream_chat({"model": "m", "messages": []}) as stream,
    ):
        list(stream)
    assert "RemoteProtocolError" not in info.value.line()
    assert "closed the connection" in info.value.line()


def test_non_stream_chat_parses_the_completion() -> None:
    body = {
        "model": "kimi-k2.6",
        "choices": [
            {"message": {"content": "hi", "reasoning_content": "r"}, "finish_reason": "length"}
        ],
        "usage": {"prompt_tokens": 1, "completion_tokens": 2},
    }
    client, _ = make(lambda r: httpx.Response(200, json=body, headers={"msh-request-id": "m-1"}))
    completion = client.chat({"model": "kimi-k2.6", "messages": []})
    assert (completion.content, completion.reasoning, completion.finish_reason) == (
        "hi",
        "r",
        "length",
    )
    assert completion.request_id == "m-1"


def test_debug_trace_redacts_the_key() -> None:
    lines: list[str] = []
    client = KimiClient(
        "https://api.example/v1",
        KEY,
        transport=httpx.MockTransport(lambda r: httpx.Response(200, json={"data": []})),
        trace=lines.append,
    )
    client.list_models()
    assert lines and all(KEY not in line for line in lines)
    assert any("Bearer ***" in line for line in lines)


def test_debug_trace_shows_the_body_with_the_key_masked_and_images_summarised() -> None:
    lines: list[str] = []
    client = KimiClient(
        "https://api.example/v1",
        KEY,
        transport=httpx.MockTransport(
            lambda r: httpx.Response(200, json={"data": {"total_tokens": 3}})
        ),
        trace=lines.append,
    )
    image = "data:image/png;base64," + "A" * 40_000
    messages = [
        {
            "role": "user",
            "content": [
                {"type": "text", "text": f"is {KEY} my key? ünïcode"},
                {"type": "image_url", "image_url": {"url": image}},
            ],
        }
    ]
    client.estimate_tokens("kimi-k3", messages)
    [body] = [line for line in lines if line.startswith("> body: ")]
    assert '"model": "kimi-k3"' in body and "ünïcode" in body
    assert KEY not in body and "is *** my key" in body
    assert "data:image/png;base64,<30,000 bytes>" in body and "AAAA" not in body


def test_debug_trace_cuts_a_long_body_saying_how_long() -> None:
    from kimi_cli.api.trace import SHOWN_CHARS, describe_json_body

    shown = describe_json_body({"messages": [{"role": "user", "content": "x" * 50_000}]})
    assert len(shown) < SHOWN_CHARS + 100 and "50,0" in shown and "characters in all" in shown


def test_debug_trace_summarises_an_upload(tmp_path: Path) -> None:
    from kimi_cli.api import files

    source = tmp_path / "report.pdf"
    source.write_bytes(b"%PDF" + b"\0" * 5000)
    lines: list[str] = []
    client = KimiClient(
        "https://api.example/v1",
        KEY,
        transport=httpx.MockTransport(lambda r: httpx.Response(200, json={"id": "file-1"})),
        trace=lines.append,
    )
    files.upload(client, source, "file-extract")
    [body] = [line for line in lines if line.startswith("> body: ")]
    assert "purpose=file-extract" in body and "'report.pdf', 5,004 bytes" in body
    assert "%PDF" not in body


def test_overloaded_names_the_model_only_on_chat() -> None:
    busy = error(429, "engine_overloaded_error", "The engine is currently overloaded")
    client, _ = make(lambda r: busy, max_retries=0)
    with pytest.raises(TemporaryError) as listing:
        client.list_models()
    with pytest.raises(TemporaryError) as chatting:
        client.chat({"model": "kimi-k3", "messages": []})
    assert "the API is overloaded" in listing.value.line()
    assert "model" not in listing.value.message
    assert "the model is overloaded" in chatting.value.line()


@pytest.mark.parametrize(
    "failure",
    [
        httpx.RemoteProtocolError(""),
        httpx.ReadError(""),
        httpx.WriteError(""),
        httpx.LocalProtocolError(""),
        httpx.ConnectError(""),
        httpx.ProxyError(""),
    ],
)
def test_transport_failures_are_said_in_words(failure: httpx.TransportError) -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        raise failure

    client, _ = make(handler, max_retries=0)
    with pytest.raises(TemporaryError) as info:
        client.list_models()
    assert type(failure).__name__ not in info.value.line()
    assert "()" not in info.value.line()
