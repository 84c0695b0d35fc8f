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


PNG = bytes.fromhex(
    "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
    "1f15c4890000000d4944415478da63f8cf00000301010018dd8db00000000049454e44ae426082"
)


def assert_private(home: Path) -> None:
    """Every directory under the state dirs 0700 and every file 0600, as reliability.md says."""
    loose = []
    for path in [home / name for name in ("config", "data", "cache")] + sorted(home.rglob("*")):
        if path.name.endswith(("-wal", "-shm")):
            continue  # SQLite gives these the database file's mode at most
        mode = stat.S_IMODE(path.stat().st_mode)
        if mode != (0o700 if path.is_dir() else 0o600):
            loose.append(f"{path.relative_to(home)} {oct(mode)}")
    assert not loose, loose


@pytest.mark.skipif(os.name == "nt", reason="POSIX permission bits")
def test_state_files_are_private(
    secret_emulator: Emulator, isolated_env: Path, tmp_path: Path
) -> None:
    (tmp_path / "contract.pdf").write_bytes(b"%PDF-1.4\n\xe2\xe3\xcf\xd3\n")
    (tmp_path / "q.txt").write_text("ECHO one\nECHO two\n", encoding="utf-8")
    old = os.umask(0o022)
    try:
        out = invoke(
            "setup", "--key-stdin", "--region", "global", "--model", "kimi-k2.6", input=SECRET
        )
        assert out.code == 0, out.stderr
        assert invoke("chat", "ECHO saved").code == 0
        # Every kind of state a user's runs leave: the upload index of a document, the
        # web-search tools, a batch run's journal and lock.
        assert invoke("files", "upload", str(tmp_path / "contract.pdf")).code == 0
        assert invoke("chat", "--web-search", "SEARCH x").code == 0
        assert invoke("batch", "run", "--lines", str(tmp_path / "q.txt")).code == 0
    finally:
        os.umask(old)
    assert (isolated_env / "cache" / "documents").is_dir()
    assert_private(isolated_env)


@pytest.mark.skipif(os.name == "nt", reason="POSIX permission bits")
def test_a_kept_image_is_private(
    secret_emulator: Emulator, isolated_env: Path, tmp_path: Path
) -> None:
    (tmp_path / "dot.png").write_bytes(PNG)
    old = os.umask(0o022)
    try:
        out = invoke(
            "setup", "--key-stdin", "--region", "global", "--model", "kimi-k2.6", input=SECRET
        )
        assert out.code == 0, out.stderr
        assert invoke("chat", "-f", str(tmp_path / "dot.png"), "ECHO seen").code == 0
    finally:
        os.umask(old)
    assert list((isolated_env / "data" / "images").iterdir())
    assert_private(isolated_env)
