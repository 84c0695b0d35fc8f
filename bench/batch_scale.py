"""How ``kimi batch`` scales: memory of ``submit``, time of mapping results, and ``run``
against a shell loop of one-shot chats.

    python bench/batch_scale.py [--small 1000] [--large 50000] [--run 1000] [--loop 100]
                                [--peers DIR] [--dry-run-submit]

- **submit memory:** peak RSS (``ru_maxrss`` of the child, see ``_procs.py``) of
  ``kimi batch submit`` of a JSONL input of ``--small`` and of ``--large`` requests, against
  the emulator (``--dry-run`` when the emulator does not speak the Batch API, or with
  ``--dry-run-submit``). Target: large ≤ 1.3 × small.
- **mapping:** ``LineIndex`` + ``map_results`` over an output file of ``--small`` and of
  ``--large`` answer lines (in input order, and shuffled), in this process, CPU time (best of
  several runs). Target: large ≤
  60 × small (50 × the lines: linear).
- **run:** ``kimi batch run --lines`` of ``--run`` ``ECHO`` prompts at ``--concurrency 8``
  against a shell loop of ``kimi chat --no-stream`` over the same prompts. The loop is timed
  over its first ``--loop`` prompts and scaled to ``--run`` (each iteration is the same
  process doing the same work); ``--loop`` equal to ``--run`` times all of it. Target: ≥ 5 ×
  faster. An installed peer CLI (``llm``, ``openai``, ``sgpt``, see ``_peers.py``) is timed
  the same way; a peer that is not installed gets no number.

Runs in this environment as it is (the ``kimi`` next to this Python); prints a Markdown
section for ``docs/performance.md``.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shlex
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from _env import base_env, current_interpreter, emulator
from _peers import find
from _procs import run

from kimi_cli.batch.results import LineIndex, map_results

MODEL = "kimi-k2.6"  # a model the Batch API takes


def jsonl_input(path: Path, count: int) -> Path:
    with path.open("w", encoding="utf-8") as out:
        for n in range(count):
            out.write(json.dumps({"prompt": f"ECHO item {n} " + "lorem ipsum " * 8}) + "\n")
    return path


def submit_rss(kimi: str, env: dict[str, str], tmp: Path, count: int, dry: bool) -> float:
    work = tmp / f"submit-{count}"
    work.mkdir()
    path = jsonl_input(work / "in.jsonl", count)
    argv = [kimi, "batch", "submit", str(path), "--force"] + (["--dry-run"] if dry else [])
    outcome = run(argv, env, work, timeout=1800)
    if outcome.sample.code != 0:
        raise SystemExit(f"bench: submit of {count} failed: {outcome.stderr.decode()[-400:]}")
    return outcome.sample.rss_mib


def answer_line(custom_id: str) -> str:
    body = {
        "model": MODEL,
        "choices": [{"message": {"content": f"answer of {custom_id}"}, "finish_reason": "stop"}],
        "usage": {"prompt_tokens": 30, "completion_tokens": 5},
    }
    line = {"id": "r", "custom_id": custom_id, "response": {"status_code": 200, "body": body}}
    return json.dumps(line) + "\n"


def mapping_time(tmp: Path, count: int, *, shuffled: bool) -> float:
    """CPU seconds (best of several runs) to index an output file of ``count`` lines and
    map them back in input order. CPU time, not wall time: on a shared machine the wall
    time of a 20 ms job swings by half from run to run."""
    ids = [f"line-{n}" for n in range(count)]
    lines = ids[:]
    if shuffled:
        random.Random(count).shuffle(lines)
    path = tmp / f"out-{count}-{shuffled}.jsonl"
    path.write_text("".join(answer_line(i) for i in lines), encoding="utf-8")
    best = float("inf")
    for _ in range(max(3, 20_000 // count)):
        start = time.process_time()
        index = LineIndex()
        index.add(path)
        mapped = sum(1 for _ in map_results(index, ((i, i) for i in ids), MODEL, "USD"))
        best = min(best, time.process_time() - start)
        assert mapped == count
    return best


def timed(argv: list[str], env: dict[str, str], stdin: Path | None = None) -> float:
    start = time.perf_counter()
    with open(stdin or os.devnull, "rb") as source:
        done = subprocess.run(argv, env=env, stdin=source, capture_output=True, check=False)
    if done.returncode != 0:
        raise SystemExit(f"bench: {shlex.join(argv)} failed: {done.stderr.decode()[-400:]}")
    return time.perf_counter() - start


def loop_time(
    argv_of: Callable[[str], list[str]], env: dict[str, str], prompts: list[str]
) -> float:
    """A shell loop's time: one process per prompt, after one untimed run (bytecode)."""
    _one(argv_of(prompts[0]), env)
    start = time.perf_counter()
    for prompt in prompts:
        _one(argv_of(prompt), env)
    return time.perf_counter() - start


def _one(argv: list[str], env: dict[str, str]) -> None:
    done = subprocess.run(argv, env=env, capture_output=True, check=False)
    if done.returncode != 0:
        raise SystemExit(f"bench: {argv[0]} failed: {done.stderr.decode()[-400:]}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--small", type=int, default=1000)
    parser.add_argument("--large", type=int, default=50_000)
    parser.add_argument("--run", type=int, default=1000)
    parser.add_argument("--loop", type=int, default=100)
    parser.add_argument("--peers", type=Path, action="append", default=[])
    parser.add_argument("--dry-run-submit", action="store_true")
    args = parser.parse_args()

    interpreter = current_interpreter()
    with tempfile.TemporaryDirectory(prefix="kimi-bench-batch-") as name:
        tmp = Path(name)
        env = base_env(tmp)
        with emulator(interpreter.python, env, tmp) as emu:
            env.update(KIMI_BASE_URL=emu.base_url, KIMI_API_KEY="sk-emulator", KIMI_MODEL=MODEL)
            subprocess.run([interpreter.kimi, "models"], env=env, capture_output=True, check=True)
            dry = args.dry_run_submit or not _speaks_batch(emu.root_url)
            rss = {
                n: submit_rss(interpreter.kimi, env, tmp, n, dry) for n in (args.small, args.large)
            }
            maps = {
                (n, shuffled): mapping_time(tmp, n, shuffled=shuffled)
                for shuffled in (False, True)
                for n in (args.small, args.large)
            }

            prompts = [f"ECHO answer {n}" for n in range(args.run)]
            lines = tmp / "prompts.txt"
            lines.write_text("\n".join(prompts) + "\n", encoding="utf-8")
            run_argv = [interpreter.kimi, "batch", "run", "--lines", str(lines), "-n", "8"]
            run_s = timed(run_argv, env)
            sample = prompts[: args.loop]
            kimi = interpreter.kimi
            loop_s = loop_time(lambda p: [kimi, "chat", "--no-stream", p], env, sample)
            loop_s *= args.run / len(sample)
            peer_rows = []
            for peer in find(args.peers, tmp, emu.base_url, env, None):
                if peer.exe is None:
                    peer_rows.append(f"| loop of `{peer.name}` | {peer.why_missing} | – |")
                    continue
                peer_env = {**env, **peer.env, **peer.job_env("echo")}
                peer_s = loop_time(lambda p, peer=peer: peer.argv("echo", p), peer_env, sample)
                peer_s *= args.run / len(sample)
                peer_rows.append(
                    f"| loop of `{peer.label}` | {peer_s:.1f} s | {peer_s / run_s:.1f}× |"
                )

    small, large = args.small, args.large
    print(f"#### Batch ({time.strftime('%Y-%m-%d')}, {os.cpu_count()} cores)\n")
    how = "`--dry-run` (the emulator has no Batch API)" if dry else "uploaded to the emulator"
    print(
        f"Submit, {how}: peak RSS {rss[small]:.1f} MiB for {small:,} requests, "
        f"{rss[large]:.1f} MiB for {large:,}: **{rss[large] / rss[small]:.2f}×** (target ≤ 1.3×).\n"
    )
    for shuffled, order in ((False, "in input order"), (True, "shuffled")):
        little, big = maps[small, shuffled], maps[large, shuffled]
        print(
            f"Mapping results, output {order}: {little * 1000:.1f} ms CPU for {small:,} "
            f"lines, {big * 1000:.1f} ms for {large:,}: **{big / little:.1f}×** (target ≤ 60×).\n"
        )
    scaled = "" if args.loop >= args.run else f" (timed over {args.loop}, scaled)"
    print(f"{args.run:,} `ECHO` requests:\n")
    print("| how | wall time | slower than `batch run` |\n|---|---:|---:|")
    print(f"| `kimi batch run --lines … -n 8` | {run_s:.1f} s | 1× |")
    print(
        f"| shell loop of `kimi chat --no-stream`{scaled} | {loop_s:.1f} s | "
        f"**{loop_s / run_s:.1f}×** |"
    )
    for row in peer_rows:
        print(row)


def _speaks_batch(root_url: str) -> bool:
    import urllib.error
    import urllib.request

    request = urllib.request.Request(
        root_url + "/v1/batches", headers={"Authorization": "Bearer sk-emulator"}
    )
    try:
        with urllib.request.urlopen(request, timeout=10):
            return True
    except (urllib.error.URLError, OSError):
        return False


if __name__ == "__main__":
    main()
