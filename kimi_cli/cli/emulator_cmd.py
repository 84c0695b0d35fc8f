"""``kimi emulator``: a local Moonshot-compatible server, to try kimi without a key."""

from __future__ import annotations

import signal
from types import FrameType
from typing import Annotated

import typer


def register(root: typer.Typer) -> None:
    root.command("emulator")(emulator)


def emulator(
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port (0 picks a free one).")] = 8765,
    key: Annotated[
        list[str] | None, typer.Option("--key", help="Accepted API key (repeatable).")
    ] = None,
    fault: Annotated[
        list[str] | None,
        typer.Option("--fault", help="Inject a fault: NAME or NAME:once (see docs/emulator.md)."),
    ] = None,
    port_file: Annotated[
        str | None, typer.Option("--port-file", help="Write the base URL to this file.")
    ] = None,
    token_delay: Annotated[
        float, typer.Option("--token-delay", help="Seconds between streamed words (to watch).")
    ] = 0.0,
    verbose: Annotated[bool, typer.Option(help="Log requests to stderr.")] = False,
) -> None:
    """Run a Moonshot-compatible API on this machine (default key sk-emulator).

    Example: kimi emulator --port 8765 & KIMI_BASE_URL=http://127.0.0.1:8765/v1
    KIMI_API_KEY=sk-emulator kimi models
    """
    if not 0 <= port <= 65535:
        raise typer.BadParameter(f"{port} is not a port (0 to 65535)", param_hint="'--port'")
    from kimi_cli.emulator import main

    # SIGTERM is how a background server is normally stopped: stop as quietly as Ctrl-C.
    signal.signal(signal.SIGTERM, _stop)
    argv = ["--host", host, "--port", str(port)]
    for k in key or []:
        argv += ["--key", k]
    for f in fault or []:
        argv += ["--fault", f]
    if port_file:
        argv += ["--port-file", port_file]
    if token_delay:
        argv += ["--token-delay", str(token_delay)]
    if verbose:
        argv.append("--verbose")
    code = main(argv)
    if code:
        raise typer.Exit(code)


def _stop(signum: int, frame: FrameType | None) -> None:
    raise KeyboardInterrupt
