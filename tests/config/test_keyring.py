"""``kimi setup --keyring``: the key in the OS keychain, the config saying so, every command
finding it there. The keychain is a file backend chosen with PYTHON_KEYRING_BACKEND."""

from __future__ import annotations

import json
import tomllib
from pathlib import Path

import pytest

from kimi_cli.emulator import Emulator
from tests.helpers import run_process

ROOT = Path(__file__).resolve().parents[2]
NO_BACKEND = {"PYTHON_KEYRING_BACKEND": "keyring.backends.fail.Keyring", "PYTHONPATH": str(ROOT)}


@pytest.fixture
def ring(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    path = tmp_path / "ring.json"
    monkeypatch.setenv("PYTHON_KEYRING_BACKEND", "tests.config.file_keyring.FileKeyring")
    monkeypatch.setenv("KIMI_TEST_KEYRING", str(path))
    monkeypatch.setenv("PYTHONPATH", str(ROOT))
    return path


@pytest.fixture
def global_emulator(emulator: Emulator, monkeypatch: pytest.MonkeyPatch) -> Emulator:
    monkeypatch.setenv("KIMI_GLOBAL_BASE_URL", emulator.base_url)
    return emulator


def setup_with_keyring(env: dict[str, str] | None = None) -> tuple[int, str]:
    out = run_process(
        "setup", "--key-stdin", "--keyring", "--model", "kimi-k2.6",
        input="sk-emulator\n", env=env,
    )  # fmt: skip
    return out.code, out.stderr


def test_the_key_goes_to_the_keychain_and_only_a_note_to_the_file(
    ring: Path, global_emulator: Emulator, isolated_env: Path
) -> None:
    code, stderr = setup_with_keyring()
    assert code == 0, stderr
    assert "keychain" in stderr and "sk-emulator" not in stderr
    text = (isolated_env / "config" / "config.toml").read_text()
    assert "sk-emulator" not in text
    assert tomllib.loads(text)["api_key_store"] == "keyring"
    assert json.loads(ring.read_text()) == {"kimi-api/api_key": "sk-emulator"}

    models = run_process("models")  # the key is found in the keychain
    assert models.code == 0, models.stderr
    shown = json.loads(run_process("config", "show", "--json").stdout)
    assert shown["api_key"]["source"] == "keyring"
    assert shown["api_key"]["value"] != "sk-emulator" and "…" in shown["api_key"]["value"]
    assert shown["api_key_store"]["value"] == "keyring"
    doctor = run_process("doctor", "--no-chat", "--json")
    key_check = next(c for c in json.loads(doctor.stdout)["checks"] if c["id"] == "key")
    assert key_check["status"] == "pass" and "keyring" in key_check["detail"]
    assert "sk-emulator" not in doctor.stdout


def test_setup_without_keyring_takes_the_key_back_into_the_file(
    ring: Path, global_emulator: Emulator, isolated_env: Path
) -> None:
    assert setup_with_keyring()[0] == 0
    out = run_process("setup", "--key-stdin", input="sk-emulator\n")
    assert out.code == 0, out.stderr
    saved = tomllib.loads((isolated_env / "config" / "config.toml").read_text())
    assert saved["api_key"] == "sk-emulator" and "api_key_store" not in saved


def test_no_keychain_is_said_clearly_and_nothing_is_saved(
    global_emulator: Emulator, isolated_env: Path
) -> None:
    code, stderr = setup_with_keyring(NO_BACKEND)
    assert code == 3
    assert "cannot store the API key in the OS keychain" in stderr
    assert "without --keyring" in stderr and "Traceback" not in stderr
    assert not (isolated_env / "config" / "config.toml").exists()


def test_a_keychain_that_went_away_is_a_config_error_doctor_explains(
    ring: Path, global_emulator: Emulator
) -> None:
    assert setup_with_keyring()[0] == 0
    line = run_process("models", env=NO_BACKEND).assert_one_error_line(3)
    assert "OS keychain" in line
    doctor = run_process("doctor", "--no-chat", "--json", env=NO_BACKEND)
    key_check = next(c for c in json.loads(doctor.stdout)["checks"] if c["id"] == "key")
    assert key_check["status"] == "fail" and "keychain" in key_check["detail"]
