"""``api_key_cmd``: a shell command the user configured that prints the key."""

from __future__ import annotations

import contextlib
import os
import signal
import threading
from collections.abc import Iterator
from types import FrameType
from typing import TYPE_CHECKING

from kimi_cli.config.masking import mask_key
from kimi_cli.errors import ConfigError

if TYPE_CHECKING:
    import subprocess

API_KEY_CMD_TIMEOUT = 15.0
_HINT = "run the api_key_cmd of your config file yourself to see why"


def run_api_key_cmd(command: str, *, timeout: float | None = None) -> str:
    """Run ``api_key_cmd`` in a shell and return what it printed, stripped.

    stdin is /dev/null (so a piped prompt is never swallowed); stdout never appears in a message.
    The command runs in its own process group, so a timeout ends everything it started (a
    password manager's agent prompt, ``sleep`` in a pipeline), not only the shell.
    """
    import subprocess  # only this needs it: not imported on every run

    limit = API_KEY_CMD_TIMEOUT if timeout is None else timeout
    # A signal while Popen starts the command would leave it running with nobody to end it:
    # it waits until the command is ours to end (and is then acted on, below).
    with _signals_deferred() as arrived:
        try:
            proc = subprocess.Popen(  # a shell command the user configured
                command,
                shell=True,
                stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                start_new_session=os.name != "nt",
            )
        except OSError as exc:
            raise ConfigError(
                f"api_key_cmd could not start: {exc.strerror or exc}", hint=_HINT
            ) from exc
    with proc:
        try:
            for signum in arrived:
                signal.raise_signal(signum)  # its own handler, now that the command can be ended
            out, err = proc.communicate(timeout=limit)
        except subprocess.TimeoutExpired:
            _end_group(proc)
            with contextlib.suppress(subprocess.TimeoutExpired):
                proc.communicate(timeout=1)
            message = f"api_key_cmd timed out after {limit:g} s"
            raise ConfigError(message, hint=_HINT) from None
        except BaseException:
            # Ctrl-C, SIGTERM: the command's own process group got no signal (the terminal's
            # Ctrl-C goes to kimi's), and leaving ``with`` would wait for it to end.
            _end_group(proc)
            raise
    key = out.decode("utf-8-sig", "replace").strip()  # -sig: a key file a Windows editor saved
    if proc.returncode != 0:
        lines = [line.strip() for line in err.decode("utf-8", "replace").splitlines()]
        first = next((line for line in lines if line), "")[:200]
        if key and len(key) >= 4:
            first = first.replace(key, mask_key(key))
        detail = f": {first}" if first else ""
        raise ConfigError(f"api_key_cmd failed (exit {proc.returncode}){detail}", hint=_HINT)
    if not key:
        raise ConfigError("api_key_cmd printed nothing", hint=_HINT)
    if "\n" in key:
        raise ConfigError(
            "api_key_cmd printed more than one line",
            hint="make it print only the key, e.g. 'pass show kimi | head -n 1'",
        )
    return key


def _end_group(proc: subprocess.Popen[bytes]) -> None:
    if os.name == "nt":
        proc.kill()
        return
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(proc.pid, signal.SIGKILL)  # the shell leads its own group (start_new_session)


@contextlib.contextmanager
def _signals_deferred() -> Iterator[list[int]]:
    """SIGINT, SIGTERM and SIGHUP only recorded while inside (the ones not ignored), then
    their handlers back; the caller raises what arrived. Only the main thread sets handlers."""
    arrived: list[int] = []
    if threading.current_thread() is not threading.main_thread():
        yield arrived
        return
    names = ("SIGINT", "SIGTERM", "SIGHUP")
    numbers = [getattr(signal, name) for name in names if hasattr(signal, name)]
    previous = {n: signal.getsignal(n) for n in numbers}

    def record(signum: int, frame: FrameType | None) -> None:
        arrived.append(signum)

    for number, handler in previous.items():
        if handler is not signal.SIG_IGN and handler is not None:
            signal.signal(number, record)
    try:
        yield arrived
    finally:
        for number, handler in previous.items():
            if handler is not None:
                signal.signal(number, handler)
