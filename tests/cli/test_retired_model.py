"""A stored model that the API stops serving: explained once with where to move, then
nothing is sent for it. Real processes against the emulator (its ``retired`` config), whose
counters prove what was sent; a 404 for a listed model through a mock transport."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest

from kimi_cli.api.types import Model
from kimi_cli.catalog import ChatOptions, policy_for
from kimi_cli.catalog import retirements as retirements_module
from kimi_cli.catalog.cache import ModelCache
from kimi_cli.catalog.retirements import Retirement
from kimi_cli.conversation.lifecycle import ModelWatch
from kimi_cli.conversation.turn import Conversation, TurnError, TurnObserver
from kimi_cli.emulator import Emulator
from kimi_cli.errors import ExitCode
from tests.api.mock import error, make
from tests.helpers import history_at, invoke, run_process


def requests(emulator: Emulator, name: str) -> int:
    return int(emulator.stats()["requests"].get(name, 0))


CHAT = "POST /v1/chat/completions"
MODELS = "GET /v1/models"


def test_the_first_chat_names_the_successor_the_second_sends_nothing(
    configured: Emulator, isolated_env: Path
) -> None:
    assert run_process("models", "use", "kimi-k2.6").code == 0  # stored, and cached
    configured.configure(retired=["kimi-k2.6"])
    env = {"KIMI_MODEL": ""}  # the stored model, not the fixture's variable

    first = run_process("chat", "ECHO hi", env=env)
    line = first.assert_one_error_line(5)
    assert "kimi-k2.6 is no longer served by this API (404: Not found the model" in line
    assert "suggested: kimi-k3.1-pro — kimi models use kimi-k3.1-pro" in line
    assert requests(configured, CHAT) == 1  # the one request that met the 404
    config = (isolated_env / "config" / "config.toml").read_text(encoding="utf-8")
    assert 'model = "kimi-k2.6"' in config  # never switched silently

    models_before = requests(configured, MODELS)
    second = run_process("chat", "ECHO hi again", env=env)
    line = second.assert_one_error_line(5)
    assert "kimi-k2.6 was answered 404 (not served) on an earlier run; nothing was sent" in line
    assert "kimi models use kimi-k3.1-pro" in line
    assert requests(configured, CHAT) == 1  # nothing sent
    assert requests(configured, MODELS) == models_before  # not even the model list

    # The model comes back and `kimi models` lists it again: the note is cleared.
    configured.configure(retired=[])
    assert run_process("models").code == 0
    again = run_process("chat", "ECHO back", env=env)
    assert (again.code, again.stdout) == (0, "back\n"), again.stderr


def test_a_model_retiring_within_two_weeks_warns_once_a_day(
    configured: Emulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    soon = datetime.now(UTC).date() + timedelta(days=5)
    monkeypatch.setitem(
        retirements_module.RETIREMENTS,
        "kimi-k3",
        Retirement("kimi-k3", soon, "kimi-k3.1-pro", "test", "announced"),
    )
    env = {"KIMI_BASE_URL": configured.base_url, "KIMI_API_KEY": "sk-emulator"}
    first = invoke("chat", "-m", "kimi-k3", "ECHO hi", env=env)
    assert first.code == 0, first.stderr
    warnings = [x for x in first.stderr.splitlines() if x.startswith("kimi: warning:")]
    assert warnings == [
        f"kimi: warning: kimi-k3 is announced to retire on {soon.isoformat()} (in 5 days);"
        " successor: kimi-k3.1-pro — kimi models use kimi-k3.1-pro"
    ]
    second = invoke("chat", "-m", "kimi-k3", "ECHO hi", env=env)
    assert second.code == 0 and "warning" not in second.stderr  # once a day
    assert len(configured.stats()["chat_requests"]) == 2  # a warning, never a refusal


def test_doctor_names_the_retirement_of_the_configured_model(configured: Emulator) -> None:
    out = run_process("doctor", "--no-chat", "--json")
    model = {c["id"]: c for c in json.loads(out.stdout)["checks"]}["model"]
    assert model["status"] == "warn", model
    notice = "kimi-k2.6: third parties report (not confirmed by Moonshot) it retires on 2026-12-31"
    assert notice in model["detail"]
    # KIMI_MODEL sets it here (the configured fixture): the fix changes the variable.
    assert model["fix"].startswith("export KIMI_MODEL=kimi-k3.1-pro (KIMI_MODEL overrides")
    assert out.code == 0  # a warning never fails


def test_a_404_on_chat_for_a_listed_model_is_not_called_a_retirement(
    configured: Emulator, isolated_env: Path
) -> None:
    configured.configure(faults=[{"name": "model_not_found", "once": True}])
    out = run_process("chat", "ECHO hi")
    line = out.assert_one_error_line(5)
    assert "no longer served" not in line
    assert "the API answered 404 for kimi-k2.6 although GET /models lists it" in line
    assert "(Not found the model kimi-k2.6 or Permission denied)" in line
    assert "this key may lack access to it" in line
    # Nothing is forgotten: the next chat is sent, and answered.
    again = run_process("chat", "ECHO hi")
    assert (again.code, again.stdout) == (0, "hi\n"), again.stderr
    assert requests(configured, CHAT) == 2


K3 = Model(id="kimi-k3", context_length=262_144)


def test_a_404_for_a_model_the_list_still_has_says_what_the_api_said(tmp_path: Path) -> None:
    said = "Not found the model kimi-k3 or Permission denied"

    def api(request: httpx.Request) -> httpx.Response:
        if request.url.path.endswith("/models"):
            return httpx.Response(200, json={"data": [{"id": "kimi-k3"}, {"id": "kimi-k3.1-pro"}]})
        return error(404, "resource_not_found_error", said)

    client, _ = make(api)
    cache = ModelCache(tmp_path)
    conversation = Conversation(
        client=client,
        model=K3,
        policy=policy_for(K3),
        history=None,
        currency="USD",
        warn=lambda text: None,
        watch=ModelWatch(cache, tmp_path),
    )
    with pytest.raises(TurnError) as caught:
        conversation.send("hi", ChatOptions(), TurnObserver())
    failure = caught.value.error
    assert failure.exit_code == ExitCode.MODEL_NOT_FOUND
    assert "no longer served" not in failure.line()
    assert f"although GET /models lists it ({said})" in failure.line()
    assert "this key may lack access to it" in failure.line()
    assert cache.forgotten(client.base_url, "kimi-k3") is None  # not taken for a retirement


@pytest.mark.parametrize("retired", ["kimi-k2.5", "moonshot-v1-8k", "kimi-k2-turbo-preview"])
def test_a_long_retired_id_names_where_to_move_not_a_retiring_look_alike(
    configured: Emulator, retired: str
) -> None:
    # 'close matches' used to offer kimi-k2.6 for kimi-k2.5: a model itself reported to retire.
    out = run_process("chat", "-m", retired, "hi")
    line = out.assert_one_error_line(5)
    assert f"'{retired}' was retired by Moonshot" in line
    assert "suggested: kimi-k3.1-pro — kimi models use kimi-k3.1-pro" in line, line
    assert "kimi-k2.6" not in line
    assert requests(configured, CHAT) == 0


@pytest.mark.slow
def test_continuing_a_conversation_on_a_gone_model_names_the_continue_command(
    configured: Emulator, isolated_env: Path
) -> None:
    # -c keeps the conversation's model whatever the saved one is, so "kimi models use X"
    # would not get the user out: the hint says how to continue on the suggested model.
    assert run_process("chat", "-m", "kimi-k2.6", "ECHO on k2.6").code == 0
    configured.configure(retired=["kimi-k2.6"])
    first = run_process("chat", "-c", "ECHO go on")
    line = first.assert_one_error_line(5)
    assert "kimi-k2.6 is no longer served" in line
    assert "suggested: kimi-k3.1-pro — continue with it: kimi chat -c -m kimi-k3.1-pro" in line
    second = run_process("chat", "-c", "ECHO go on")  # nothing sent: the cache remembers
    assert "kimi chat -c -m kimi-k3.1-pro" in second.assert_one_error_line(5)
    (summary,) = history_at(isolated_env).recent()
    by_id = run_process("chat", "--session", summary.id[:5], "ECHO go on")
    line = by_id.assert_one_error_line(5)
    assert f"kimi chat --session {summary.id} -m kimi-k3.1-pro" in line, line
    # Doing what it says works, in the same conversation.
    done = run_process("chat", "-c", "-m", "kimi-k3.1-pro", "ECHO moved")
    assert (done.code, done.stdout) == (0, "moved\n"), done.stderr
    assert [c.id for c in history_at(isolated_env).recent()] == [summary.id]
