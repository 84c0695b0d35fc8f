"""Reliability: the API key never leaves the config file. Every command and failure path
that can run here runs with a recognisable key; the key is then looked for everywhere
kimi writes — stdout, stderr, ``--debug`` traces, the history database, the cache — and
only its masked form may appear. The state files are private (0600, dirs 0700)."""

from __future__ import annotations

import json
import os
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest

from kimi_cli.config import mask_key
from kimi_cli.emulator import Emulator
from tests.helpers import Outcome, invoke, run_process

SECRET = "sk-SECRETSECRETSECRET0123456789"
MASKED = mask_key(SECRET)
#: Faults whose error lines, --json documents and retries must not carry the key either.
FAULTS = ["auth", "permission", "quota", "rate_limit", "server_error", "html", "stream_cut"]


@pytest.fixture
def secret_emulator(isolated_env: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Emulator]:
    with Emulator(keys=[SECRET]) as emu:
        monkeypatch.setenv("KIMI_GLOBAL_BASE_URL", emu.base_url)
        monkeypatch.setenv("KIMI_MAX_RETRIES", "0")
        yield emu


def every_file(root: Path) -> Iterator[Path]:
    for path in sorted(root.rglob("*")):
        if path.is_file():
            yield path


def test_the_key_appears_nowhere_but_the_config_file(
    secret_emulator: Emulator, isolated_env: Path, tmp_path: Path
) -> None:
    emu = secret_emulator
    outcomes: list[tuple[str, Outcome]] = []

    def run(*args: str, input: str | None = None, code: int | None = 0) -> Outcome:
        out = invoke(*args, input=input)
        outcomes.append((" ".join(args), out))
        if code is not None:
            assert out.code == code, (args, out.stderr)
        return out

    run("setup", "--key-stdin", "--region", "global", "--model", "kimi-k2.6", input=SECRET + "\n")
    run("models")
    run("models", "--json")
    run("models", "use", "kimi-k3")
    run("models", "use", "moonshotai/kimi-k3", code=5)
    shown = run("config", "show")
    assert MASKED in shown.stdout + shown.stderr  # the masked form is what people see
    run("config", "show", "--json")
    run("config", "path")
    run("config", "set", "timeout", "12")
    run("config", "unset", "timeout")
    run("config", "set", "api_key", SECRET, code=2)  # refused, without echoing it
    first = json.loads(run("chat", "--json", "ECHO hello").stdout)
    run("chat", "-u", "ECHO with usage")
    run("chat", "--no-stream", "ECHO whole")
    run("chat", "--debug", "-c", "ECHO traced")
    run("history", "list")
    run("history", "list", "--json")
    run("history", "show", first["conversation_id"])
    run("history", "show", "--json", first["conversation_id"])
    run("balance")
    run("balance", "--json")
    run("tokens", "-", input="count these tokens")
    run("tokens", "--json", "-", input="count these tokens")
    run("doctor", "--no-chat", code=None)
    run("doctor", "--json", "--no-chat", code=None)
    for fault in FAULTS:
        emu.configure(faults=[{"name": fault}])
        run("chat", "LOREM 40", code=None)
        run("chat", "--json", "--debug", "LOREM 40", code=None)
    emu.configure(faults=[{"name": "auth", "endpoint": "all"}])
    run("models", "--debug", code=4)
    run("balance", code=4)
    emu.configure(faults=[])
    # A key from a command (api_key_cmd), and a wrong key from the environment.
    key_file = tmp_path / "key.txt"
    key_file.write_text(SECRET + "\n", encoding="utf-8")
    run("config", "set", "api_key_cmd", f"cat {key_file}")
    wrong = SECRET[:-1] + "X"
    for args in (("models",), ("chat", "hi")):
        out = invoke(*args, env={"KIMI_API_KEY": wrong})
        outcomes.append((f"KIMI_API_KEY=wrong {' '.join(args)}", out))
        assert out.code == 4 and wrong not in out.stdout + out.stderr
    # and one real process with --debug, where httpx and the trace write for themselves
    real = run_process("--debug", "chat", "ECHO from a process")
    outcomes.append(("process --debug chat", real))
    assert real.code == 0, real.stderr
    assert "Bearer ***" in real.stderr  # the Authorization header, redacted in the trace

    for what, out in outcomes:
        assert SECRET not in out.stdout, what
        assert SECRET not in out.stderr, what
        assert SECRET[3:] not in out.stdout + out.stderr, what  # not even without "sk-"
    config_file = isolated_env / "config" / "config.toml"
    for path in every_file(isolated_env):
        if path == config_file:
            continue
        assert SECRET.encode() not in path.read_bytes(), path  # history db, -wal, cache, ...
    assert SECRET in config_file.read_text(encoding="utf-8")  # where it belongs
    assert (isolated_env / "data" / "history.db").exists()
    assert any((isolated_env / "cache").iterdir())
    # The emulator saw the key only in the Authorization header, which its stats leave out.
    assert SECRET not in json.dumps(emu.stats())


@pytest.mark.skipif(os.name == "nt", reason="POSIX permission bits")
def test_state_files_are_private(secret_emulator: Emulator, isolated_env: Path) -> None:
    old = os.umask(0o022)
    try:
        out = invoke(
            "setup", "--key-stdin", "--region", "global", "--model", "kimi-k2.6", input=SECRET
        )
        assert out.code == 0, out.stderr
        assert invoke("chat", "ECHO saved").code == 0
    finally:
        os.umask(old)
    for directory in ("config", "data", "cache"):
        mode = stat.S_IMODE((isolated_env / directory).stat().st_mode)
        assert mode == 0o700, (directory, oct(mode))
    for path in every_file(isolated_env):
        if path.name.endswith(("-wal", "-shm")):
            continue  # SQLite gives these the database file's mode at most
        mode = stat.S_IMODE(path.stat().st_mode)
        assert mode == 0o600, (path, oct(mode))
