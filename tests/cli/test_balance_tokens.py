"""Issues: kimi balance and kimi tokens, and chat's measuring of large inputs."""

from __future__ import annotations

import json
from pathlib import Path

import httpx
import pytest

from kimi_cli.cli.chat_run import MEASURE_ABOVE_BYTES
from kimi_cli.config import ConfigStore
from kimi_cli.emulator import Emulator
from tests.helpers import CHAT, CN_KEY, GLOBAL_KEY, invoke, requests

ESTIMATE = "POST /v1/tokenizers/estimate-token-count"
MODELS = "GET /v1/models"


@pytest.fixture(autouse=True)
def global_key(monkeypatch: pytest.MonkeyPatch) -> None:
    """The ``regions`` fixture with the global key set."""
    monkeypatch.setenv("KIMI_API_KEY", GLOBAL_KEY)


# -- kimi balance -----------------------------------------------------------------------------


def test_balance_is_usd_on_global(regions: tuple[Emulator, Emulator]) -> None:
    out = invoke("balance")
    assert out.code == 0, out.stderr
    assert out.stdout.splitlines() == [
        "available  49.59 USD",
        "voucher    46.59 USD",
        "cash        3.00 USD",
    ]
    assert out.stderr == ""
    data = json.loads(invoke("balance", "--json").stdout)
    assert data == {"available": 49.58894, "voucher": 46.58893, "cash": 3.00001, "currency": "USD"}


def test_balance_is_cny_on_cn(
    regions: tuple[Emulator, Emulator], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("KIMI_REGION", "cn")
    monkeypatch.setenv("KIMI_API_KEY", CN_KEY)
    regions[1].configure(balance={"voucher": 10.0, "cash": 2.5})
    out = invoke("balance", "--json")
    assert out.code == 0, out.stderr
    assert json.loads(out.stdout) == {
        "available": 12.5,
        "voucher": 10.0,
        "cash": 2.5,
        "currency": "CNY",
    }
    assert "12.50 CNY" in invoke("balance").stdout
    assert requests(regions[0]) == {}  # the global emulator was never asked


def test_explicit_base_url_uses_the_configured_currency_or_says_unknown(
    regions: tuple[Emulator, Emulator], monkeypatch: pytest.MonkeyPatch, isolated_env: Path
) -> None:
    monkeypatch.setenv("KIMI_BASE_URL", regions[0].base_url)
    out = invoke("balance", "--json")
    assert out.code == 0, out.stderr
    assert json.loads(out.stdout)["currency"] is None
    assert "49.59 (currency unknown)" in invoke("balance").stdout
    ConfigStore(isolated_env / "config" / "config.toml").set("currency", "EUR")
    assert json.loads(invoke("balance", "--json").stdout)["currency"] == "EUR"


def test_a_base_url_without_the_balance_endpoint_is_named(
    regions: tuple[Emulator, Emulator], monkeypatch: pytest.MonkeyPatch
) -> None:
    # A gateway or proxy that passes chat on but not GET /users/me/balance answers 404: the
    # line says that, not the 404's own words about a model.
    monkeypatch.setenv("KIMI_BASE_URL", regions[0].base_url)
    regions[0].configure(faults=[{"name": "model_not_found", "endpoint": "balance"}])
    out = invoke("balance", "--json")
    line = out.assert_one_error_line(1)
    assert "has no balance endpoint (GET /users/me/balance answered HTTP 404" in line, line
    assert "check the balance where" in line and out.stdout == ""


def test_no_balance_exits_6_with_one_line_on_how_to_recharge(
    regions: tuple[Emulator, Emulator],
) -> None:
    regions[0].configure(balance={"available": 0, "voucher": 0, "cash": -3.1})
    out = invoke("balance")
    line = out.assert_one_error_line(6)
    assert "no balance" in line and "platform.kimi.ai" in line
    assert "kimi: warning: the cash balance is negative (-3.10 USD)" in out.stderr
    assert "available   0.00 USD" in out.stdout
    # --json still prints the document (the request worked; the exit code says it is empty).
    out = invoke("balance", "--json")
    assert out.code == 6
    assert json.loads(out.stdout)["cash"] == -3.1


def test_negative_cash_with_a_voucher_warns_and_succeeds(
    regions: tuple[Emulator, Emulator],
) -> None:
    regions[0].configure(balance={"voucher": 5.0, "cash": -1.25})
    out = invoke("balance")
    assert out.code == 0
    assert out.stderr.startswith("kimi: warning: the cash balance is negative (-1.25 USD)")


def test_balance_with_a_key_of_the_other_region_names_it(
    regions: tuple[Emulator, Emulator], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("KIMI_API_KEY", CN_KEY)
    out = invoke("balance")
    line = out.assert_one_error_line(4)
    assert "cn region" in line and "KIMI_REGION=cn" in line
    assert CN_KEY not in out.stdout + out.stderr


def test_balance_with_a_kimi_code_key_sends_nothing(
    regions: tuple[Emulator, Emulator], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("KIMI_API_KEY", "sk-kimi-3Zp8Wd1Hs6Nc9Ya2Fq7Lu4Be")
    assert "Kimi Code key" in invoke("balance").assert_one_error_line(4)
    assert regions[0].stats()["total"] == 0


# -- kimi tokens ------------------------------------------------------------------------------


def emulator_estimate(emulator: Emulator, model: str, text: str) -> int:
    """What the emulator itself answers for the same one-message body."""
    body = {"model": model, "messages": [{"role": "user", "content": text}]}
    headers = {"Authorization": f"Bearer {GLOBAL_KEY}"}
    answer = httpx.post(
        f"{emulator.base_url}/tokenizers/estimate-token-count", json=body, headers=headers
    )
    total: int = answer.json()["data"]["total_tokens"]
    return total


def test_tokens_agrees_with_the_emulator(
    regions: tuple[Emulator, Emulator], tmp_path: Path
) -> None:
    text = "héllo wörld — 世界\n" * 50
    source = tmp_path / "notes.md"
    source.write_text(text, encoding="utf-8")
    expected = emulator_estimate(regions[0], "kimi-k3.1-pro", text)
    out = invoke("tokens", str(source), "-m", "kimi-k3.1-pro", "--json")
    assert out.code == 0, out.stderr
    data = json.loads(out.stdout)
    assert data == {
        "model": "kimi-k3.1-pro",
        "tokens": expected,
        "context_length": 1048576,
        "share": expected / 1048576,
    }
    sent = invoke("tokens", "-", "-m", "kimi-k3.1-pro", input=text)
    assert sent.code == 0, sent.stderr
    share = "0.03% of kimi-k3.1-pro's 1,048,576-token context"
    assert sent.stdout == f"{expected:,} tokens ({share})\n"


@pytest.mark.parametrize("fault", ["model_not_found", "invalid_request"])
def test_a_token_counter_that_refuses_the_model_says_so(
    regions: tuple[Emulator, Emulator], fault: str
) -> None:
    # The tokenizer endpoint lists the models it counts for; one it does not take (a new
    # model, say) is refused there while chat works: the line names the counter and the way out.
    regions[0].configure(faults=[{"name": fault, "endpoint": "tokens"}])
    out = invoke("tokens", "-m", "kimi-k3.1-pro", input="hello")
    line = out.assert_one_error_line(1)
    assert "the token counter (POST /tokenizers/estimate-token-count) refused kimi-k3.1-pro" in line
    assert "kimi tokens -m ID" in line and "check the options given" not in line
    assert out.stdout == ""


def test_tokens_uses_the_configured_model_and_the_cached_list(
    regions: tuple[Emulator, Emulator], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("KIMI_MODEL", "kimi-k2.6")
    first = invoke("tokens", input="some text to count")
    assert first.code == 0, first.stderr
    assert "of kimi-k2.6's 262,144-token context" in first.stdout
    assert requests(regions[0])[MODELS] == 1  # a miss: one live fetch
    again = invoke("tokens", "--json", input="more text")
    assert json.loads(again.stdout)["model"] == "kimi-k2.6"
    assert requests(regions[0])[MODELS] == 1  # a hit: no round trip
    assert requests(regions[0])[ESTIMATE] == 2


def test_tokens_refuses_a_gateway_id_like_chat(regions: tuple[Emulator, Emulator]) -> None:
    out = invoke("tokens", "-m", "moonshotai/kimi-k2.6", input="text")
    assert "kimi-k2.6" in out.assert_one_error_line(5)
    assert ESTIMATE not in requests(regions[0])


def test_tokens_without_a_model_is_a_config_error(regions: tuple[Emulator, Emulator]) -> None:
    out = invoke("tokens", input="text")
    assert "no model" in out.assert_one_error_line(3)


@pytest.mark.parametrize(
    ("data", "words"),
    [
        (b"", "is empty"),
        (b"  \n\t\n", "is empty"),
        (b"caf\xc3\xa9 ok \xff\xfe rest", "not valid UTF-8 (byte offset 9)"),
    ],
)
def test_bad_input_is_a_usage_error_before_any_request(
    regions: tuple[Emulator, Emulator], data: bytes, words: str
) -> None:
    out = invoke("tokens", "-m", "kimi-k2.6", input=data)
    assert words in out.assert_one_error_line(2)
    assert out.stdout == ""
    assert regions[0].stats()["total"] == 0


def test_a_missing_file_is_a_usage_error(regions: tuple[Emulator, Emulator]) -> None:
    out = invoke("tokens", "/nonexistent/file.txt", "-m", "kimi-k2.6")
    assert "no such file" in out.assert_one_error_line(2)


# -- chat measures a large input before sending it --------------------------------------------


def _with_small_model(emulator: Emulator, context: int) -> None:
    small = {"id": "kimi-small", "context_length": context, "supports_thinking_type": "no"}
    emulator.configure(models=[*emulator.config()["models"], small])


def test_an_oversized_chat_input_is_refused_before_any_chat_request(
    regions: tuple[Emulator, Emulator], monkeypatch: pytest.MonkeyPatch
) -> None:
    glob = regions[0]
    _with_small_model(glob, 8192)
    monkeypatch.setenv("KIMI_MODEL", "kimi-small")
    text = "word " * (MEASURE_ABOVE_BYTES // 5 + 100)  # just above the threshold
    out = invoke("chat", "summarise", input=text)
    line = out.assert_one_error_line(2)
    assert "tokens" in line and "8,192" in line
    assert out.stdout == ""
    counts = requests(glob)
    assert counts.get(ESTIMATE) == 1  # measured ...
    assert CHAT not in counts  # ... and never sent
    assert glob.stats()["chat_requests"] == []


def test_a_large_input_that_fits_is_measured_then_sent(
    regions: tuple[Emulator, Emulator], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("KIMI_MODEL", "kimi-k2.6")
    text = "ECHO " + "x" * (MEASURE_ABOVE_BYTES + 10)
    out = invoke("chat", "--no-stream", input=text)
    assert out.code == 0, out.stderr
    counts = requests(regions[0])
    assert counts.get(ESTIMATE) == 1 and counts.get(CHAT) == 1


def test_a_small_chat_input_is_not_measured(
    regions: tuple[Emulator, Emulator], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("KIMI_MODEL", "kimi-k2.6")
    out = invoke("chat", "ECHO small", "--no-stdin")
    assert out.code == 0, out.stderr
    assert ESTIMATE not in requests(regions[0])


# -- the other region, asked only after a 401 ------------------------------------------------


@pytest.mark.parametrize("command", [("chat", "ECHO hi"), ("tokens",)])
def test_chat_and_tokens_with_a_key_of_the_other_region_name_it(
    regions: tuple[Emulator, Emulator], monkeypatch: pytest.MonkeyPatch, command: tuple[str, ...]
) -> None:
    monkeypatch.setenv("KIMI_API_KEY", CN_KEY)
    monkeypatch.setenv("KIMI_MODEL", "kimi-k2.6")
    out = invoke(*command, input="some text")
    line = out.assert_one_error_line(4)
    assert "cn region" in line and "KIMI_REGION=cn" in line
    assert requests(regions[1]).get(MODELS) == 1  # the probe: one question, after the 401


def test_a_chat_that_works_never_asks_the_other_region(
    regions: tuple[Emulator, Emulator], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("KIMI_MODEL", "kimi-k2.6")
    out = invoke("chat", "ECHO hi")
    assert out.code == 0 and out.stdout == "hi\n"
    assert regions[1].stats()["total"] == 0
