"""How many of kimi's own functions a one-shot piped chat runs, traced with ``sys.setprofile``.

    python bench/trace.py [--list] [--json] [--source CHECKOUT]

The walk measured is ``git diff | kimi chat "write a commit message"``: a made-up diff on
stdin, the emulator as the API (in its own process, so none of its frames count), the model
verified from the cache by one ``kimi models`` first, as after a ``kimi setup``, and one
untraced chat before it, so the history database exists as it does for anyone who has chatted
once (its creation and migrations run on the first chat only; ``--first`` traces that one
instead). The chat runs
as a real process, ``python -c`` around ``kimi_cli.__main__.main``, with a profile function
set before anything of kimi is imported; it records every Python function whose code lives
in the ``kimi_cli`` package (the emulator excepted): module and class bodies, lambdas and
comprehensions count as functions, as they are code that runs. Printed: distinct functions
(and how many of them are module bodies, class bodies, comprehensions and lambdas), distinct
modules, and calls in all;
``--list`` adds every function by module; ``--source`` traces another checkout's kimi_cli
(the emulator and this script stay this tree's). The figure is in docs/performance.md.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _env import EMULATOR_KEY, REPO, base_env, emulator

PROMPT = "write a commit message"
DIFF = """diff --git a/greet.py b/greet.py
--- a/greet.py
+++ b/greet.py
@@ -1,2 +1,2 @@
 def greet(name):
-    print("Hello " + name)
+    print(f"Hello, {name}!")
"""

#: Runs in the traced process: the profile is set before kimi_cli is imported.
TRACER = r"""
import atexit, json, os, sys, threading
package = os.path.join(sys.argv[1], "kimi_cli") + os.sep
skipped = os.path.join(package, "emulator") + os.sep
calls = {}
def profile(frame, event, arg):
    if event == "call":
        code = frame.f_code
        name = code.co_filename
        if name.startswith(package) and not name.startswith(skipped):
            key = (name[len(package):], code.co_qualname)
            calls[key] = calls.get(key, 0) + 1
def save():  # at exit, however kimi ends the process
    sys.setprofile(None)
    with open(os.environ["KIMI_TRACE_OUT"], "w") as f:
        json.dump([[m, q, n] for (m, q), n in calls.items()], f)
atexit.register(save)
sys.setprofile(profile)
threading.setprofile(profile)
sys.argv = ["kimi", *sys.argv[3:]]
from kimi_cli.__main__ import main
sys.exit(main())
"""


def trace(
    python: str = sys.executable, source: Path = REPO, *, first: bool = False
) -> tuple[list[tuple[str, str, int]], str]:
    with tempfile.TemporaryDirectory(prefix="kimi-trace-") as name:
        tmp = Path(name)
        env = base_env(tmp)
        with emulator(python, env, tmp) as emu:
            env.update(KIMI_BASE_URL=emu.base_url, KIMI_API_KEY=EMULATOR_KEY)
            env["KIMI_MODEL"] = "kimi-k2.6"
            kimi = [python, "-m", "kimi_cli"]
            subprocess.run([*kimi, "models"], env=env, check=True, capture_output=True)
            if not first:
                subprocess.run(
                    [*kimi, "chat", PROMPT],
                    input=DIFF,
                    env=env,
                    check=True,
                    capture_output=True,
                    text=True,
                    cwd=source,
                )
            env["KIMI_TRACE_OUT"] = str(tmp / "trace.json")
            done = subprocess.run(
                [python, "-c", TRACER, str(source), "--", "chat", PROMPT],
                input=DIFF,
                env=env,
                capture_output=True,
                text=True,
                check=False,
                cwd=source,  # ``python -c`` imports kimi_cli from here
            )
            if done.returncode != 0 or not done.stdout.strip():
                raise SystemExit(
                    f"bench: the traced chat failed ({done.returncode}): {done.stderr}"
                )
            rows = json.loads((tmp / "trace.json").read_text(encoding="utf-8"))
    return [(m, q, n) for m, q, n in rows], done.stdout


def kind_of(qualname: str) -> str:
    """What a traced code object is: module body, class body, comprehension or function."""
    last = qualname.rsplit(".", 1)[-1]
    if qualname == "<module>":
        return "module bodies"
    if last.startswith("<"):
        return "comprehensions and lambdas"
    if last[:1].isupper() and "<locals>" not in qualname and not _is_method(qualname):
        return "class bodies"
    return "functions and methods"


def _is_method(qualname: str) -> bool:
    # ``Outer.Inner`` is a nested class body; ``Class.method`` a method (lower-case by PEP 8).
    return "." in qualname and not qualname.rsplit(".", 1)[-1][:1].isupper()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--list", action="store_true", help="every function, by module")
    parser.add_argument("--json", action="store_true", help="the figures as JSON")
    parser.add_argument("--source", type=Path, default=REPO, help="checkout to trace")
    parser.add_argument(
        "--first", action="store_true", help="trace the first chat (history created)"
    )
    args = parser.parse_args(argv)
    rows, _ = trace(source=args.source.resolve(), first=args.first)
    functions = {(m, q) for m, q, _ in rows}
    modules = Counter(m for m, _ in functions)
    calls = sum(n for _, _, n in rows)
    kinds = Counter(kind_of(q) for _, q in functions)
    figures = {"functions": len(functions), "modules": len(modules), "calls": calls, **kinds}
    if args.json:
        print(json.dumps(figures))
    else:
        print(
            f"one-shot piped chat: {figures['functions']} distinct kimi functions "
            f"in {figures['modules']} modules ({calls} calls)\n"
            f"  of which {kinds['module bodies']} module bodies, {kinds['class bodies']} class "
            f"bodies, {kinds['comprehensions and lambdas']} comprehensions and lambdas, "
            f"{kinds['functions and methods']} functions and methods"
        )
    if args.list:
        for module, count in sorted(modules.items(), key=lambda item: (-item[1], item[0])):
            print(f"{count:4d}  {module}")
            for m, q in sorted(functions):
                if m == module:
                    print(f"        {q}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
