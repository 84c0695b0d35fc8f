"""Whole-process timings of ``kimi``, side by side with floors and peers, in one run.

    python bench/run.py [--quick] [--only version,help,echo,stream,pty] [--repeat N]
                        [--peers DIR | --install-peers DIR | --no-peers] [--in-place]
                        [--source CHECKOUT] [--no-importtime] [--output PATH]

What it times, each as a whole process, every command of a group once per round (the order
rotating from round to round so that a burst of load on this 2-core machine hits all alike):

- ``version``: ``kimi --version`` against ``python -c pass``;
- ``help``: ``kimi --help`` against ``python -c "import typer"``;
- ``echo``: ``kimi chat --no-stream "ECHO hi"`` against a minimal httpx POST (``_floors.py``);
- ``stream``: ``kimi chat "LOREM 20000" --max-tokens 200000 > file`` (20,000 SSE events)
  against a minimal httpx streaming client: wall time, CPU time (user + system, from
  ``os.wait4``) and peak RSS (``ru_maxrss`` of the child);
- ``pty``: ``kimi chat "LOREM 2000"`` and ``"LOREM 20000"`` rendered as Markdown on a 100x40
  pseudo-terminal that a thread drains.

Chats go to a ``kimi emulator`` the bench starts itself (``KIMI_BASE_URL``, ``KIMI_API_KEY``,
``KIMI_MODEL``); ``kimi models`` runs once first, so the model is verified from the cache and a
chat makes no ``/models`` round trip, which the emulator's counters confirm. Installed peers
(``llm``, the ``openai`` CLI, ``sgpt``) run against the same emulator (see ``_peers.py``).

Every figure is a median over the rounds with its min–max; a ratio is the median of the
ratios taken round by round (kimi's run over the floor's run of the same round). Outputs are
checked on every run (the echo, the 20,000 words); a command that fails gets no number.
A full run takes about 6 minutes on 2 cores (1 without peers) and rewrites the generated part of
``docs/performance.md``; ``--quick`` (or ``--only``) prints the tables and writes nothing
unless ``--output`` is given. POSIX only (``os.wait4``, ptys).
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import platform
import re
import shlex
import sys
import tempfile
from collections.abc import Callable, Sequence
from contextlib import nullcontext
from dataclasses import dataclass, field
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _env import MODEL, REPO, Emulator, base_env, clean_interpreter, current_interpreter, emulator
from _floors import write_floors
from _importtime import breakdown
from _peers import Peer, find, install
from _procs import Outcome, Sample, median, run, run_pty

GROUPS = ("version", "help", "echo", "stream", "pty")
REPEATS = {"version": 20, "help": 15, "echo": 10, "stream": 5, "pty": 5}
QUICK = {"version": 3, "help": 3, "echo": 3, "stream": 1, "pty": 1}
STREAM_WORDS = 20_000
BUDGET = "200000"
BEGIN, END = "<!-- bench:begin -->", "<!-- bench:end -->"

Check = Callable[[Outcome], str | None]


@dataclass
class Job:
    key: str
    label: str
    argv: list[str]
    env: dict[str, str]
    check: Check
    pty: bool = False
    samples: list[Sample] = field(default_factory=list)
    failed: str | None = None
    terminal_bytes: list[int] = field(default_factory=list)


@dataclass(frozen=True)
class Target:
    name: str
    numerator: str
    denominator: str
    metric: str  # "wall" | "cpu" | "rss_mib"
    limit: float


TARGETS = (
    Target("`kimi --version` ÷ `python -c pass` (wall)", "kimi-version", "floor-pass", "wall", 3),
    Target("`kimi --help` ÷ `import typer` (wall)", "kimi-help", "floor-typer", "wall", 2.5),
    Target("one-shot ECHO ÷ httpx POST (wall)", "kimi-echo", "floor-post", "wall", 1.4),
    Target("20k-chunk stream ÷ httpx stream (CPU)", "kimi-stream", "floor-stream", "cpu", 1.5),
    Target(
        "20k-chunk stream ÷ httpx stream (peak RSS)", "kimi-stream", "floor-stream", "rss_mib", 1.3
    ),
    Target("Markdown in a pty: 20k words ÷ 2k words (wall)", "kimi-md20k", "kimi-md2k", "wall", 12),
)
FLOORS = {
    "version": "floor-pass",
    "help": "floor-typer",
    "echo": "floor-post",
    "stream": "floor-stream",
    "pty": "kimi-md2k",
}


# -- checks ----------------------------------------------------------------------------------


def exits_zero(outcome: Outcome) -> str | None:
    if outcome.sample.code != 0:
        last = outcome.stderr.decode("utf-8", "replace").strip().splitlines()[-1:] or [""]
        return f"exit {outcome.sample.code}: {last[0][:120]}"
    return None


def prints(expected: str) -> Check:
    def check(outcome: Outcome) -> str | None:
        failed = exits_zero(outcome)
        if failed:
            return failed
        got = outcome.stdout.decode("utf-8", "replace").strip()
        return None if got == expected else f"printed {got[:60]!r}, not {expected!r}"

    return check


def prints_words(count: int) -> Check:
    def check(outcome: Outcome) -> str | None:
        failed = exits_zero(outcome)
        if failed:
            return failed
        words = len(outcome.stdout.split())
        return None if words == count else f"printed {words} words, not {count}"

    return check


def prints_something(outcome: Outcome) -> str | None:
    failed = exits_zero(outcome)
    if failed:
        return failed
    return None if outcome.stdout.strip() else "printed nothing"


def drew(outcome: Outcome) -> str | None:
    failed = exits_zero(outcome)
    if failed:
        return failed
    return None if outcome.terminal_bytes > 0 else "drew nothing"


# -- running ---------------------------------------------------------------------------------


def execute(job: Job, workdir: Path) -> Outcome:
    if job.pty:
        return run_pty(job.argv, job.env)
    return run(job.argv, job.env, workdir, capture=True)


def measure(jobs: Sequence[Job], repeats: int, workdir: Path, log: Callable[[str], None]) -> None:
    """One untimed checked run of each job, then ``repeats`` rounds in rotating order."""
    for job in jobs:
        if job.failed is not None:  # a peer that is not installed
            continue
        outcome = execute(job, workdir)
        job.failed = job.check(outcome)
        if job.failed:
            log(f"  {job.label}: failed ({job.failed})")
    active = [job for job in jobs if job.failed is None]
    for round_ in range(repeats):
        shift = round_ % len(active) if active else 0
        for job in active[shift:] + active[:shift]:
            if job.failed:
                continue
            outcome = execute(job, workdir)
            failed = job.check(outcome)
            if failed:
                job.failed, job.samples = f"failed in round {round_ + 1}: {failed}", []
                continue
            job.samples.append(outcome.sample)
            job.terminal_bytes.append(outcome.terminal_bytes)
        log(f"  round {round_ + 1}/{repeats} done")


def values(job: Job, metric: str) -> list[float]:
    return [float(getattr(sample, metric)) for sample in job.samples]


def ratios(numerator: Job, denominator: Job, metric: str) -> list[float]:
    """Round by round: both ran once in each round, so sample i of each belongs together."""
    pairs = zip(values(numerator, metric), values(denominator, metric), strict=False)
    return [a / b for a, b in pairs if b > 0]


# -- the jobs --------------------------------------------------------------------------------


def build_jobs(
    group: str,
    python: str,
    kimi: str,
    env: dict[str, str],
    emu: Emulator | None,
    floors: tuple[Path, Path],
    peers: Sequence[Peer],
) -> list[Job]:
    chat_env = dict(env)
    if emu is not None:
        chat_env.update(KIMI_BASE_URL=emu.base_url, KIMI_API_KEY="sk-emulator", KIMI_MODEL=MODEL)
    jobs: list[Job] = []
    if group == "version":
        jobs.append(Job("floor-pass", "`python -c pass`", [python, "-c", "pass"], env, exits_zero))
        jobs.append(Job("kimi-version", "`kimi --version`", [kimi, "--version"], env, kimi_ver()))
    elif group == "help":
        argv = [python, "-c", "import typer"]
        jobs.append(Job("floor-typer", '`python -c "import typer"`', argv, env, exits_zero))
        jobs.append(Job("kimi-help", "`kimi --help`", [kimi, "--help"], env, prints_something))
    elif group == "echo":
        assert emu is not None
        post = [python, str(floors[0]), emu.base_url, "sk-emulator", MODEL, "ECHO hi"]
        jobs.append(Job("floor-post", "minimal httpx POST", post, env, prints("hi")))
        argv = [kimi, "chat", "--no-stream", "ECHO hi"]
        label = '`kimi chat --no-stream "ECHO hi"`'
        jobs.append(Job("kimi-echo", label, argv, chat_env, prints("hi")))
    elif group == "stream":
        assert emu is not None
        prompt = f"LOREM {STREAM_WORDS}"
        argv = [python, str(floors[1]), emu.base_url, "sk-emulator", MODEL, prompt, BUDGET]
        jobs.append(
            Job("floor-stream", "minimal httpx SSE client", argv, env, prints_words(STREAM_WORDS))
        )
        argv = [kimi, "chat", prompt, "--max-tokens", BUDGET]
        label = f'`kimi chat "{prompt}" --max-tokens {BUDGET} > file`'
        jobs.append(Job("kimi-stream", label, argv, chat_env, prints_words(STREAM_WORDS)))
    elif group == "pty":
        for words, key in ((2_000, "kimi-md2k"), (20_000, "kimi-md20k")):
            argv = [kimi, "chat", f"LOREM {words}", "--max-tokens", BUDGET]
            label = f'`kimi chat "LOREM {words}"` in a 100x40 pty'
            jobs.append(Job(key, label, argv, chat_env, drew, pty=True))
    if group == "pty":
        return jobs
    for peer in peers:
        key = f"peer-{peer.name}-{group}"
        if peer.exe is None:
            job = Job(key, f"`{peer.name}`", [], env, exits_zero, failed=peer.why_missing)
            jobs.append(job)
            continue
        prompt = {"echo": "ECHO hi", "stream": f"LOREM {STREAM_WORDS}"}.get(group, "")
        check: Check = {
            "echo": prints("hi"),
            "stream": prints_words(STREAM_WORDS),
        }.get(group, prints_something)
        argv = peer.argv(group, prompt)
        shown = " ".join(shlex.quote(a) for a in [peer.name, *argv[1:]])
        peer_env = {**env, **peer.job_env(group)}
        jobs.append(Job(key, f"{peer.label}: `{shown}`", argv, peer_env, check))
    return jobs


def kimi_ver() -> Check:
    from kimi_cli import __version__

    return prints(f"kimi {__version__}")


# -- the report ------------------------------------------------------------------------------


def fmt(xs: Sequence[float], digits: int = 3) -> str:
    if not xs:
        return "–"
    return f"{median(xs):.{digits}f} ({min(xs):.{digits}f}–{max(xs):.{digits}f})"


def group_table(group: str, jobs: Sequence[Job]) -> list[str]:
    floor = next((j for j in jobs if j.key == FLOORS[group]), None)
    rows = [
        "| command | wall s, median (min–max) | CPU s | peak RSS MiB | ÷ floor: wall | CPU | RSS |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    for job in jobs:
        if job.failed is not None or not job.samples:
            rows.append(f"| {job.label} | {job.failed or 'no samples'} | | | | | |")
            continue
        cells = [job.label, fmt(values(job, "wall")), fmt(values(job, "cpu"))]
        cells.append(fmt(values(job, "rss_mib"), 1))
        for metric in ("wall", "cpu", "rss_mib"):
            if floor is None or floor is job or not floor.samples:
                cells.append("1" if floor is job else "–")
            else:
                cells.append(f"{median(ratios(job, floor, metric)):.2f}")
        rows.append("| " + " | ".join(cells) + " |")
    return rows


def target_table(jobs: dict[str, Job]) -> tuple[list[str], list[str]]:
    rows = ["| target | measured (min–max of the rounds) | limit | met |", "|---|---:|---:|:---:|"]
    missed: list[str] = []
    for target in TARGETS:
        num, den = jobs.get(target.numerator), jobs.get(target.denominator)
        if num is None or den is None:
            continue
        got = ratios(num, den, target.metric)
        if not got:
            rows.append(f"| {target.name} | not measured | ≤ {target.limit:g} | – |")
            missed.append(target.name)
            continue
        met = median(got) <= target.limit
        rows.append(
            f"| {target.name} | {fmt(got, 2)} | ≤ {target.limit:g} | {'yes' if met else '**no**'} |"
        )
        if not met:
            missed.append(target.name)
    return rows, missed


def machine() -> list[str]:
    cpu = "unknown"
    memory = ""
    try:
        text = Path("/proc/cpuinfo").read_text(encoding="utf-8")
        found = re.search(r"^model name\s*:\s*(.+)$", text, re.MULTILINE)
        cpu = found.group(1).strip() if found else cpu
        mem = re.search(r"^MemTotal:\s*(\d+) kB", Path("/proc/meminfo").read_text("utf-8"), re.M)
        memory = f", {int(mem.group(1)) / 1024 / 1024:.0f} GiB memory" if mem else ""
    except OSError:
        pass
    return [
        f"- CPU: {cpu}, {os.cpu_count()} cores{memory}",
        f"- OS: {platform.system()} {platform.release()}",
        f"- Python {platform.python_version()} ({sys.executable})",
    ]


def versions() -> str:
    from importlib.metadata import PackageNotFoundError, version

    parts = []
    for name in ("typer", "httpx", "rich"):
        try:
            parts.append(f"{name} {version(name)}")
        except PackageNotFoundError:
            parts.append(f"{name} (none)")
    return ", ".join(parts)


def write_doc(path: Path, block: str) -> None:
    text = f"# Performance\n\n{BEGIN}\n{END}\n"
    if path.exists():
        text = path.read_text(encoding="utf-8")
    if BEGIN not in text or END not in text:
        text = text.rstrip("\n") + f"\n\n{BEGIN}\n{END}\n"
    head, rest = text.split(BEGIN, 1)
    _, tail = rest.split(END, 1)
    path.write_text(f"{head}{BEGIN}\n{block.strip()}\n{END}{tail}", encoding="utf-8")


# -- main ------------------------------------------------------------------------------------


def parse(argv: Sequence[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="few rounds: a smoke run")
    parser.add_argument("--only", default=",".join(GROUPS), help="groups, comma-separated")
    parser.add_argument("--repeat", type=int, help="rounds for every group")
    parser.add_argument("--peers", type=Path, help="a venv holding llm, openai, sgpt")
    parser.add_argument("--no-peers", action="store_true", help="do not look for peers")
    parser.add_argument("--install-peers", type=Path, help="make --peers DIR with pip first")
    parser.add_argument("--in-place", action="store_true", help="run in this environment as is")
    parser.add_argument(
        "--source",
        type=Path,
        default=REPO,
        help="checkout whose kimi_cli to time",
    )
    parser.add_argument("--output", type=Path, help="the Markdown file to update")
    parser.add_argument("--no-importtime", action="store_true", help="skip -X importtime")
    args = parser.parse_args(argv)
    args.groups = [g for g in GROUPS if g in {x.strip() for x in args.only.split(",")}]
    unknown = {x.strip() for x in args.only.split(",")} - set(GROUPS)
    if unknown or not args.groups:
        parser.error(f"--only takes {', '.join(GROUPS)}")
    if args.install_peers:
        args.peers = args.install_peers
    args.source = args.source.resolve()
    if args.in_place and args.source != REPO:
        parser.error("--source needs the clean environment (drop --in-place)")
    default_run = args.source == REPO and not args.quick and args.groups == list(GROUPS)
    if args.output is None and default_run:
        args.output = REPO / "docs" / "performance.md"
    return args


def main(argv: Sequence[str] | None = None) -> int:
    args = parse(sys.argv[1:] if argv is None else argv)
    command = shlex.join(["python", "bench/run.py", *(sys.argv[1:] if argv is None else argv)])

    def log(line: str) -> None:
        print(line, file=sys.stderr, flush=True)

    started = dt.datetime.now(dt.UTC)
    load_before = os.getloadavg()
    why_no_peers: str | None = None
    if args.install_peers:
        log(f"bench: installing peers into {args.install_peers} (pip) ...")
        why_no_peers = install(args.install_peers, sys.executable)
        if why_no_peers:
            log(f"bench: peers not installed: {why_no_peers}")
    with tempfile.TemporaryDirectory(prefix="kimi-bench-") as name:
        tmp = Path(name)
        interp = current_interpreter() if args.in_place else clean_interpreter(tmp, args.source)
        env = base_env(tmp)
        floors = write_floors(tmp)
        workdir = tmp / "io"
        workdir.mkdir()
        needs_emulator = bool({"echo", "stream", "pty"} & set(args.groups))
        all_jobs: dict[str, Job] = {}
        sections: list[str] = []
        notes: list[str] = []
        imports: list[str] = []
        with emulator(interp.python, env, tmp) if needs_emulator else nullcontext() as emu:
            search = [args.peers / "bin"] if args.peers else []
            skip = f"not installed ({why_no_peers})" if why_no_peers else None
            base_url = emu.base_url if emu else "http://127.0.0.1:9/v1"
            peers = [] if args.no_peers else find(search, tmp, base_url, env, skip)
            if emu is not None:
                chat_env = {**env, "KIMI_BASE_URL": emu.base_url, "KIMI_API_KEY": "sk-emulator"}
                primed = run([interp.kimi, "models"], chat_env, workdir)
                if primed.sample.code != 0:
                    raise SystemExit(f"bench: 'kimi models' failed: {primed.stderr[-300:]!r}")
                models_before = emu.requests("GET /v1/models")
                chats_before = emu.requests("POST /v1/chat/completions")
            for group in args.groups:
                repeats = args.repeat or (QUICK if args.quick else REPEATS)[group]
                log(f"bench: {group} ({repeats} rounds)")
                jobs = build_jobs(group, interp.python, interp.kimi, env, emu, floors, peers)
                measure(jobs, repeats, workdir, log)
                all_jobs.update({job.key: job for job in jobs})
                sections += [f"#### {group}", "", *group_table(group, jobs), ""]
            if emu is not None:
                kimi_chats = sum(
                    1 + len(job.samples)
                    for job in all_jobs.values()
                    if job.key in {"kimi-echo", "kimi-stream", "kimi-md2k", "kimi-md20k"}
                )
                models = emu.requests("GET /v1/models") - models_before
                chats = emu.requests("POST /v1/chat/completions") - chats_before
                notes.append(
                    f"- Round trips: the emulator counted {models} `GET /v1/models` during the "
                    f"{kimi_chats} kimi chats timed or warmed up here ({chats} chat requests "
                    "from all clients): the verified model comes from the cache."
                )
                drawn = [
                    f"{all_jobs[key].label} drew {median(all_jobs[key].terminal_bytes):,.0f} bytes"
                    for key in ("kimi-md2k", "kimi-md20k")
                    if key in all_jobs and all_jobs[key].terminal_bytes
                ]
                if drawn:
                    notes.append(f"- Terminal output (median): {'; '.join(drawn)}.")
                if not args.no_importtime:
                    log("bench: -X importtime")
                    chat = {**chat_env, "KIMI_MODEL": MODEL}
                    imports += breakdown(interp.python, interp.kimi, ["--help"], env, "kimi --help")
                    imports += breakdown(
                        interp.python,
                        interp.kimi,
                        ["chat", "--no-stream", "ECHO hi"],
                        chat,
                        'kimi chat --no-stream "ECHO hi"',
                    )
            elif not args.no_importtime and "help" in args.groups:
                imports += breakdown(interp.python, interp.kimi, ["--help"], env, "kimi --help")
    load_after = os.getloadavg()
    targets, missed = target_table(all_jobs)
    lines = [
        f"Measured {started:%Y-%m-%d %H:%M} UTC by `{command}` (from the repository root).",
        "",
        *machine(),
        f"- Run in: {interp.note}",
        f"- kimi's dependencies: {versions()}",
        f"- Load average (1 min) {load_before[0]:.2f} before, {load_after[0]:.2f} after",
        "",
        "### Targets in this run",
        "",
        *targets,
        "",
        "### All figures",
        "",
        "Medians over the rounds (min–max); `÷ floor` is the median of the round-by-round",
        "ratios to the group's first row (for `pty`, to the 2,000-word run).",
        "",
        *sections,
        *notes,
    ]
    if imports:
        lines += ["", "### Import time", "", *imports]
    report = "\n".join(lines) + "\n"
    print(report)
    if args.output:
        write_doc(args.output, report)
        log(f"bench: wrote {args.output}")
    if missed:
        log(f"bench: targets missed: {'; '.join(missed)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
