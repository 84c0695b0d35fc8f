"""Where the bench runs things: a clean interpreter, the emulator, and the peers.

**A clean interpreter.** A development environment is not what a user runs. An editable
install (``pip install -e``) puts an import hook in a ``.pth`` file that every Python process
of that environment runs at start-up (about 25 ms here, more than ``python -c pass`` takes
without it), and the test tools bring packages that change what others import: with ``click``
installed (import-linter needs it), ``import httpx`` also imports its command line, and with
it click, rich and pygments. A ``pipx install kimi-api`` has none of that. So by default the
bench makes a throw-away virtual environment of the same interpreter holding the checkout and
symbolic links to kimi's run-time dependencies only (the closure of pyproject's
``dependencies``, as installed here), and runs every command there: floors, ``kimi`` and the
emulator alike. ``--in-place`` measures the current environment as it is.

**Bytecode.** All children share one ``PYTHONPYCACHEPREFIX`` in the bench's temporary
directory, and each command runs once untimed first, so no timed run compiles anything
(this machine sets ``PYTHONDONTWRITEBYTECODE``, which would make every run compile kimi anew).
"""

from __future__ import annotations

import importlib.metadata
import json
import os
import re
import shutil
import subprocess
import sys
import time
import tomllib
import urllib.request
import venv
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from importlib.metadata import Distribution
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
EMULATOR_KEY = "sk-emulator"
#: Reasons before answering, like the models people use; needs no token budget from the
#: peers (its default budget holds a 20,000-word answer) and takes no sampling parameters.
MODEL = "kimi-k3.1-pro"

_DROPPED_PREFIXES = ("KIMI_", "MOONSHOT_", "OPENAI_", "LLM_", "SGPT_")
_DROPPED = {
    "PYTHONDONTWRITEBYTECODE",
    "PYTHONPATH",
    "PYTHONSTARTUP",
    "HTTP_PROXY",
    "HTTPS_PROXY",
    "ALL_PROXY",
    "http_proxy",
    "https_proxy",
    "all_proxy",
    "NO_COLOR",
    "FORCE_COLOR",
    "COLUMNS",
    "LINES",
    "API_BASE_URL",
    "DEFAULT_MODEL",
    "COVERAGE_PROCESS_START",
}


@dataclass(frozen=True)
class Interpreter:
    python: str
    kimi: str
    note: str


def base_env(tmp: Path) -> dict[str, str]:
    """The environment every child starts from: no personal settings, a private HOME.

    kimi finds its config, cache and history dirs under that HOME the way it does for a
    user (platformdirs), not through ``KIMI_*_DIR``."""
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(_DROPPED_PREFIXES) and k not in _DROPPED
    }
    home = tmp / "home"
    home.mkdir(exist_ok=True)
    env.update(
        HOME=str(home),
        PYTHONPYCACHEPREFIX=str(tmp / "pycache"),
        TERM="xterm-256color",
    )
    for name in ("XDG_CONFIG_HOME", "XDG_DATA_HOME", "XDG_CACHE_HOME", "XDG_STATE_HOME"):
        env.pop(name, None)  # every tool keeps its state under HOME, as a user's would
    return env


def runtime_closure() -> list[Distribution]:
    """The installed distributions kimi needs at run time: pyproject's dependencies and
    theirs, extras and environment markers applied (no test tools, no httpx CLI extras)."""
    from packaging.requirements import Requirement

    project = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    todo = [(Requirement(text), "") for text in project["dependencies"]]
    found: dict[str, Distribution] = {}
    done: set[tuple[str, str]] = set()
    while todo:
        requirement, extra = todo.pop()
        if requirement.marker is not None and not requirement.marker.evaluate({"extra": extra}):
            continue
        name = re.sub(r"[-_.]+", "-", requirement.name).lower()
        extras = sorted(requirement.extras) or [""]
        for wanted in extras:
            if (name, wanted) in done:
                continue
            done.add((name, wanted))
            dist = found.get(name) or importlib.metadata.distribution(name)
            found[name] = dist
            todo += [(Requirement(text), wanted) for text in dist.requires or ()]
            if wanted:  # the base requirements come with every extra
                todo += [(Requirement(text), "") for text in dist.requires or ()]
    return list(found.values())


def clean_interpreter(tmp: Path, source: Path = REPO) -> Interpreter:
    """A virtual environment with kimi (from ``source``, a checkout) and only its run-time
    dependencies (see above)."""
    target = tmp / "venv"
    venv.EnvBuilder(with_pip=False, symlinks=True).create(target)
    python = target / "bin" / "python"
    site = subprocess.run(
        [str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    deps = tmp / "deps"  # symlinks to the installed files of each dependency
    deps.mkdir()
    names = []
    for dist in runtime_closure():
        names.append(f"{dist.metadata['Name']} {dist.version}")
        tops = {Path(str(f)).parts[0] for f in dist.files or () if not str(f).startswith("..")}
        for top in tops:
            installed = Path(str(dist.locate_file(top)))
            if top == "__pycache__" or top.endswith(".pth") or (deps / top).exists():
                continue
            if installed.exists():
                (deps / top).symlink_to(installed)
    Path(site, "kimi_bench.pth").write_text(f"{source}\n{deps}\n", encoding="utf-8")
    kimi = target / "bin" / "kimi"
    kimi.write_text(  # what pip writes for the console script
        f"#!{python}\nimport sys\nfrom kimi_cli.__main__ import main\n"
        "if __name__ == '__main__':\n    sys.exit(main())\n",
        encoding="utf-8",
    )
    kimi.chmod(0o755)
    where = "the checkout" if source == REPO else f"kimi from {source}"
    note = (
        f"a throw-away venv of {Path(sys.executable).resolve()} holding {where} and "
        f"kimi's run-time dependencies only ({', '.join(sorted(names, key=str.lower))})"
    )
    return Interpreter(str(python), str(kimi), note)


def current_interpreter() -> Interpreter:
    kimi = Path(sys.executable).parent / "kimi"
    found = str(kimi) if kimi.exists() else shutil.which("kimi")
    if found is None:
        raise SystemExit("bench: no 'kimi' next to this Python nor on PATH")
    return Interpreter(sys.executable, found, f"this environment as it is ({sys.prefix})")


class Emulator:
    """``kimi emulator`` in its own process (so its work is not the bench's)."""

    def __init__(self, python: str, env: dict[str, str], tmp: Path) -> None:
        self._port_file = port_file = tmp / "emulator.url"
        self._log = open(tmp / "emulator.log", "wb")  # noqa: SIM115 - closed in stop()
        self._proc = subprocess.Popen(
            [python, "-m", "kimi_cli", "emulator", "--port", "0", "--port-file", str(port_file)],
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=self._log,
        )
        deadline = time.monotonic() + 30
        while not (self._port_file.exists() and self._port_file.read_text().strip()):
            if self._proc.poll() is not None or time.monotonic() > deadline:
                self.stop()
                raise SystemExit(f"bench: the emulator did not start (see {tmp}/emulator.log)")
            time.sleep(0.05)
        self.base_url = self._port_file.read_text(encoding="utf-8").strip()
        self.root_url = self.base_url.removesuffix("/v1")

    def stats(self) -> dict[str, Any]:
        with urllib.request.urlopen(self.root_url + "/_emulator/stats", timeout=10) as answer:
            data: dict[str, Any] = json.loads(answer.read())
        return data

    def requests(self, name: str) -> int:
        counts = self.stats().get("requests", {})
        return int(counts.get(name, 0))

    def stop(self) -> None:
        if self._proc.poll() is None:
            self._proc.terminate()
            try:
                self._proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self._proc.kill()
                self._proc.wait()
        self._log.close()


@contextmanager
def emulator(python: str, env: dict[str, str], tmp: Path) -> Iterator[Emulator]:
    emu = Emulator(python, env, tmp)
    try:
        yield emu
    finally:
        emu.stop()
