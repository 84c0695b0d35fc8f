"""Issue: docs and first run. Shell completion for bash, zsh, fish and PowerShell, with model
IDs completed from the cached /models list: no request, no api_key_cmd, never an error."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from kimi_cli.cli.completion import complete_model_ids
from kimi_cli.emulator import Emulator
from tests.helpers import invoke, run_process

SHELLS = ["bash", "zsh", "fish", "powershell"]
K3_IDS = ["kimi-k3.1-pro", "kimi-k3.1-pro-highspeed", "kimi-k3"]
# Typer's own switch (its tests use it): --show-completion then takes the shell's name
# instead of detecting the shell this process runs in.
NO_DETECTION = {"_TYPER_COMPLETE_TEST_DISABLE_SHELL_DETECTION": "1"}


@pytest.fixture
def cached(configured: Emulator) -> Emulator:
    """The emulator's model list cached by `kimi models`; the request counters reset."""
    assert invoke("models").code == 0
    configured.configure(reset_stats=True)
    return configured


@pytest.mark.parametrize("shell", SHELLS)
def test_show_completion_prints_a_script_for_each_shell(shell: str) -> None:
    out = run_process("--show-completion", shell, env=NO_DETECTION)
    assert out.code == 0, out.stderr
    assert out.stdout.strip() and "kimi" in out.stdout
    assert "_KIMI_COMPLETE" in out.stdout  # the variable run() answers


@pytest.mark.parametrize("shell", SHELLS)
def test_the_completion_variable_prints_the_same_script(shell: str) -> None:
    shown = run_process("--show-completion", shell, env=NO_DETECTION)
    sourced = run_process(env={"_KIMI_COMPLETE": f"source_{shell}"})
    assert sourced.code == 0, sourced.stderr
    assert sourced.stdout.strip() == shown.stdout.strip()


def test_show_completion_detects_the_shell_it_runs_in() -> None:
    bash = shutil.which("bash")
    if bash is None:
        pytest.skip("no bash")
    line = f"{sys.executable} -m kimi_cli --show-completion"
    proc = subprocess.run([bash, "-c", line], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert "complete -o default -F _kimi_completion kimi" in proc.stdout


def test_commands_and_options_complete() -> None:
    out = run_process(
        env={"_KIMI_COMPLETE": "complete_bash", "COMP_WORDS": "kimi hi", "COMP_CWORD": "1"}
    )
    assert out.stdout.split() == ["history"]
    env = {"_KIMI_COMPLETE": "complete_bash", "COMP_WORDS": "kimi chat --eff", "COMP_CWORD": "2"}
    assert run_process(env=env).stdout.split() == ["--effort"]


@pytest.mark.parametrize(
    "words",
    [
        "kimi chat -m kimi-k3",
        "kimi chat --model kimi-k3",
        "kimi tokens -m kimi-k3",
        "kimi setup -m kimi-k3",
        "kimi models use kimi-k3",
    ],
)
def test_model_ids_come_from_the_cache_without_a_request(cached: Emulator, words: str) -> None:
    env = {
        "_KIMI_COMPLETE": "complete_bash",
        "COMP_WORDS": words,
        "COMP_CWORD": str(len(words.split()) - 1),
    }
    out = run_process(env=env)
    assert out.code == 0, out.stderr
    assert out.stdout.split() == K3_IDS
    assert out.stderr == ""
    assert cached.stats()["total"] == 0  # no request at all, not even GET /models


@pytest.mark.parametrize(
    ("shell", "env"),
    [
        ("zsh", {"_TYPER_COMPLETE_ARGS": "kimi chat -m kimi-k3"}),
        (
            "fish",
            {
                "_TYPER_COMPLETE_ARGS": "kimi chat -m kimi-k3",
                "_TYPER_COMPLETE_FISH_ACTION": "get-args",
            },
        ),
        (
            "powershell",
            {
                "_TYPER_COMPLETE_ARGS": "kimi chat -m kimi-k3",
                "_TYPER_COMPLETE_WORD_TO_COMPLETE": "kimi-k3",
            },
        ),
    ],
)
def test_model_ids_complete_in_every_shell(
    cached: Emulator, shell: str, env: dict[str, str]
) -> None:
    out = run_process(env={"_KIMI_COMPLETE": f"complete_{shell}", **env})
    assert out.code == 0, out.stderr
    for model_id in K3_IDS:
        assert model_id in out.stdout
    assert "kimi-k2.6" not in out.stdout
    assert cached.stats()["total"] == 0


def test_the_installed_bash_script_completes_model_ids(cached: Emulator, tmp_path: Path) -> None:
    """End to end: the --show-completion script, sourced in bash, asks kimi, fills COMPREPLY."""
    bash = shutil.which("bash")
    kimi = Path(sys.executable).parent / "kimi"
    if bash is None or not kimi.exists():
        pytest.skip("needs bash and the kimi console script next to this Python")
    script = tmp_path / "kimi.bash"
    script.write_text(run_process("--show-completion", "bash", env=NO_DETECTION).stdout)
    line = (
        f"source {script}; COMP_WORDS=(kimi chat -m kimi-k3.1); COMP_CWORD=3; "
        'COMPREPLY=(); _kimi_completion kimi; printf "%s\\n" "${COMPREPLY[@]}"'
    )
    env = {**os.environ, "PATH": f"{kimi.parent}{os.pathsep}{os.environ.get('PATH', '')}"}
    proc = subprocess.run([bash, "-c", line], capture_output=True, text=True, env=env, timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.split() == ["kimi-k3.1-pro", "kimi-k3.1-pro-highspeed"]
    assert cached.stats()["total"] == 0


def test_no_cache_completes_nothing(configured: Emulator) -> None:
    assert complete_model_ids("kimi") == []
    assert configured.stats()["total"] == 0


def test_completion_uses_the_cache_of_the_resolved_base_url(cached: Emulator) -> None:
    assert complete_model_ids("") == [
        "kimi-k3.1-pro",
        "kimi-k3.1-pro-highspeed",
        "kimi-k3",
        "kimi-k2.7-code",
        "kimi-k2.7-code-highspeed",
        "kimi-k2.6",
    ]
    assert complete_model_ids("kimi-k2.7") == ["kimi-k2.7-code", "kimi-k2.7-code-highspeed"]
    assert complete_model_ids("gpt") == []


def test_another_base_url_has_its_own_cache(
    cached: Emulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("KIMI_BASE_URL", cached.base_url.replace("/v1", "/other/v1"))
    assert complete_model_ids("kimi") == []


def test_a_corrupt_config_completes_nothing(cached: Emulator, isolated_env: Path) -> None:
    config = isolated_env / "config" / "config.toml"
    config.parent.mkdir(parents=True, exist_ok=True)
    config.write_text("region = [\n", encoding="utf-8")
    assert complete_model_ids("kimi") == []


def test_a_corrupt_cache_completes_nothing(cached: Emulator, isolated_env: Path) -> None:
    for path in (isolated_env / "cache").glob("models-*.json"):
        path.write_text("{not json", encoding="utf-8")
    assert complete_model_ids("kimi") == []


def test_api_key_cmd_is_never_run(
    cached: Emulator, isolated_env: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    marker = isolated_env / "ran"
    monkeypatch.delenv("KIMI_API_KEY")
    config = isolated_env / "config" / "config.toml"
    config.parent.mkdir(parents=True, exist_ok=True)
    config.write_text(f'api_key_cmd = "touch {marker}; echo sk-emulator"\n', encoding="utf-8")
    assert complete_model_ids("kimi-k3") == K3_IDS
    assert not marker.exists()
