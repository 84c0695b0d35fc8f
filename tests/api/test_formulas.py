"""Formula tools and fibers over httpx.MockTransport."""

from __future__ import annotations

import json

import httpx
import pytest

from kimi_cli.api import formulas
from kimi_cli.api.formulas import FiberFailedError
from kimi_cli.errors import UnexpectedResponseError
from tests.api.mock import make

TOOLS = {
    "tools": [
        {
            "type": "function",
            "function": {
                "name": "web_search",
                "description": "search",
                "parameters": {
                    "type": "object",
                    "properties": {"query": {"type": "string"}},
                    "required": ["query"],
                },
            },
        }
    ]
}
ARGS = '{"query": "kimi k3.1 \\u4ef7\\u683c",  "classes": ["all"]}'  # odd spacing kept


def test_tools_come_unchanged_from_the_formula_path() -> None:
    seen: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request.url.path)
        return httpx.Response(200, json=TOOLS)

    client, _ = make(handler)
    assert formulas.formula_tools(client, "moonshot/web-search:latest") == TOOLS["tools"]
    assert seen == ["/v1/formulas/moonshot/web-search:latest/tools"]


def test_tools_that_are_not_a_list_are_not_the_api() -> None:
    client, _ = make(lambda r: httpx.Response(200, json={"tools": "none"}))
    with pytest.raises(UnexpectedResponseError):
        formulas.formula_tools(client)


def test_fiber_sends_arguments_verbatim_and_returns_the_output() -> None:
    sent: list[bytes] = []

    def handler(request: httpx.Request) -> httpx.Response:
        assert request.url.path == "/v1/formulas/moonshot/web-search:latest/fibers"
        sent.append(request.content)
        return httpx.Response(
            200,
            json={
                "id": "fiber-1",
                "object": "fiber",
                "status": "succeeded",
                "context": {"input": ARGS, "encrypted_output": "----MOONSHOT ENCRYPTED BEGIN----x"},
            },
        )

    client, _ = make(handler)
    fiber = formulas.run_fiber(client, formulas.WEB_SEARCH, "web_search", ARGS)
    assert json.loads(sent[0]) == {"name": "web_search", "arguments": ARGS}
    assert (fiber.id, fiber.status, fiber.output) == ("fiber-1", "succeeded", None)
    assert fiber.content == "----MOONSHOT ENCRYPTED BEGIN----x"


def test_plain_output_is_preferred() -> None:
    body = {"id": "f", "status": "succeeded", "context": {"output": "", "encrypted_output": "e"}}
    client, _ = make(lambda r: httpx.Response(200, json=body))
    assert formulas.run_fiber(client, "moonshot/date:latest", "date", "{}").content == ""


@pytest.mark.parametrize(
    ("body", "words"),
    [
        ({"id": "f", "status": "failed", "error": {"message": "search backend down"}}, "backend"),
        ({"id": "f", "status": "succeeded", "context": {"error": "quota"}}, "quota"),
        ({"id": "f", "status": "succeeded", "context": {}}, "no output"),
        ({"id": "f", "status": "error", "context": {"output": "half"}}, "status error"),
    ],
)
def test_a_failed_fiber_is_a_typed_error(body: dict[str, object], words: str) -> None:
    client, _ = make(lambda r: httpx.Response(200, json=body))
    with pytest.raises(FiberFailedError) as info:
        formulas.run_fiber(client, formulas.WEB_SEARCH, "web_search", ARGS)
    assert words in info.value.line() and "web_search" in info.value.line()
