"""The public face: the ``Emulator`` class (tests) and ``main`` (``kimi emulator``)."""

from __future__ import annotations

import argparse
import os
import sys
import threading
from collections.abc import Mapping, Sequence
from pathlib import Path
from types import TracebackType
from typing import Any, NoReturn

from .faults import FAULT_NAMES
from .server import EmulatorHTTPServer, EmulatorHTTPServer6
from .state import EmulatorState


class Emulator:
    """A Moonshot-compatible server on ``host:port`` (port 0 picks a free one).

    ``with Emulator() as emu:`` serves in a daemon thread; ``emu.base_url`` ends in ``/v1``.
    """

    def __init__(
        self,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        keys: Sequence[str] = ("sk-emulator",),
        faults: Sequence[str] = (),
        models: Sequence[Mapping[str, Any]] | None = None,
        balance: Mapping[str, float] | None = None,
        verbose: bool = False,
    ) -> None:
        self._host = host
        self._port = port
        self._verbose = verbose
        self._state = EmulatorState(keys=keys, faults=faults, models=models, balance=balance)
        self._httpd: EmulatorHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # --- addresses ----------------------------------------------------------------------------

    @property
    def port(self) -> int:
        """The port served on (known once started)."""
        if self._httpd is None:
            return self._port
        return int(self._httpd.server_address[1])

    @property
    def root_url(self) -> str:
        host = self._host
        if host in ("", "0.0.0.0"):
            host = "127.0.0.1"
        elif host == "::":
            host = "::1"
        if ":" in host:
            host = f"[{host}]"
        return f"http://{host}:{self.port}"

    @property
    def base_url(self) -> str:
        return f"{self.root_url}/v1"

    # --- life cycle ---------------------------------------------------------------------------

    def start(self) -> Emulator:
        """Listen and serve in a daemon thread. Raises ``OSError`` if the port cannot be bound."""
        if self._httpd is not None:
            return self
        server_class = EmulatorHTTPServer6 if ":" in self._host else EmulatorHTTPServer
        self._httpd = server_class((self._host, self._port), self._state, self._verbose)
        self._thread = threading.Thread(
            target=self._httpd.serve_forever,
            kwargs={"poll_interval": 0.02},
            name=f"kimi-emulator-{self.port}",
            daemon=True,
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving, wake sleeping streams and close open connections."""
        httpd, thread = self._httpd, self._thread
        if httpd is None:
            return
        httpd.stopping.set()
        httpd.shutdown()
        httpd.server_close()
        httpd.close_connections()
        if thread is not None:
            thread.join(timeout=5)
        self._httpd = None
        self._thread = None

    def __enter__(self) -> Emulator:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    def serve_forever(self) -> None:
        """Serve until KeyboardInterrupt (Ctrl-C), then stop quietly."""
        self.start()
        try:
            while self._httpd is not None and not self._httpd.stopping.wait(0.5):
                pass
        except KeyboardInterrupt:
            pass
        finally:
            self.stop()

    # --- control ------------------------------------------------------------------------------

    def configure(self, **changes: Any) -> dict[str, Any]:
        """As ``POST /_emulator/config``; returns the new config. ``ValueError`` when invalid."""
        return self._state.configure(changes)

    def config(self) -> dict[str, Any]:
        return self._state.config()

    def stats(self) -> dict[str, Any]:
        """As ``GET /_emulator/stats``."""
        return self._state.stats()


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        """One line, as every kimi usage error, then exit 2."""
        _error(message, "see 'kimi emulator --help'")
        raise SystemExit(2)


def _parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="kimi emulator",
        description=(
            "Run a Moonshot-compatible API on this machine: try kimi without a key, or test "
            "against it. Prompts steer it: 'ECHO <text>' answers <text>, 'LOREM <n>' n words."
        ),
    )
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on")
    parser.add_argument("--port", type=int, default=8765, help="port (0 picks a free one)")
    parser.add_argument(
        "--key", action="append", metavar="KEY", help="an accepted API key (repeatable)"
    )
    parser.add_argument(
        "--fault",
        action="append",
        metavar="NAME[:once]",
        help=f"inject a fault (repeatable; each on its own endpoint): {', '.join(FAULT_NAMES)}",
    )
    parser.add_argument("--port-file", metavar="FILE", help="also write the base URL to FILE")
    parser.add_argument(
        "--token-delay",
        type=float,
        default=0.0,
        metavar="SECONDS",
        help="pause between streamed words, to watch an answer arrive (default 0)",
    )
    parser.add_argument("--verbose", action="store_true", help="log each request to stderr")
    return parser


def _error(message: str, hint: str) -> int:
    print(f"kimi: error: {message} — {hint}", file=sys.stderr, flush=True)
    return 2


def _write_port_file(path: str, text: str) -> None:
    """Atomically, so a reader never sees half a line."""
    target = Path(path)
    temp = target.with_name(f".{target.name}.{os.getpid()}.tmp")
    temp.write_text(text + "\n", encoding="utf-8")
    os.replace(temp, target)


def main(argv: Sequence[str] | None = None) -> int:
    """``kimi emulator``: print the base URL, serve until Ctrl-C, exit 0."""
    try:
        args = _parser().parse_args(argv)
    except SystemExit as exc:  # --help (0) or a usage error (2), already printed
        return exc.code if isinstance(exc.code, int) else 2
    try:
        emulator = Emulator(
            host=args.host,
            port=args.port,
            keys=args.key or ("sk-emulator",),
            faults=args.fault or (),
            verbose=args.verbose,
        )
        emulator.configure(token_delay=args.token_delay)
    except ValueError as exc:
        return _error(str(exc), "see 'kimi emulator --help'")
    try:
        try:
            emulator.start()
        except OSError as exc:
            reason = exc.strerror or str(exc)
            return _error(
                f"cannot listen on {args.host}:{args.port}: {reason}",
                "choose another --port (0 picks a free one)",
            )
        if args.port_file:  # first, so that whoever reads the URL on stdout finds the file too
            try:
                _write_port_file(args.port_file, emulator.base_url)
            except OSError as exc:
                emulator.stop()
                return _error(f"cannot write {args.port_file}: {exc.strerror}", "check the path")
        print(emulator.base_url, flush=True)
        emulator.serve_forever()
    except KeyboardInterrupt:
        emulator.stop()
    return 0
