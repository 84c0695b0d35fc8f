"""Issue: foundation. models, models use, setup, config, and the failures every
command shares — each one line on stderr, a documented exit code, never the key."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from kimi_cli.emulator import Emulator
from tests.helpers import invoke, run_process

LIVE_IDS = [
    "kimi-k3.1-pro",
    "kimi-k3.1-pro-highspeed",
    "kimi-k3",
    "kimi-k2.7-code",
    "kimi-k2.7-code-highspeed",
    "kimi-k2.6",
]


def config_file(home: Path) -> Path:
    return home / "config" / "config.toml"


def test_models_json_prints_the_live_list(configured: Emulator) -> None:
    out = invoke("models", "--json")
    assert out.code == 0, out.stderr
    models = json.loads(out.stdout)
    assert [m["id"] for m in models] == LIVE_IDS
    k26 = next(m for m in models if m["id"] == "kimi-k2.6")
    assert k26["configured"] is True and k26["context_length"] == 262144
    assert {"supports_reasoning", "supports_image_in", "supports_video_in"} <= set(k26)
    assert configured.stats()["requests"]["GET /v1/models"] == 1


def test_models_plain_output_is_one_id_per_line_when_piped(configured: Emulator) -> None:
    out = run_process("models")
    assert out.code == 0 and out.stdout.splitlines() == LIVE_IDS


def test_models_use_refuses_a_gateway_id_and_names_the_real_one(
    configured: Emulator, isolated_env: Path
) -> None:
    out = invoke("models", "use", "moonshotai/kimi-k2.6")
    line = out.assert_one_error_line(5)
    assert "kimi models use kimi-k2.6" in line
    assert not config_file(isolated_env).exists()  # nothing substituted, nothing stored


@pytest.mark.parametrize(
    ("given", "named"),
    [
        ("moonshot/kimi-k2-6", "kimi-k2.6"),
        ("@cf/moonshotai/kimi-k2.6", "kimi-k2.6"),
        ("kimi-k2-6", "kimi-k2.6"),
        ("Kimi-K3", "kimi-k3"),
        ("Kimi K3.1 Pro", "kimi-k3.1-pro"),
    ],
)
def test_models_use_explains_pasted_forms(configured: Emulator, given: str, named: str) -> None:
    line = invoke("models", "use", given).assert_one_error_line(5)
    assert f"use '{named}'" in line


def test_models_use_refuses_a_retired_id(configured: Emulator) -> None:
    line = invoke("models", "use", "kimi-k2.5").assert_one_error_line(5)
    assert "retired" in line


def test_models_use_stores_the_verified_id(configured: Emulator, isolated_env: Path) -> None:
    out = invoke("models", "use", "kimi-k3")
    assert out.code == 0, out.stderr
    text = config_file(isolated_env).read_text()
    assert 'model = "kimi-k3"' in text
    assert configured.base_url in text  # where it was verified
    if os.name != "nt":
        assert config_file(isolated_env).stat().st_mode & 0o777 == 0o600
        assert config_file(isolated_env).parent.stat().st_mode & 0o777 == 0o700


def test_setup_with_key_stdin_saves_key_and_model(
    emulator: Emulator, isolated_env: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("KIMI_GLOBAL_BASE_URL", emulator.base_url)
    out = invoke(
        "setup",
        "--key-stdin",
        "--region",
        "global",
        "--model",
        "kimi-k3.1-pro",
        input="sk-emulator\n",
    )
    assert out.code == 0, out.stderr
    text = config_file(isolated_env).read_text()
    assert 'region = "global"' in text and 'model = "kimi-k3.1-pro"' in text
    assert "sk-emulator" in text  # the key lives in the 0600 file ...
    assert "sk-emulator" not in out.stderr + out.stdout  # ... and is never printed
    # and the saved setup works without any environment
    monkeypatch.delenv("KIMI_API_KEY", raising=False)
    assert json.loads(invoke("models", "--json").stdout)[0]["id"] == "kimi-k3.1-pro"


def test_setup_names_the_region_a_key_belongs_to(monkeypatch: pytest.MonkeyPatch) -> None:
    with (
        Emulator(keys=["sk-global-key"]) as global_emu,
        Emulator(keys=["sk-cn-only-key"]) as cn_emu,
    ):
        monkeypatch.setenv("KIMI_GLOBAL_BASE_URL", global_emu.base_url)
        monkeypatch.setenv("KIMI_CN_BASE_URL", cn_emu.base_url)
        out = invoke("setup", "--key-stdin", "--region", "global", input="sk-cn-only-key")
        line = out.assert_one_error_line(4)
        assert "cn region" in line and "kimi setup --key-stdin --region cn" in line
        assert "sk-cn-only-key" not in out.stderr
        assert cn_emu.stats()["requests"]["GET /v1/models"] == 1


def test_setup_recognises_a_kimi_code_key(
    emulator: Emulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("KIMI_GLOBAL_BASE_URL", emulator.base_url)
    key = "sk-kimi-abcdefghijklmnopqrstuvwxyz0123456789"
    out = invoke("setup", "--key-stdin", "--region", "global", input=key)
    line = out.assert_one_error_line(4)
    assert "Kimi Code key" in line
    assert key not in out.stderr


def test_setup_refuses_an_empty_key(emulator: Emulator) -> None:
    out = invoke("setup", "--key-stdin", input="  \n")
    out.assert_one_error_line(2)
    assert emulator.stats()["total"] == 0


#: A key pasted with the quotes a word processor or a chat app puts around it.
QUOTED_KEY = "\u201csk-emulator\u201d"


def test_setup_refuses_a_key_that_is_not_ascii(emulator: Emulator) -> None:
    out = run_process(
        "--base-url", emulator.base_url, "setup", "--key-stdin", input=QUOTED_KEY + "\n"
    )
    line = out.assert_one_error_line(2)
    assert "not ASCII" in line and "sk-emulator" not in out.stderr
    assert emulator.stats()["total"] == 0


def test_a_key_file_saved_with_a_byte_order_mark_works(
    emulator: Emulator, isolated_env: Path, tmp_path: Path
) -> None:
    # Windows editors save "UTF-8" with a BOM: `kimi setup --key-stdin < key.txt`, or an
    # api_key_cmd that prints such a file.
    key_file = tmp_path / "key.txt"
    key_file.write_bytes(b"\xef\xbb\xbfsk-emulator\r\n")
    out = run_process(
        "--base-url", emulator.base_url, "setup", "--key-stdin", input=key_file.read_bytes()
    )
    assert out.code == 0, out.stderr
    assert 'api_key = "sk-emulator"' in config_file(isolated_env).read_text(encoding="utf-8")
    invoke("config", "unset", "api_key")
    invoke("config", "set", "api_key_cmd", f"cat {key_file}")
    out = run_process("--base-url", emulator.base_url, "models")
    assert out.code == 0, out.stderr


@pytest.mark.parametrize("where", ["env", "api_key_cmd"])
def test_a_key_that_is_not_ascii_is_a_config_error_naming_its_source(
    emulator: Emulator, monkeypatch: pytest.MonkeyPatch, where: str
) -> None:
    monkeypatch.setenv("KIMI_BASE_URL", emulator.base_url)
    if where == "env":
        monkeypatch.setenv("KIMI_API_KEY", QUOTED_KEY)
    else:
        invoke("config", "set", "api_key_cmd", f"echo {QUOTED_KEY}")
    out = run_process("chat", "-m", "kimi-k2.6", "hi")
    line = out.assert_one_error_line(3)
    assert ("KIMI_API_KEY" if where == "env" else "api_key_cmd") in line
    assert "sk-emulator" not in out.stderr
    assert emulator.stats()["total"] == 0


def test_no_key_is_a_config_error(emulator: Emulator, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KIMI_BASE_URL", emulator.base_url)
    line = invoke("models").assert_one_error_line(3)
    assert "kimi setup" in line


def test_corrupt_config_is_reported_and_left_untouched(isolated_env: Path) -> None:
    path = config_file(isolated_env)
    path.parent.mkdir(parents=True)
    garbage = b'region = "global"\nmodel = [unclosed\n\x00\xff'
    path.write_bytes(garbage)
    out = invoke("models")
    line = out.assert_one_error_line(3)
    assert str(path) in line
    assert path.read_bytes() == garbage
    # a write is refused too, still leaving it as it was
    invoke("config", "set", "region", "cn").assert_one_error_line(3)
    assert path.read_bytes() == garbage


def test_wrong_key_is_an_auth_error(configured: Emulator, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KIMI_API_KEY", "sk-wrong-0123456789")
    out = invoke("models")
    line = out.assert_one_error_line(4)
    assert "sk-wrong-0123456789" not in out.stderr
    assert "Invalid Authentication" in line


def test_unknown_model_in_chat_is_exit_5(
    configured: Emulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("KIMI_MODEL", "kimi-k9")
    invoke("chat", "hi").assert_one_error_line(5)
    assert configured.stats()["requests"].get("POST /v1/chat/completions", 0) == 0


def test_nothing_listening_is_temporary(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KIMI_BASE_URL", "http://127.0.0.1:9/v1")
    monkeypatch.setenv("KIMI_API_KEY", "sk-emulator")
    monkeypatch.setenv("KIMI_MAX_RETRIES", "0")
    line = invoke("models").assert_one_error_line(75)
    assert "127.0.0.1:9" in line


def test_base_url_without_v1_is_named(
    configured: Emulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("KIMI_BASE_URL", configured.root_url)
    line = invoke("models").assert_one_error_line(3)
    assert "/v1" in line


def test_unknown_option_is_one_usage_line() -> None:
    out = invoke("models", "--bogus")
    line = out.assert_one_error_line(2)
    assert "--bogus" in line and "kimi models --help" in line


@pytest.mark.parametrize(
    ("group", "commands"),
    [
        ("config", "show, path, set or unset"),
        ("history", "list, show, export, search or delete"),
        ("files", "upload, list, show, content or rm"),
        ("batch", "submit, run, status, list, cancel, wait or results"),
    ],
)
def test_a_group_without_its_command_is_one_usage_line(group: str, commands: str) -> None:
    out = run_process(group)
    line = out.assert_one_error_line(2)
    assert out.stderr == line + "\n" and out.stdout == ""  # not the help squeezed into a line
    assert (
        line
        == f"kimi: error: 'kimi {group}' needs a command: {commands} — see 'kimi {group} --help'"
    )


@pytest.mark.parametrize(
    ("args", "help_of"),
    [
        (["chat", "-f"], "kimi chat"),
        (["-m"], "kimi chat"),  # kimi's own options are not -m: it starts a chat
        (["chat", "--max-tokens"], "kimi chat"),
        (["--base-url"], "kimi"),
    ],
)
def test_an_option_without_its_value_points_at_the_right_help(
    args: list[str], help_of: str
) -> None:
    line = invoke(*args).assert_one_error_line(2)
    assert line.endswith(f"requires an argument — see '{help_of} --help'"), line


def test_global_options_after_the_command_name_win(
    configured: Emulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("KIMI_BASE_URL", "http://127.0.0.1:9/v1")
    out = invoke(
        "--base-url", "http://127.0.0.1:9/v1", "models", "--json", "--base-url", configured.base_url
    )
    assert out.code == 0, out.stderr


def test_config_set_api_key_is_refused(isolated_env: Path) -> None:
    out = invoke("config", "set", "api_key", "sk-secret-value-1234")
    line = out.assert_one_error_line(2)
    assert "setup --key-stdin" in line
    assert "sk-secret-value-1234" not in out.stderr
    assert not config_file(isolated_env).exists()


def test_config_show_json_masks_the_key(configured: Emulator) -> None:
    out = invoke("config", "show", "--json")
    data = json.loads(out.stdout)
    assert data["api_key"]["source"] == "env KIMI_API_KEY"
    assert "sk-emulator" not in out.stdout
    assert data["base_url"] == {"value": configured.base_url, "source": "env KIMI_BASE_URL"}


def test_config_set_keeps_comments(isolated_env: Path) -> None:
    path = config_file(isolated_env)
    path.parent.mkdir(parents=True, mode=0o700)
    path.write_text('# my settings\nregion = "global"  # where I live\n')
    assert invoke("config", "set", "timeout", "12").code == 0
    text = path.read_text()
    assert "# my settings" in text and "# where I live" in text and "timeout = 12" in text


def test_version_is_instant_and_imports_nothing_heavy() -> None:
    proc = subprocess.run(
        [sys.executable, "-X", "importtime", "-m", "kimi_cli", "--version"],
        capture_output=True,
        text=True,
        check=True,
    )
    assert proc.stdout.strip().startswith("kimi ")
    imported = {line.split("|")[-1].strip() for line in proc.stderr.splitlines()}
    for heavy in ("typer", "httpx", "rich", "click", "platformdirs"):
        assert heavy not in imported, heavy


def test_emulator_command_prints_its_url_and_stops_quietly_on_sigterm(tmp_path: Path) -> None:
    import signal
    import time

    port_file = tmp_path / "url"
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "kimi_cli",
            "emulator",
            "--port",
            "0",
            "--port-file",
            str(port_file),
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    assert proc.stdout is not None
    url = proc.stdout.readline().decode().strip()
    assert url.startswith("http://127.0.0.1:") and url.endswith("/v1")
    assert port_file.read_text().strip() == url
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        out = run_process("models", env={"KIMI_BASE_URL": url, "KIMI_API_KEY": "sk-emulator"})
        if out.code == 0:
            break
    assert out.stdout.splitlines() == LIVE_IDS
    proc.send_signal(signal.SIGTERM)
    _, stderr = proc.communicate(timeout=10)
    assert proc.returncode == 0 and stderr == b""
