"""Running one process and measuring it: wall time, CPU time and peak RSS of the child.

The child is reaped with ``os.wait4`` by a small launcher process (see LAUNCHER), so its
resource usage is its own: the bench's threads and the emulator are not counted. A pty run
gives the child a 100x40 terminal on stdin, stdout and stderr, and a thread drains the other
end as a terminal would. POSIX only.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import signal
import statistics
import struct
import subprocess
import sys
import termios
import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

WIDTH, HEIGHT = 100, 40


@dataclass(frozen=True)
class Sample:
    wall: float  # seconds, from spawn to reaped
    cpu: float  # user + system seconds of the child
    rss_mib: float  # peak resident set size of the child
    code: int  # exit code (negative: killed by that signal)


@dataclass(frozen=True)
class Outcome:
    sample: Sample
    stdout: bytes  # what the child wrote (empty when it went to /dev/null)
    stderr: bytes
    terminal_bytes: int = 0  # bytes a pty run drew


#: Spawns the command, reaps it with wait4 and reports on fd ``argv[1]``. A child's peak RSS
#: includes the memory of the process that forked it (Linux keeps the larger high-water mark
#: across exec), so the command is forked from this small interpreter (``python -S -I``,
#: about 8.5 MiB), not from the bench: figures below that size cannot be seen, all others are
#: the command's own. The wall time is taken here too, from spawn to reaped.
LAUNCHER = """\
import os, sys, time
fd = int(sys.argv[1])
os.set_inheritable(fd, False)
argv = sys.argv[2:]
start = time.perf_counter()
pid = os.posix_spawnp(argv[0], argv, os.environ)
_, status, usage = os.wait4(pid, 0)
wall = time.perf_counter() - start
code = os.waitstatus_to_exitcode(status)
cpu = usage.ru_utime + usage.ru_stime
os.write(fd, f"{wall} {cpu} {usage.ru_maxrss} {code}".encode())
"""


def _launch(
    argv: Sequence[str],
    env: Mapping[str, str],
    stdin: int,
    stdout: int,
    stderr: int,
    timeout: float,
    on_started: Callable[[], None] = lambda: None,
) -> Sample:
    read_end, write_end = os.pipe()
    try:
        proc = subprocess.Popen(
            [sys.executable, "-S", "-I", "-c", LAUNCHER, str(write_end), *argv],
            env=dict(env),
            stdin=stdin,
            stdout=stdout,
            stderr=stderr,
            pass_fds=(write_end,),
            start_new_session=True,
        )
    finally:
        os.close(write_end)
    on_started()
    try:
        with os.fdopen(read_end, "rb") as report:
            timer = threading.Timer(timeout, _kill_group, (proc.pid,))
            timer.start()
            try:
                data = report.read()
                proc.wait()
            finally:
                timer.cancel()
    except BaseException:
        _kill_group(proc.pid)
        raise
    if not data:
        return Sample(float("nan"), float("nan"), float("nan"), proc.returncode or -9)
    wall, cpu, rss_kib, code = data.split()
    return Sample(float(wall), float(cpu), int(rss_kib) / 1024.0, int(code))


def _kill_group(pid: int) -> None:
    with contextlib.suppress(OSError):
        os.killpg(pid, signal.SIGKILL)


def run(
    argv: Sequence[str],
    env: Mapping[str, str],
    workdir: Path,
    *,
    capture: bool = False,
    timeout: float = 600.0,
) -> Outcome:
    """Run ``argv`` with stdin from /dev/null and stdout to a file (read back if ``capture``,
    else to /dev/null); stderr is kept for diagnostics."""
    out_path, err_path = workdir / "stdout", workdir / "stderr"
    with (
        open(err_path, "wb") as err,
        open(out_path if capture else os.devnull, "wb") as out,
        open(os.devnull, "rb") as devnull,
    ):
        sample = _launch(argv, env, devnull.fileno(), out.fileno(), err.fileno(), timeout)
    stdout = out_path.read_bytes() if capture else b""
    return Outcome(sample, stdout, err_path.read_bytes())


def run_pty(argv: Sequence[str], env: Mapping[str, str], *, timeout: float = 600.0) -> Outcome:
    """Run ``argv`` on a pseudo-terminal (100x40) whose other end a thread drains."""
    master, slave = os.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", HEIGHT, WIDTH, 0, 0))
    received = [0]

    def drain() -> None:
        while True:
            try:
                data = os.read(master, 1 << 16)
            except OSError:  # EIO once the child has closed its side
                return
            if not data:
                return
            received[0] += len(data)

    reader = threading.Thread(target=drain, daemon=True)
    reader.start()
    slave_open = [True]

    def close_slave() -> None:  # the child holds it now; EIO on master when it exits
        os.close(slave)
        slave_open[0] = False

    try:
        sample = _launch(argv, env, slave, slave, slave, timeout, close_slave)
        reader.join(timeout=10)
    finally:
        if slave_open[0]:
            os.close(slave)
        os.close(master)
    return Outcome(sample, b"", b"", terminal_bytes=received[0])


def median(values: Sequence[float]) -> float:
    return statistics.median(values) if values else float("nan")
