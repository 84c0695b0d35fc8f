"""The peers: other Python command lines for chat APIs, pointed at the same emulator.

Found on PATH or in a virtual environment given with ``--peers DIR`` (``--install-peers DIR``
makes one with pip). A peer that is not there, or fails its first run, is reported as such:
no number is ever made up for it. Each is run the fastest way it offers for the job:

- ``llm`` (Simon Willison): an ``extra-openai-models.yaml`` model with the emulator as
  ``api_base``, its key in ``keys.json``; it logs every answer to its SQLite database, as
  ``kimi`` does to its history.
- ``openai`` (the CLI of the ``openai`` package, which 3.x no longer ships):
  ``openai api chat.completions.create``, with ``OPENAI_BASE_URL``.
- ``sgpt`` (shell-gpt): ``--no-md`` (its Markdown printer re-parses the whole answer on every
  delta even in a pipe), ``--no-cache``, and the sampling values the model requires (it sends
  temperature 0 and top_p 1 otherwise, which the API refuses for this model).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from _env import EMULATOR_KEY, MODEL

PEER_PACKAGES = ("openai==2.34.*", "llm", "shell-gpt")
PEER_NAMES = ("llm", "openai", "sgpt")


@dataclass(frozen=True)
class Peer:
    name: str  # executable name
    exe: str | None  # None: not installed
    version: str = ""
    why_missing: str = "not installed"
    env: dict[str, str] = field(default_factory=dict)

    @property
    def label(self) -> str:
        return f"{self.name} {self.version}".strip()

    def argv(self, job: str, prompt: str = "") -> list[str]:
        """The command line for ``job``: version, help, echo (no stream) or stream."""
        assert self.exe is not None
        if job == "version":
            return [self.exe, "--version"]
        if job == "help":
            return [self.exe, "--help"]
        if self.name == "llm":
            no_stream = ["--no-stream"] if job == "echo" else []
            return [self.exe, "-m", "kimi-bench", *no_stream, prompt]
        if self.name == "openai":
            argv = [self.exe, "api", "chat.completions.create", "-m", MODEL, "-g", "user", prompt]
            return argv + (["--stream"] if job == "stream" else [])
        return [self.exe, "--no-cache", "--no-md", "--temperature", "1", "--top-p", "0.95", prompt]

    def job_env(self, job: str) -> dict[str, str]:
        env = dict(self.env)
        if self.name == "sgpt" and job == "echo":
            env["DISABLE_STREAMING"] = "true"
        return env


def install(directory: Path, python: str) -> str | None:
    """Make ``directory`` a venv holding the peers (if it does not yet); None or why not."""
    if (directory / "bin" / "python").exists():
        return None
    try:
        subprocess.run([python, "-m", "venv", str(directory)], check=True, capture_output=True)
        subprocess.run(
            [str(directory / "bin" / "python"), "-m", "pip", "install", "-q", *PEER_PACKAGES],
            check=True,
            capture_output=True,
            text=True,
            timeout=900,
        )
    except (OSError, subprocess.SubprocessError) as exc:
        detail = getattr(exc, "stderr", "") or str(exc)
        lines = [line for line in str(detail).splitlines() if line.strip()]
        return lines[-1] if lines else type(exc).__name__
    return None


def _configure(name: str, tmp: Path, base_url: str) -> dict[str, str]:
    if name == "llm":
        home = tmp / "llm"
        home.mkdir(exist_ok=True)
        (home / "extra-openai-models.yaml").write_text(
            f'- model_id: kimi-bench\n  model_name: {MODEL}\n  api_base: "{base_url}"\n'
            "  api_key_name: kimi\n",
            encoding="utf-8",
        )
        (home / "keys.json").write_text(json.dumps({"kimi": EMULATOR_KEY}), encoding="utf-8")
        return {"LLM_USER_PATH": str(home)}
    if name == "openai":
        return {"OPENAI_BASE_URL": base_url, "OPENAI_API_KEY": EMULATOR_KEY}
    return {
        "OPENAI_API_KEY": EMULATOR_KEY,
        "API_BASE_URL": base_url,
        "DEFAULT_MODEL": MODEL,
        "OPENAI_USE_FUNCTIONS": "false",
    }


def find(
    search: Sequence[Path], tmp: Path, base_url: str, env: dict[str, str], skip: str | None
) -> list[Peer]:
    """Each peer from the first of ``search`` (bin dirs) then PATH; its version from itself."""
    path = os.pathsep.join([*(str(p) for p in search), env.get("PATH", "")])
    peers: list[Peer] = []
    for name in PEER_NAMES:
        exe = shutil.which(name, path=path)
        if exe is None:
            peers.append(Peer(name, None, why_missing=skip or "not installed"))
            continue
        extra = _configure(name, tmp, base_url)
        try:
            done = subprocess.run(
                [exe, "--version"],
                env={**env, **extra},
                stdin=subprocess.DEVNULL,
                capture_output=True,
                text=True,
                timeout=120,
            )
        except (OSError, subprocess.SubprocessError) as exc:
            peers.append(Peer(name, None, why_missing=f"does not run ({type(exc).__name__})"))
            continue
        words = done.stdout.split()
        if done.returncode != 0 or not words:
            peers.append(Peer(name, None, why_missing="does not run (--version failed)"))
            continue
        peers.append(Peer(name, exe, version=words[-1], env=extra))
    return peers
