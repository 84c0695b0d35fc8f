"""`kimi chat --web-search`, as a user runs it: the console script's entry point against the
emulator."""

from __future__ import annotations

import json
import os
import sys
from decimal import Decimal
from pathlib import Path
from typing import Any, cast

import httpx
import pexpect
import pytest

from kimi_cli.emulator import Emulator
from kimi_cli.repl.state import Message
from tests.emulator.openapi import assert_valid_chat_request
from tests.helpers import history_at, invoke, run_process

FORMULA = "formulas/moonshot/web-search:latest"


def _stats(emu: Emulator) -> dict[str, Any]:
    stats: dict[str, Any] = emu.stats()
    return stats


def _fiber_content(emu: Emulator, query: str) -> str:
    """What the Formula answers for ``query``: the tool message must carry it verbatim."""
    arguments = json.dumps({"query": query})
    response = httpx.post(
        f"{emu.base_url}/{FORMULA}/fibers",
        json={"name": "web_search", "arguments": arguments},
        headers={"Authorization": "Bearer sk-emulator"},
    )
    context = response.json()["context"]
    content: str = context.get("output") or context["encrypted_output"]
    return content


def test_a_search_turn_runs_the_loop_and_prints_only_the_answer(
    configured: Emulator, isolated_env: Path
) -> None:
    out = invoke("chat", "--web-search", "SEARCH paris weather")
    assert out.code == 0, out.stderr
    stats = _stats(configured)
    assert stats["endpoints"]["formulas.tools"] == 1
    assert stats["endpoints"]["formulas.fibers"] == 1
    first, second = stats["chat_requests"]
    assert first["tools"][0]["function"]["name"] == "web_search"
    call, result = second["messages"][-2:]
    assert call["role"] == "assistant" and call["reasoning_content"]  # kimi-k2.6 thinks
    (tool_call,) = call["tool_calls"]
    assert tool_call["function"] == {
        "name": "web_search",
        "arguments": json.dumps({"query": "paris weather"}),
    }
    assert result == {
        "role": "tool",
        "tool_call_id": tool_call["id"],
        "name": "web_search",
        "content": _fiber_content(configured, "paris weather"),
    }
    for body in (first, second):
        assert_valid_chat_request(body, tool_turns=True)
    # stdout: the final answer, which quotes the result the model was given; stderr: the search
    assert out.stdout.startswith("From the search results:")
    assert 'Web search results for "paris weather"' in out.stdout
    assert "searching" not in out.stdout
    assert out.stderr.splitlines() == ["searching: paris weather"]


def test_the_tool_list_is_fetched_once_per_base_url(configured: Emulator) -> None:
    for query in ("a", "b"):
        assert invoke("chat", "--web-search", f"SEARCH {query}").code == 0
    assert _stats(configured)["endpoints"]["formulas.tools"] == 1
    assert _stats(configured)["endpoints"]["formulas.fibers"] == 2


def test_without_the_flag_no_tool_is_sent(configured: Emulator) -> None:
    out = invoke("chat", "SEARCH paris")
    assert out.code == 0
    (body,) = _stats(configured)["chat_requests"]
    assert "tools" not in body and "formulas.tools" not in _stats(configured)["endpoints"]


def test_the_config_key_turns_it_on_and_the_flag_off(configured: Emulator) -> None:
    assert invoke("config", "set", "web_search", "true").code == 0
    assert invoke("chat", "SEARCH q").code == 0
    assert invoke("chat", "--no-web-search", "SEARCH q").code == 0
    bodies = _stats(configured)["chat_requests"]
    assert ["tools" in b for b in bodies] == [True, True, False]


def test_continue_sends_the_search_results_again(configured: Emulator) -> None:
    assert invoke("chat", "--web-search", "SEARCH rome || oslo").code == 0
    out = invoke("chat", "-c", "ECHO and now?")
    assert out.code == 0 and out.stdout == "and now?\n"
    body = _stats(configured)["chat_requests"][-1]
    roles = [m["role"] for m in body["messages"]]
    assert roles == ["user", "assistant", "tool", "tool", "assistant", "user"]
    assert body["messages"][1]["reasoning_content"]
    contents = [m["content"] for m in body["messages"] if m["role"] == "tool"]
    assert contents == [_fiber_content(configured, "rome"), _fiber_content(configured, "oslo")]
    assert body["messages"][4]["content"].startswith("From the search results:")
    assert_valid_chat_request(body, tool_turns=True)


def test_json_lists_the_searches_and_adds_their_price(
    configured: Emulator, isolated_env: Path
) -> None:
    assert invoke("config", "set", "currency", "USD").code == 0
    out = invoke("chat", "--web-search", "--json", "-u", "SEARCH a || b")
    assert out.code == 0, out.stderr
    data = json.loads(out.stdout)
    assert data["searches"] == [{"query": "a"}, {"query": "b"}]
    fee = data["search_cost"]
    assert fee["calls"] == 2 and fee["currency"] == "USD" and fee["per_call"] == 0.005
    assert fee["amount"] == pytest.approx(0.01) and "pricing/tools" in fee["source"]
    usage = data["usage"]
    tokens = (usage["input_tokens"] - usage["cached_tokens"]) * 0.95 + usage["cached_tokens"] * 0.16
    tokens += usage["output_tokens"] * 4.00
    assert data["cost"]["amount"] == pytest.approx(tokens / 1e6 + 0.01)
    assert "2 searches" in out.stderr and "0.005000 USD each" in out.stderr
    # the searches are billed once, in a usage row of their own
    (summary,) = history_at(isolated_env).recent()
    assert history_at(isolated_env).searches_in(summary.id) == 2


def test_an_unknown_currency_says_the_search_cost_is_unknown(configured: Emulator) -> None:
    out = invoke("chat", "--web-search", "-u", "--json", "SEARCH a")
    assert out.code == 0
    data = json.loads(out.stdout)
    assert data["cost"] is None and data["search_cost"]["amount"] is None
    assert "1 search · cost unknown" in out.stderr


def test_the_loop_stops_at_max_searches_and_keeps_what_arrived(
    configured: Emulator, isolated_env: Path
) -> None:
    out = invoke("chat", "--web-search", "--max-searches", "2", "SEARCH ALWAYS news")
    line = out.assert_one_error_line(1)
    assert "--max-searches 2" in line
    assert out.stdout == ""
    assert _stats(configured)["endpoints"]["formulas.fibers"] == 2
    assert out.stderr.count("searching: ") == 2
    (summary,) = history_at(isolated_env).recent()
    question, answer = history_at(isolated_env).messages(summary.id)
    assert question.content == "SEARCH ALWAYS news" and answer.partial
    steps = json.loads(answer.tool_steps or "[]")
    assert [s["role"] for s in steps] == ["assistant", "tool", "assistant", "tool", "assistant"]


def test_a_failing_fiber_is_one_line_and_nothing_is_lost(
    configured: Emulator, isolated_env: Path
) -> None:
    configured.configure(faults=[{"name": "fiber_failed"}])
    out = invoke("chat", "--web-search", "--json", "SEARCH broken")
    line = out.assert_one_error_line(1)
    assert "web_search" in line and "failed" in line
    data = json.loads(out.stdout)
    assert data["searches"] == [{"query": "broken"}] and data["partial"] is True
    (summary,) = history_at(isolated_env).recent()
    _, answer = history_at(isolated_env).messages(summary.id)
    steps = json.loads(answer.tool_steps or "[]")
    assert steps[0]["tool_calls"][0]["function"]["arguments"] == json.dumps({"query": "broken"})
    # the call without a result is not sent again: the conversation goes on
    configured.configure(faults=[])
    assert invoke("chat", "-c", "ECHO fine").stdout == "fine\n"
    roles = [m["role"] for m in _stats(configured)["chat_requests"][-1]["messages"]]
    assert roles == ["user", "user"]


def test_a_model_without_tools_is_refused_before_sending(configured: Emulator) -> None:
    configured.configure(models=[{"id": "no-tools-1", "supports_tool_use": False}])
    out = invoke("chat", "-m", "no-tools-1", "--web-search", "SEARCH x")
    line = out.assert_one_error_line(2)
    assert "no-tools-1 takes no tools" in line
    endpoints = _stats(configured)["endpoints"]
    assert "chat" not in endpoints and "formulas.tools" not in endpoints


def test_whole_answers_and_plain_outputs_work_the_same(configured: Emulator) -> None:
    configured.configure(fiber_output="plain")
    out = invoke("chat", "--web-search", "--no-stream", "-m", "kimi-k3", "SEARCH tea")
    assert out.code == 0, out.stderr
    _, second = _stats(configured)["chat_requests"]
    assert second["messages"][-1]["content"] == _fiber_content(configured, "tea")
    assert 'Web search results for "tea"' in out.stdout


@pytest.mark.skipif(sys.platform == "win32", reason="needs a pty")
def test_on_a_terminal_the_search_line_is_dim(configured: Emulator) -> None:
    env = {**os.environ, "TERM": "xterm-256color"}
    args = ["-m", "kimi_cli", "chat", "--reasoning", "hide", "--web-search", "SEARCH tea"]
    child = pexpect.spawn(
        sys.executable, args, env=env, dimensions=(40, 100), timeout=20, encoding="utf-8"
    )
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 0
    assert "\x1b[2msearching: tea\x1b[0m" in (child.before or "")


def test_the_repl_turns_search_on_and_off() -> None:
    from kimi_cli.api.types import Model
    from kimi_cli.catalog import ChatOptions, policy_for
    from kimi_cli.conversation.turn import Conversation
    from kimi_cli.errors import UsageError
    from kimi_cli.repl.commands import CommandEnv, classify, run_command
    from kimi_cli.repl.state import ReplState

    def state_for(model: Model) -> ReplState:
        conversation = Conversation(
            client=cast(Any, None),
            model=model,
            policy=policy_for(model),
            history=None,
            currency="USD",
            warn=lambda text: None,
        )
        return ReplState(conversation, ChatOptions())

    lines: list[str] = []
    env = CommandEnv(
        out=lambda text, dim=False: lines.append(text),
        list_models=list,
        recent=lambda limit: [],
        roles_dir=Path("."),
        edit=lambda text: text,
    )

    def run(state: ReplState, line: str) -> None:
        command = classify(line)
        assert command is not None and not isinstance(command, Message)
        run_command(state, env, command)

    state = state_for(Model(id="kimi-k2.6"))
    run(state, "/search on")
    assert state.options.web_search and lines[-1] == "web search: on"
    run(state, "/search")
    assert lines[-1] == "web search: on"
    run(state, "/search off")
    assert not state.options.web_search
    with pytest.raises(UsageError, match="takes on or off"):
        run(state, "/search maybe")
    no_tools = state_for(Model(id="plain-1", raw={"supports_tool_use": False}))
    with pytest.raises(UsageError) as refused:
        run(no_tools, "/search on")
    assert (
        "plain-1 takes no tools" in refused.value.line()
        and "nothing changed" in refused.value.line()
    )
    assert not no_tools.options.web_search


def test_a_tool_list_that_cannot_be_fetched_sends_nothing(
    configured: Emulator, isolated_env: Path
) -> None:
    configured.configure(faults=[{"name": "server_error", "endpoint": "formulas.tools"}])
    out = invoke("chat", "--web-search", "SEARCH x", env={"KIMI_MAX_RETRIES": "0"})
    assert "HTTP 500" in out.assert_one_error_line(75)
    assert "chat" not in _stats(configured)["endpoints"]
    assert history_at(isolated_env).recent() == []


def test_history_show_lists_the_searches_of_an_answer(configured: Emulator) -> None:
    out = invoke("chat", "--web-search", "--json", "SEARCH rome || oslo")
    conversation = json.loads(out.stdout)["conversation_id"]
    shown = invoke("history", "show", conversation)
    assert "> searched: rome\n> searched: oslo\n" in shown.stdout
    data = json.loads(invoke("history", "show", "--json", conversation).stdout)
    assert data["searches"] == 2
    steps = data["messages"][-1]["tool_steps"]
    assert [s["role"] for s in steps] == ["assistant", "tool", "tool"]


@pytest.mark.skipif(sys.platform == "win32", reason="needs a pty")
def test_the_repl_searches_once_search_is_on(configured: Emulator, isolated_env: Path) -> None:
    from tests.terminal import Term, plain

    term = Term.spawn(["chat"], configured)
    try:
        term.prompt()
        term.send("/search on\r")
        term.expect("web search: on")
        term.prompt()
        term.send("SEARCH lisbon\r")
        term.expect("searching: lisbon")
        answer = plain(term.prompt())
        assert 'Web search results for "lisbon"' in answer
        assert term.exit() == 0
    finally:
        term.close()
    assert _stats(configured)["endpoints"]["formulas.fibers"] == 1


def test_a_formula_that_is_not_served_is_named_and_nothing_is_sent(
    configured: Emulator, isolated_env: Path
) -> None:
    # A base URL that serves chat but not the Formula (a gateway, a proxy): its 404 is the
    # Formula's, not the model's.
    configured.configure(faults=[{"name": "model_not_found", "endpoint": "formulas.tools"}])
    out = invoke("chat", "--web-search", "SEARCH x")
    line = out.assert_one_error_line(1)
    assert "the Formula moonshot/web-search:latest is not served at this base URL" in line
    assert "HTTP 404" in line and "drop --web-search" in line
    assert "chat" not in _stats(configured)["endpoints"]
    assert history_at(isolated_env).recent() == []


def test_a_fiber_refused_with_404_is_the_tools_failure_not_the_models(
    configured: Emulator, isolated_env: Path
) -> None:
    configured.configure(faults=[{"name": "model_not_found", "endpoint": "formulas.fibers"}])
    out = run_process("chat", "--web-search", "SEARCH x")
    line = out.assert_one_error_line(1)
    assert "the web_search tool of moonshot/web-search:latest was refused (HTTP 404" in line
    assert "kimi-k2.6" not in line and "lack access" not in line
    assert out.stdout == ""
    # The model is not taken for a gone one: the next chat goes out.
    configured.configure(faults=[])
    assert invoke("chat", "ECHO still here").stdout == "still here\n"


def test_a_fiber_refused_with_400_does_not_blame_the_chat_options(configured: Emulator) -> None:
    configured.configure(faults=[{"name": "invalid_request", "endpoint": "formulas.fibers"}])
    line = invoke("chat", "--web-search", "SEARCH x").assert_one_error_line(1)
    assert "the web_search tool of moonshot/web-search:latest was refused" in line
    assert "(HTTP 400: Invalid request: emulated)" in line
    assert "check the options given" not in line


def test_the_cost_of_a_search_turn_is_added_in_decimal(
    global_region: Emulator, isolated_env: Path
) -> None:
    # kimi-k3.1-pro in USD: the token cost plus 0.005 per search, to the last digit (no float
    # residue such as 0.007350000000000001 in --json, nor in the history's rows).
    out = invoke("chat", "--web-search", "--json", "--max-tokens", "2000", "SEARCH x")
    assert out.code == 0, out.stderr
    data = json.loads(out.stdout, parse_float=Decimal)
    usage = data["usage"]
    cached, fresh = usage["cached_tokens"], usage["input_tokens"] - usage["cached_tokens"]
    tokens = (fresh * Decimal(2) + cached * Decimal("0.2") + usage["output_tokens"] * 10) / 10**6
    assert data["cost"]["amount"] == tokens + Decimal("0.005")
    (summary,) = history_at(isolated_env).recent()
    _, answer = history_at(isolated_env).messages(summary.id)
    assert answer.cost is not None and Decimal(repr(answer.cost)) == tokens


def test_a_search_turn_with_a_schema_prints_the_validated_document(
    configured: Emulator,
) -> None:
    out = invoke("chat", "--web-search", "--schema", "name, born int", "SEARCH ada lovelace")
    assert out.code == 0, out.stderr
    assert json.loads(out.stdout) == {"name": "example name", "born": 1}
    assert out.stderr.splitlines() == ["searching: ada lovelace"]
    last = _stats(configured)["chat_requests"][-1]
    assert last["messages"][-1]["role"] == "tool"
    assert last["response_format"]["type"] == "json_schema"


def test_usage_is_shown_for_a_turn_that_failed_after_spending(configured: Emulator) -> None:
    # Two requests and a search were billed before the cap stopped the model: -u says so.
    out = run_process("chat", "-u", "--web-search", "--max-searches", "1", "SEARCH ALWAYS news")
    out.assert_one_error_line(1)
    usage = [line for line in out.stderr.splitlines() if line.startswith("kimi: usage:")]
    assert len(usage) == 1 and " · 1 search · " in usage[0], out.stderr
    # A failure before anything was billed has no usage line.
    configured.configure(faults=[{"name": "invalid_request"}])
    early = invoke("chat", "-u", "ECHO hi")
    early.assert_one_error_line(1)
    assert "kimi: usage:" not in early.stderr


def test_the_repl_shows_the_usage_of_a_failed_search_turn(configured: Emulator) -> None:
    from tests.terminal import Term, plain

    configured.configure(faults=[{"name": "fiber_failed"}])
    term = Term.spawn(["chat", "-u", "--web-search"], configured)
    try:
        term.prompt()
        term.send("SEARCH lisbon\r")
        shown = plain(term.prompt())
        assert "failed" in shown and "kimi: usage:" in shown and "1 search" in shown, shown
        assert term.exit() == 0
    finally:
        term.close()


def test_the_repl_counts_what_a_failed_search_turn_cost(
    configured: Emulator, isolated_env: Path
) -> None:
    from tests.terminal import Term, plain

    assert invoke("config", "set", "currency", "USD").code == 0
    configured.configure(faults=[{"name": "fiber_failed"}])
    term = Term.spawn(["chat", "--web-search"], configured)
    try:
        term.prompt()
        term.send("SEARCH lisbon\r")
        term.prompt()
        term.send("/usage\r")
        shown = plain(term.prompt())
        assert "this session: 0 answers (1 failed)" in shown, shown
        assert "0.00 USD" not in shown and "cost unknown" not in shown
        assert term.exit() == 0
    finally:
        term.close()
    # the session's figure is what kimi usage counts for it
    spent = json.loads(invoke("usage", "--json").stdout)["totals"][0]["cost"]
    assert spent > 0.005 and f"{spent:.6f} USD" in shown, (spent, shown)
