"""The control endpoints (stats, config), the Emulator life cycle and ``main``."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

import kimi_cli
from kimi_cli.emulator import Emulator, main

from .helpers import client_for, user

REPO = Path(kimi_cli.__file__).resolve().parent.parent


def test_stats_counts_and_records(emulator: Emulator, client: httpx.Client) -> None:
    client.get("/models")
    client.get("/models")
    first = {"model": "kimi-k3", "messages": user("ECHO a"), "temperature": 1}
    second = {"model": "kimi-k2.6", "messages": user("ECHO b"), "stream": True}
    client.post("/chat/completions", json=first)
    client.post("/chat/completions", json=second, headers={"X-Probe": "yes"})
    with client_for(emulator.root_url) as root:
        root.get("/models")  # a client that forgot /v1
        stats = root.get("/_emulator/stats").json()
    assert stats == emulator.stats()
    assert stats["requests"] == {
        "GET /v1/models": 2,
        "POST /v1/chat/completions": 2,
        "GET /models": 1,
    }
    assert stats["total"] == 5
    assert stats["chat_requests"] == [first, second]
    assert stats["disconnects"] == 0
    last = stats["last_request"]
    assert last["method"] == "GET" and last["path"] == "/models" and last["body"] is None
    before = emulator.stats()["chat_requests"]
    assert before[-1] == second


def test_last_request_hides_authorization(emulator: Emulator, client: httpx.Client) -> None:
    client.post("/chat/completions", json={"model": "kimi-k3", "messages": user("hi")})
    last = emulator.stats()["last_request"]
    assert last["path"] == "/v1/chat/completions"
    assert last["body"]["messages"] == user("hi")
    assert not any(name.lower() == "authorization" for name in last["headers"])
    assert "sk-emulator" not in str(last)
    assert any(name.lower() == "content-type" for name in last["headers"])


def test_rejected_and_invalid_chat_bodies_are_recorded(
    emulator: Emulator, client: httpx.Client
) -> None:
    client.post("/chat/completions", json={"model": "nope", "messages": user("x")})
    client.post("/chat/completions", content=b"{bad", headers={"Content-Type": "application/json"})
    assert emulator.stats()["chat_requests"] == [{"model": "nope", "messages": user("x")}, "{bad"]


def test_config_endpoint(emulator: Emulator) -> None:
    with client_for(emulator.root_url, key=None) as root:
        response = root.post(
            "/_emulator/config",
            json={
                "faults": [{"name": "rate_limit", "once": True, "endpoint": "all"}],
                "balance": {"available": 0.5, "voucher": 0.5, "cash": 0},
                "keys": ["sk-a", "sk-b"],
                "delay": 0.1,
                "stall": 0.2,
            },
        )
        assert response.status_code == 200
        config = response.json()
        assert config["faults"] == [{"name": "rate_limit", "once": True, "endpoint": "all"}]
        assert config["balance"] == {"available": 0.5, "voucher": 0.5, "cash": 0.0}
        assert config["keys"] == ["sk-a", "sk-b"]
        assert (config["delay"], config["stall"]) == (0.1, 0.2)
        assert root.get("/_emulator/config").json() == config == emulator.config()
        with client_for(emulator.base_url, key="sk-b") as client:
            assert client.get("/models").status_code == 429
            assert client.get("/models").status_code == 200
            assert client.get("/users/me/balance").json()["data"]["available_balance"] == 0.5
        models = [{"id": "kimi-k9", "context_length": 4096, "supports_reasoning": True}]
        assert root.post("/_emulator/config", json={"models": models}).status_code == 200
        with client_for(emulator.base_url, key="sk-a") as client:
            assert [m["id"] for m in client.get("/models").json()["data"]] == ["kimi-k9"]
        assert emulator.stats()["total"] == 4
        config = root.post("/_emulator/config", json={"reset_stats": True, "faults": []}).json()
        assert config["faults"] == []
        assert emulator.stats() == {
            "requests": {},
            "endpoints": {},
            "bodies": {},
            "total": 0,
            "chat_requests": [],
            "last_request": None,
            "disconnects": 0,
            "chat_in_flight": 0,
            "chat_max_in_flight": 0,
            "rate_limited": 0,
            "uploaded_bytes": 0,
        }


@pytest.mark.parametrize(
    "change",
    [
        {"faults": "auth"},
        {"balance": {"euros": 3}},
        {"balance": {"cash": "lots"}},
        {"models": [{"context_length": 10}]},
        {"models": [{"id": "m", "context_length": -1}]},
        {"keys": []},
        {"delay": -1},
        {"stall": "long"},
        {"reset_stats": "yes"},
        {"colour": "blue"},
        {"retired": "kimi-k3"},
        {"file_max_count": -1},
        {"file_max_bytes": 1.5},
        {"fiber_output": "secret"},
        {"batch_step_s": -1},
    ],
)
def test_bad_config_is_400_and_changes_nothing(
    emulator: Emulator, change: dict[str, object]
) -> None:
    before = emulator.config()
    with client_for(emulator.root_url) as root:
        response = root.post("/_emulator/config", json={"delay": 5, **change})
    assert response.status_code == 400
    assert response.json()["error"]["type"] == "invalid_request_error"
    assert emulator.config() == before
    with pytest.raises(ValueError):
        emulator.configure(**change)


def test_unknown_control_path(emulator: Emulator) -> None:
    with client_for(emulator.root_url) as root:
        assert root.get("/_emulator/nothing").status_code == 404
        assert root.post("/_emulator/config", content=b"[]").status_code == 400
    assert emulator.stats()["total"] == 0  # control calls are not counted


def test_urls_and_stop() -> None:
    emu = Emulator()
    emu.start()
    port = emu.port
    assert port > 0
    assert emu.root_url == f"http://127.0.0.1:{port}"
    assert emu.base_url == f"http://127.0.0.1:{port}/v1"
    emu.stop()
    emu.stop()  # twice is fine
    with pytest.raises(httpx.ConnectError), client_for(f"http://127.0.0.1:{port}/v1") as client:
        client.get("/models")


def test_verbose_logs_requests(capfd: pytest.CaptureFixture[str]) -> None:
    with Emulator(verbose=True) as emu, client_for(emu.base_url) as client:
        client.get("/models")
    assert "GET /v1/models" in capfd.readouterr().err


def test_quiet_by_default(capfd: pytest.CaptureFixture[str]) -> None:
    with Emulator() as emu, client_for(emu.base_url) as client:
        client.get("/models")
        client.get("/missing")
    assert capfd.readouterr() == ("", "")


def _run_main(args: list[str]) -> subprocess.Popen[str]:
    code = "import sys; from kimi_cli.emulator import main; sys.exit(main(sys.argv[1:]))"
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    return subprocess.Popen(
        [sys.executable, "-c", code, *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
        cwd=REPO,
    )


@pytest.mark.skipif(sys.platform == "win32", reason="SIGINT to a child is POSIX")
def test_main_serves_until_sigint(tmp_path: Path) -> None:
    port_file = tmp_path / "url.txt"
    process = _run_main(
        ["--port", "0", "--port-file", str(port_file), "--key", "sk-one", "--key", "sk-two",
         "--fault", "server_error:once"]
    )  # fmt: skip
    try:
        assert process.stdout is not None
        url = process.stdout.readline().strip()
        assert url.startswith("http://127.0.0.1:") and url.endswith("/v1")
        assert port_file.read_text(encoding="utf-8") == url + "\n"
        with client_for(url, key="sk-two") as client:
            assert client.get("/models").status_code == 200
            chat = {"model": "kimi-k3", "messages": user("ECHO hi")}
            assert client.post("/chat/completions", json=chat).status_code == 500
            assert client.post("/chat/completions", json=chat).status_code == 200
        with client_for(url, key="sk-emulator") as client:
            assert client.get("/models").status_code == 401  # only the keys given
        process.send_signal(signal.SIGINT)
        out, err = process.communicate(timeout=10)
    finally:
        if process.poll() is None:
            process.kill()
            process.communicate()
    assert process.returncode == 0
    assert out == ""
    assert err == ""


def test_main_unknown_fault_exits_2(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--port", "0", "--fault", "meteor"]) == 2
    out, err = capsys.readouterr()
    assert out == ""
    assert len(err.strip().splitlines()) == 1
    assert err.startswith("kimi: error: ") and "meteor" in err


def test_main_port_in_use_exits_2(emulator: Emulator, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--port", str(emulator.port)]) == 2
    out, err = capsys.readouterr()
    assert out == ""
    assert len(err.strip().splitlines()) == 1
    assert "cannot listen" in err


def test_main_help_exits_0(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--help"]) == 0
    assert "--fault" in capsys.readouterr().out
    assert main(["--port", "not-a-number"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("kimi: error: ") and len(err.strip().splitlines()) == 1
