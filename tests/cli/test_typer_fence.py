"""kimi keeps working when the private Typer names its converter uses are gone or broken:
the same commands, then, run through Typer's own conversion."""

from __future__ import annotations

import subprocess
import sys

import pytest

from kimi_cli.emulator import Emulator

pytest.importorskip("typer._coercion")  # only Typer versions that have it need the fence

#: Each breaks the private path a different way before kimi runs as the program.
BREAKAGES = {
    "names gone": "import typer.main, typer._coercion\ndel typer._coercion.RuntimeParam\n",
    "helper raises": (
        "import kimi_cli.cli.coercion as c\n"
        "def broken(*a, **k): raise RuntimeError('changed')\n"
        "c.coerce_cli_choice = c.coerce_cli_path = c.routes_to_path = broken\n"
    ),
    "install raises": (
        "import kimi_cli.cli.coercion as c\n"
        "def broken(*a, **k): raise TypeError('changed')\n"
        "c.PlainRuntimeParam = broken\n"
    ),
}


def _kimi(prelude: str, *args: str) -> subprocess.CompletedProcess[str]:
    script = f"{prelude}import sys\nfrom kimi_cli.__main__ import main\nsys.exit(main())\n"
    return subprocess.run(
        [sys.executable, "-c", script, *args],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        stdin=subprocess.DEVNULL,
    )


@pytest.mark.parametrize("breakage", BREAKAGES)
def test_commands_run_through_typers_own_conversion(breakage: str, configured: Emulator) -> None:
    prelude = BREAKAGES[breakage]
    done = _kimi(
        prelude, "chat", "--no-stream", "-m", "kimi-k3.1-pro", "--effort", "high", "ECHO hi"
    )
    assert (done.returncode, done.stdout) == (0, "hi\n"), done.stderr

    bad = _kimi(prelude, "chat", "--max-tokens", "lots", "ECHO hi")
    assert bad.returncode == 2
    assert "Traceback" not in bad.stderr
    assert bad.stderr.startswith("kimi: error:") and "--max-tokens" in bad.stderr
