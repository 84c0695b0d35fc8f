"""Issue: kimi doctor. Two emulators stand for the two regions; real sockets throughout."""

from __future__ import annotations

import json
import os
import re
import shutil
import socket
import ssl
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from kimi_cli.api.client import KimiClient
from kimi_cli.config import ConfigStore, GlobalOptions, mask_key, resolve_settings
from kimi_cli.doctor import STATUSES, STEPS, Check, DoctorContext, exit_code_of, run_checks
from kimi_cli.emulator import Emulator
from kimi_cli.render.doctor_table import plain_report, print_checks
from tests.helpers import CHAT, CN_KEY, GLOBAL_KEY, KIMI_CODE_KEY, Outcome, invoke, run_process

IDS = [step[0] for step in STEPS]


@pytest.fixture
def well(regions: tuple[Emulator, Emulator], monkeypatch: pytest.MonkeyPatch) -> Emulator:
    monkeypatch.setenv("KIMI_API_KEY", GLOBAL_KEY)
    monkeypatch.setenv("KIMI_MODEL", "kimi-k3.1-pro")
    return regions[0]


def report(out: Outcome) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(out.stdout)
    return data


def by_id(data: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {c["id"]: c for c in data["checks"]}


def assert_shape(data: dict[str, Any]) -> None:
    """The documented shape of a finished run:
    {checks: [{id, title, status, detail, fix, exit_code}], exit_code, partial: false}."""
    assert set(data) == {"checks", "exit_code", "partial"}
    assert isinstance(data["exit_code"], int)
    assert data["partial"] is False
    assert [c["id"] for c in data["checks"]] == IDS
    for check in data["checks"]:
        assert set(check) == {"id", "title", "status", "detail", "fix", "exit_code"}
        assert isinstance(check["id"], str) and isinstance(check["title"], str)
        assert check["status"] in STATUSES
        assert isinstance(check["detail"], str) and check["detail"]
        assert check["fix"] is None or (isinstance(check["fix"], str) and check["fix"])
        assert isinstance(check["exit_code"], int)
        assert (check["exit_code"] != 0) == (check["status"] == "fail"), check
        if check["status"] in ("warn", "fail"):
            assert check["fix"], check
        if check["status"] == "pass":
            assert check["fix"] is None, check
    failing = [c["exit_code"] for c in data["checks"] if c["status"] == "fail"]
    assert (data["exit_code"] == 0) == (not failing)


def assert_key_hidden(out: Outcome, key: str) -> None:
    assert key not in out.stdout and key not in out.stderr
    assert key[6:] not in out.stdout + out.stderr  # not even most of it


# -- the five setups of the issue -------------------------------------------------------------


def test_all_well_exits_0_with_every_check_in_the_json(well: Emulator) -> None:
    out = invoke("doctor", "--json")
    assert out.code == 0, out.stdout + out.stderr
    data = report(out)
    assert_shape(data)
    checks = by_id(data)
    assert data["exit_code"] == 0
    for name in ("config", "key", "endpoint", "dns", "tcp", "models", "model", "balance", "chat"):
        assert checks[name]["status"] == "pass", checks[name]
    assert checks["tls"]["status"] == "skip"  # plain HTTP to the emulator
    assert mask_key(GLOBAL_KEY) in checks["key"]["detail"]
    assert "env KIMI_API_KEY" in checks["key"]["detail"]
    assert "less than $0.001" in checks["chat"]["detail"]
    assert out.stderr == ""
    assert_key_hidden(out, GLOBAL_KEY)


def test_the_chat_round_trip_is_the_smallest_request(well: Emulator) -> None:
    out = invoke("doctor", "--json")
    assert out.code == 0, out.stderr
    sent = well.stats()["chat_requests"]
    assert len(sent) == 1
    body = sent[0]
    assert body["model"] == "kimi-k3.1-pro"
    assert body["max_completion_tokens"] == 16
    assert body["reasoning_effort"] == "low"  # the cheapest effort the model lists
    assert "thinking" not in body and "temperature" not in body
    # The 16-token budget cuts K3.1's reasoning: finish_reason length, no content. Still a pass.
    chat = by_id(report(out))["chat"]
    assert chat["status"] == "pass"
    assert "finish_reason length" in chat["detail"]
    # the time is its own phrase: not "as intended in 3 ms"
    assert re.search(r"\(finish_reason length\), as intended \([\d.,]+ ms\); ", chat["detail"])


def test_no_chat_sends_no_chat_request(well: Emulator) -> None:
    out = invoke("doctor", "--no-chat", "--json")
    assert out.code == 0, out.stderr
    assert by_id(report(out))["chat"]["status"] == "skip"
    stats = well.stats()
    assert CHAT not in stats["requests"]
    assert stats["chat_requests"] == []
    assert stats["requests"]["GET /v1/models"] == 1


def test_a_key_of_the_other_region_is_named_exit_4(
    regions: tuple[Emulator, Emulator], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("KIMI_API_KEY", CN_KEY)
    monkeypatch.setenv("KIMI_MODEL", "kimi-k3.1-pro")
    out = invoke("doctor")
    line = out.assert_one_error_line(4)
    assert "cn region" in line
    assert "KIMI_REGION=cn" in line  # the environment sets the region: config set alone won't do
    assert "FAIL" in out.stdout and "cn region" in out.stdout
    assert_key_hidden(out, CN_KEY)
    glob, cn = regions
    assert glob.stats()["requests"]["GET /v1/models"] == 1
    assert cn.stats()["requests"]["GET /v1/models"] == 1  # the probe
    assert glob.stats()["chat_requests"] == []
    data = report(invoke("doctor", "--json"))
    assert_shape(data)
    assert data["exit_code"] == 4
    checks = by_id(data)
    assert checks["models"]["status"] == "fail" and checks["models"]["exit_code"] == 4
    for later in ("model", "balance", "chat"):
        assert checks[later]["status"] == "skip"


def test_setup_names_the_region_of_the_key_exit_4(regions: tuple[Emulator, Emulator]) -> None:
    out = invoke("setup", "--key-stdin", input=CN_KEY + "\n")
    line = out.assert_one_error_line(4)
    assert "cn region" in line and "kimi setup --key-stdin --region cn" in line
    assert out.stdout == ""
    assert_key_hidden(out, CN_KEY)


UNKNOWN_KEY = "sk-unknown-4Rt8Wz1Np6Ks3Dc7Hq2Lm9Xv"


def test_setup_with_a_key_no_region_knows_does_not_send_to_doctor(
    regions: tuple[Emulator, Emulator],
) -> None:
    # doctor checks the saved key, and setup saved nothing: "'kimi doctor' finds out which"
    # sent the user round in a circle (doctor: "no API key — run 'kimi setup'").
    out = run_process("setup", "--key-stdin", input=UNKNOWN_KEY + "\n")
    line = out.assert_one_error_line(4)
    assert "kimi doctor" not in line
    assert "platform.kimi.ai (global) or platform.kimi.com (cn)" in line
    assert_key_hidden(out, UNKNOWN_KEY)
    assert all(emu.stats()["requests"]["GET /v1/models"] == 1 for emu in regions)


def test_doctor_never_sends_the_user_to_doctor(
    regions: tuple[Emulator, Emulator], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("KIMI_API_KEY", UNKNOWN_KEY)
    monkeypatch.setenv("KIMI_MODEL", "kimi-k3.1-pro")
    out = invoke("doctor", "--no-chat", "--json")
    assert out.code == 4, out.stderr
    models = by_id(report(out))["models"]
    assert models["status"] == "fail"
    assert "kimi doctor" not in models["fix"] and "platform.kimi.ai" in models["fix"]


def test_a_kimi_code_key_is_named_exit_4(
    regions: tuple[Emulator, Emulator], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("KIMI_API_KEY", KIMI_CODE_KEY)
    monkeypatch.setenv("KIMI_MODEL", "kimi-k3.1-pro")
    out = invoke("doctor", "--json")
    assert out.code == 4, out.stderr
    data = report(out)
    assert_shape(data)
    key = by_id(data)["key"]
    assert key["status"] == "fail" and key["exit_code"] == 4
    assert "Kimi Code key" in key["detail"]
    assert "platform.kimi.ai" in key["fix"]
    assert "Kimi Code key" in out.assert_one_error_line(4)
    assert_key_hidden(out, KIMI_CODE_KEY)
    assert regions[0].stats()["total"] == 0  # a key the API refuses is not sent at all


def test_a_gateway_model_id_names_the_api_id_exit_5(
    regions: tuple[Emulator, Emulator], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("KIMI_API_KEY", GLOBAL_KEY)
    monkeypatch.setenv("KIMI_MODEL", "moonshotai/kimi-k2.6")
    out = invoke("doctor", "--json")
    assert out.code == 5, out.stderr
    data = report(out)
    assert_shape(data)
    model = by_id(data)["model"]
    assert model["status"] == "fail" and model["exit_code"] == 5
    assert "gateway" in model["detail"]
    assert "KIMI_MODEL=kimi-k2.6" in model["fix"]
    assert "kimi-k2.6" in out.assert_one_error_line(5)
    assert by_id(data)["balance"]["status"] == "pass"  # still meaningful, still run
    assert by_id(data)["chat"]["status"] == "skip"
    assert regions[0].stats()["chat_requests"] == []
    assert_key_hidden(out, GLOBAL_KEY)


def test_zero_balance_exit_6(well: Emulator) -> None:
    well.configure(balance={"available": 0, "voucher": 0, "cash": 0})
    out = invoke("doctor", "--json")
    assert out.code == 6, out.stderr
    checks = by_id(report(out))
    assert checks["balance"]["status"] == "fail" and checks["balance"]["exit_code"] == 6
    assert "platform.kimi.ai" in checks["balance"]["fix"]
    assert checks["chat"]["status"] == "skip"
    assert well.stats()["chat_requests"] == []
    assert "no balance" in out.assert_one_error_line(6)


def test_negative_cash_warns_and_passes(well: Emulator) -> None:
    well.configure(balance={"voucher": 5.0, "cash": -3.1})
    out = invoke("doctor", "--no-chat", "--json")
    assert out.code == 0, out.stderr
    balance = by_id(report(out))["balance"]
    assert balance["status"] == "warn"
    assert "-3.10 USD" in balance["detail"] and "negative" in balance["detail"]


# -- the order of the exit codes --------------------------------------------------------------


def test_the_most_basic_failure_sets_the_exit_code() -> None:
    def fail(code: int) -> Check:
        return Check("x", "x", "fail", "d", "f", code)

    assert exit_code_of([fail(1), fail(6), fail(5), fail(4), fail(75), fail(3)]) == 3
    assert exit_code_of([fail(1), fail(4), fail(75)]) == 75
    assert exit_code_of([fail(1), fail(6), fail(5), fail(4)]) == 4
    assert exit_code_of([fail(6), fail(5)]) == 5
    assert exit_code_of([fail(1), fail(6)]) == 6
    assert exit_code_of([fail(70), fail(1)]) == 1
    assert exit_code_of([fail(70)]) == 70
    assert exit_code_of([Check("w", "w", "warn", "d", "f"), Check("p", "p", "pass", "d")]) == 0


def test_a_corrupt_config_fails_with_3_and_is_left_untouched(
    isolated_env: Path, regions: tuple[Emulator, Emulator]
) -> None:
    path = isolated_env / "config" / "config.toml"
    path.parent.mkdir(parents=True)
    original = b'api_key = "sk-unfinished\nmodel = 3\n'
    path.write_bytes(original)
    out = invoke("doctor", "--json")
    assert out.code == 3, out.stderr
    data = report(out)
    assert_shape(data)
    checks = by_id(data)
    assert checks["config"]["status"] == "fail" and str(path) in checks["config"]["detail"]
    assert checks["key"]["status"] == "skip" and checks["models"]["status"] == "skip"
    assert checks["proxy"]["status"] == "pass" and checks["versions"]["status"] == "pass"
    assert path.read_bytes() == original
    assert "sk-unfinished" not in out.stdout + out.stderr


def test_an_environment_only_setup_passes_without_a_file(
    isolated_env: Path, well: Emulator
) -> None:
    out = invoke("doctor", "--no-chat", "--json")
    config = by_id(report(out))["config"]
    assert config["status"] == "pass" and "no file" in config["detail"]
    assert not (isolated_env / "config" / "config.toml").exists()  # the doctor writes nothing


@pytest.mark.skipif(os.name == "nt", reason="no POSIX permissions on Windows")
def test_open_permissions_and_an_overridden_key_warn(isolated_env: Path, well: Emulator) -> None:
    path = isolated_env / "config" / "config.toml"
    ConfigStore(path).set_api_key("sk-saved-9Xc2Vb7Nm4Kj1Hg6Fd3Sa")
    path.chmod(0o644)
    out = invoke("doctor", "--no-chat", "--json")
    assert out.code == 0, out.stderr
    checks = by_id(report(out))
    assert checks["config"]["status"] == "warn"
    assert "0644" in checks["config"]["detail"] and f"chmod 600 {path}" in checks["config"]["fix"]
    assert checks["key"]["status"] == "warn"
    assert "KIMI_API_KEY overrides" in checks["key"]["detail"]
    assert "sk-saved-9Xc2Vb7Nm4Kj1Hg6Fd3Sa" not in out.stdout


def test_failing_api_key_cmd_fails_the_key_check(
    isolated_env: Path, regions: tuple[Emulator, Emulator], monkeypatch: pytest.MonkeyPatch
) -> None:
    path = isolated_env / "config" / "config.toml"
    path.parent.mkdir(parents=True)
    path.write_text('api_key_cmd = "exit 7"\nmodel = "kimi-k3"\n', encoding="utf-8")
    out = invoke("doctor", "--json")
    assert out.code == 3, out.stderr
    checks = by_id(report(out))
    assert checks["config"]["status"] != "fail"  # the file is fine (a warning: its mode)
    assert checks["key"]["status"] == "fail" and "api_key_cmd" in checks["key"]["detail"]
    assert checks["dns"]["status"] == "pass"  # the network is still checked


def test_coding_agent_variables_are_named(well: Emulator, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KIMI_MODEL_NAME", "kimi-for-coding")
    monkeypatch.setenv("KIMI_SHARE_DIR", "/tmp/agent")
    monkeypatch.setenv("KIMI_APIKEY", "typo")
    out = invoke("doctor", "--no-chat", "--json")
    assert out.code == 0, out.stderr
    agent = by_id(report(out))["agent_env"]
    assert agent["status"] == "warn"
    assert "KIMI_MODEL_NAME" in agent["detail"] and "KIMI_SHARE_DIR" in agent["detail"]
    assert "typo" in agent["detail"] and "KIMI_APIKEY" in agent["detail"]
    assert "KIMI_API_KEY is read by both" in agent["fix"]


def test_the_kimi_code_endpoint_fails_with_4_without_a_request(
    well: Emulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("KIMI_BASE_URL", "https://api.kimi.com/coding/v1")
    out = invoke("doctor", "--json")
    assert out.code == 4, out.stderr
    checks = by_id(report(out))
    assert checks["endpoint"]["status"] == "fail" and "Kimi Code" in checks["endpoint"]["detail"]
    assert "unset KIMI_BASE_URL" in checks["endpoint"]["fix"]
    assert all(checks[n]["status"] == "skip" for n in ("dns", "tcp", "tls", "models", "chat"))


def test_a_base_url_without_v1_is_not_the_api_exit_3(
    well: Emulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("KIMI_BASE_URL", well.root_url)
    out = invoke("doctor", "--json")
    assert out.code == 3, out.stderr
    models = by_id(report(out))["models"]
    assert models["status"] == "fail" and "not the Kimi API" in models["detail"]
    assert f"{well.root_url}/v1" in models["fix"]
    endpoint = by_id(report(out))["endpoint"]["detail"]
    assert "no other-region probe" in endpoint and "currency unknown" in endpoint


def test_an_unreachable_host_is_temporary_75(
    well: Emulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    with socket.socket() as sock:  # a port nobody listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    monkeypatch.setenv("KIMI_GLOBAL_BASE_URL", f"http://127.0.0.1:{port}/v1")
    out = invoke("doctor", "--json")
    assert out.code == 75, out.stderr
    checks = by_id(report(out))
    assert checks["dns"]["status"] == "pass" and "127.0.0.1" in checks["dns"]["detail"]
    assert checks["tcp"]["status"] == "fail" and checks["tcp"]["exit_code"] == 75
    assert checks["models"]["status"] == "skip"


def test_a_socks_scheme_is_explained_and_never_crashes(
    well: Emulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ALL_PROXY", "socks://user:hunter2@127.0.0.1:1080")
    monkeypatch.setenv("NO_PROXY", "127.0.0.1")
    out = invoke("doctor", "--no-chat", "--json")
    assert out.code != 70 and "Traceback" not in out.stderr
    proxy = by_id(report(out))["proxy"]
    assert proxy["status"] == "warn"
    assert "socks5://" in proxy["detail"] and "socks5://user:***@127.0.0.1:1080" in proxy["fix"]
    assert "hunter2" not in out.stdout + out.stderr


def test_a_missing_ssl_cert_file_fails_with_3(
    well: Emulator, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("SSL_CERT_FILE", str(tmp_path / "missing.pem"))
    out = invoke("doctor", "--no-chat", "--json")
    assert out.code == 3, out.stderr
    certs = by_id(report(out))["certs"]
    assert certs["status"] == "fail" and "does not exist" in certs["detail"]


def test_another_kimi_that_wins_on_path_is_named(
    well: Emulator, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    if os.name == "nt":
        pytest.skip("POSIX executables")
    agent = tmp_path / "agent-bin"
    agent.mkdir()
    script = agent / "kimi"
    script.write_text("#!/usr/bin/env python3\nfrom kimi_cli.cli import cli\ncli()\n")
    script.chmod(0o755)
    monkeypatch.setenv("PATH", f"{agent}{os.pathsep}{os.environ.get('PATH', '')}")
    out = invoke("doctor", "--no-chat", "--json")
    path = by_id(report(out))["path"]
    assert path["status"] == "warn"
    assert f"{script} wins (Moonshot's kimi-cli coding agent" in path["detail"]
    assert "pipx" in path["fix"]


# -- output for people ------------------------------------------------------------------------


def test_plain_report_in_a_pipe_and_the_error_line(
    regions: tuple[Emulator, Emulator], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("KIMI_API_KEY", GLOBAL_KEY)
    out = run_process("doctor", "--no-chat")
    assert out.code == 3, out.stderr  # no model configured
    lines = out.stdout.splitlines()
    assert lines[0].startswith("PASS  Configuration")
    assert any(line.startswith("FAIL  Configured model") for line in lines)
    assert any(line.strip().startswith("fix: pick one: kimi models use ID") for line in lines)
    assert lines[-1].endswith("— exit 3")
    assert "\x1b[" not in out.stdout  # no colour codes in a pipe
    assert "no model configured" in out.assert_one_error_line(3)


def test_the_table_for_a_terminal() -> None:
    from rich.console import Console

    checks = [
        Check("key", "API key", "pass", "sk-abc…wxyz from env KIMI_API_KEY"),
        Check("model", "Configured model", "fail", "'moonshotai/x' [x]", "use kimi-k2.6", 5),
        Check("chat", "Chat round trip", "skip", "skipped (--no-chat)"),
    ]
    console = Console(record=True, width=120, force_terminal=True)
    print_checks(checks, 5, console)
    text = console.export_text()
    assert "✓ pass" in text and "✗ fail" in text and "- skip" in text
    assert "[x]" in text  # details are text, never rich markup
    assert "fix: use kimi-k2.6" in text
    assert "1 passed, 1 failed, 1 skipped — exit 5" in text
    assert plain_report(checks, 5).splitlines()[1].startswith("FAIL  Configured model")
    console = Console(record=True, width=120, force_terminal=True)
    print_checks([], 130, console, stopped="interrupted after 0 of 18 checks")
    assert console.export_text() == "0 passed — interrupted after 0 of 18 checks, exit 130\n"


# -- the doctor as plain data (no CLI) ---------------------------------------------------------


def _context(env: dict[str, str], handler: Any, **extra: Any) -> DoctorContext:
    settings = resolve_settings(GlobalOptions(), env, ConfigStore(Path("/nonexistent/c.toml")))

    def factory(url: str, key: str) -> KimiClient:
        return KimiClient(url, key, transport=httpx.MockTransport(handler), max_retries=0)

    return DoctorContext(
        settings=settings,
        config_path=Path("/nonexistent/c.toml"),
        env=env,
        client_factory=factory,
        versions={"kimi": "test"},
        **extra,
    )


def _api(request: httpx.Request) -> httpx.Response:
    path = request.url.path
    if path.endswith("/models"):
        model = {"id": "kimi-k2.6", "context_length": 262144, "supports_thinking_type": "both"}
        return httpx.Response(200, json={"data": [model]})
    if path.endswith("/balance"):
        balance = {"available_balance": 1.5, "voucher_balance": 0, "cash_balance": 1.5}
        return httpx.Response(200, json={"data": balance})
    chunk = {"choices": [{"index": 0, "delta": {"content": ""}, "finish_reason": "length"}]}
    body = f"data: {json.dumps(chunk)}\n\ndata: [DONE]\n\n"
    return httpx.Response(200, text=body, headers={"content-type": "text/event-stream"})


@pytest.fixture
def listening() -> Iterator[str]:
    """A base URL whose port accepts TCP connections (the API itself is a MockTransport)."""
    with socket.create_server(("127.0.0.1", 0)) as server:
        yield f"http://127.0.0.1:{server.getsockname()[1]}/v1"


def test_run_checks_on_plain_data(listening: str) -> None:
    env = {"KIMI_BASE_URL": listening, "KIMI_API_KEY": GLOBAL_KEY}
    env |= {"KIMI_MODEL": "kimi-k2.6", "PATH": ""}
    checks = {c.id: c for c in run_checks(_context(env, _api), progress=lambda doing: None)}
    assert list(checks) == IDS
    assert checks["models"].status == "pass" and "kimi-k2.6" in checks["models"].detail
    # kimi-k2.6 is reported to retire: the check warns, with the date and where to move.
    model = checks["model"]
    assert model.status == "warn" and "retires on 2026-12-31" in model.detail, model
    assert "third parties report" in model.detail and model.fix
    # An empty answer cut by the budget still passes: the request was accepted.
    assert checks["chat"].status == "pass" and "finish_reason length" in checks["chat"].detail
    assert "currency unknown" in checks["balance"].detail
    assert checks["versions"].detail == "kimi test"


def test_socks_without_socksio_fails_and_encodings_warn() -> None:
    env = {"KIMI_BASE_URL": "http://127.0.0.1:1/v1", "ALL_PROXY": "socks5://10.0.0.1:1080"}
    ctx = _context(
        env,
        _api,
        module_available=lambda name: name != "socksio",
        stdout_encoding="cp1252",
        stderr_encoding="utf-8",
        chat=False,
    )
    checks = {c.id: c for c in run_checks(ctx)}
    assert checks["proxy"].status == "fail" and checks["proxy"].exit_code == 3
    assert "socksio" in checks["proxy"].detail and "socksio" in (checks["proxy"].fix or "")
    assert checks["encoding"].status == "warn" and "cp1252" in checks["encoding"].detail
    assert checks["dns"].status == "pass"
    assert "proxy is set" in checks["dns"].detail  # the direct check may not be the real path


def test_a_bug_in_one_check_does_not_hide_the_others(monkeypatch: pytest.MonkeyPatch) -> None:
    import kimi_cli.doctor as doctor

    def broken(ctx: DoctorContext, found: Any) -> Check:
        raise RuntimeError("boom")

    steps = tuple((i, d, broken if i == "proxy" else f) for i, d, f in doctor.STEPS)
    monkeypatch.setattr(doctor, "STEPS", steps)
    checks = {c.id: c for c in doctor.run_checks(_context({"PATH": ""}, _api, chat=False))}
    assert checks["proxy"].status == "fail" and checks["proxy"].exit_code == 70
    assert checks["versions"].status == "pass"


# -- TLS against a real handshake --------------------------------------------------------------


@pytest.fixture
def tls_server(tmp_path: Path) -> Iterator[tuple[int, Path]]:
    """A TLS listener for localhost with a self-signed certificate: (port, cert file)."""
    if shutil.which("openssl") is None:
        pytest.skip("openssl is needed to make a certificate")
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(
        [
            *("openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1"),
            *("-keyout", str(key), "-out", str(cert), "-subj", "/CN=localhost"),
            *("-addext", "subjectAltName=DNS:localhost"),
        ],
        check=True,
        capture_output=True,
    )
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    listener = socket.create_server(("127.0.0.1", 0))
    listener.settimeout(0.2)
    stop = threading.Event()

    def serve() -> None:
        while not stop.is_set():
            try:
                conn, _ = listener.accept()
            except OSError:
                continue
            try:
                with context.wrap_socket(conn, server_side=True):
                    pass
            except (OSError, ssl.SSLError):
                conn.close()

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    yield listener.getsockname()[1], cert
    stop.set()
    thread.join(timeout=2)
    listener.close()


def test_tls_names_an_untrusted_certificate_then_trusts_ssl_cert_file(
    tls_server: tuple[int, Path],
) -> None:
    port, cert = tls_server
    env = {"KIMI_BASE_URL": f"https://localhost:{port}/v1", "PATH": ""}
    checks = {c.id: c for c in run_checks(_context(env, _api, chat=False))}
    assert checks["tls"].status == "fail" and checks["tls"].exit_code == 3
    assert "not trusted" in checks["tls"].detail and "SSL_CERT_FILE" in (checks["tls"].fix or "")
    env["SSL_CERT_FILE"] = str(cert)
    checks = {c.id: c for c in run_checks(_context(env, _api, chat=False))}
    assert checks["certs"].status == "pass" and "1 CA certificates" in checks["certs"].detail
    assert checks["tls"].status == "pass" and "TLS" in checks["tls"].detail


def test_python_m_kimi_cli_doctor_help() -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "kimi_cli", "doctor", "--help"], capture_output=True, text=True
    )
    assert proc.returncode == 0 and "--no-chat" in proc.stdout and proc.stderr == ""
