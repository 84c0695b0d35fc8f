"""Checks of this machine: output encoding, ``kimi`` executables on PATH, versions."""

from __future__ import annotations

import os
import platform
import shutil
from collections.abc import Mapping
from importlib import metadata
from pathlib import Path

from kimi_cli import __version__
from kimi_cli.doctor.report import Check, DoctorContext, Findings, passed, warned

#: What a model may answer with: CJK, typographic punctuation, symbols, an emoji.
SAMPLE = "Kimi 月之暗面 — “OK” ✓ ½ 😀"
VERSIONED = ("httpx", "typer", "rich", "platformdirs", "socksio")
_UTF8 = ("utf-8", "utf8")


def _is_utf8(encoding: str | None) -> bool:
    return (encoding or "").lower().replace("_", "-") in _UTF8


def check_encoding(ctx: DoctorContext, found: Findings) -> Check:
    title = "Output encoding"
    notes: list[str] = []
    fixes: list[str] = []
    for name, encoding in (("stdout", ctx.stdout_encoding), ("stderr", ctx.stderr_encoding)):
        try:
            SAMPLE.encode(encoding or "ascii")
        except (UnicodeEncodeError, LookupError):
            notes.append(
                f"{name} is {encoding or 'of unknown encoding'}: some characters of an "
                "answer would print as ?"
            )
            fixes.append("set PYTHONUTF8=1 (or PYTHONIOENCODING=utf-8)")
    shown = f"stdout {ctx.stdout_encoding}, stderr {ctx.stderr_encoding}"
    if not ctx.windows and ctx.stdout_is_tty and not _is_utf8(ctx.locale_encoding):
        notes.append(f"the terminal's locale is {ctx.locale_encoding}: UTF-8 may show garbled")
        fixes.append("export LANG=C.UTF-8 (or another UTF-8 locale)")
    if notes:
        fix = "; ".join(dict.fromkeys(fixes))
        if ctx.windows:
            fix = f"{fix}; use Windows Terminal, or run chcp 65001"
        return warned("encoding", title, f"{shown}; " + "; ".join(notes), fix)
    return passed("encoding", title, f"{shown}: answers print as sent")


# -- other kimi executables -------------------------------------------------------------------


def _names(ctx: DoctorContext) -> list[str]:
    if not ctx.windows:
        return ["kimi"]
    exts = ctx.env.get("PATHEXT", ".COM;.EXE;.BAT;.CMD").split(";")
    return ["kimi"] + [f"kimi{e.lower()}" for e in exts if e]


def _same(a: Path, b: Path) -> bool:
    try:
        return a.resolve() == b.resolve()
    except OSError:
        return False


def kind_of(path: Path, executable: str | None) -> str:
    """Which ``kimi`` this is, as far as its first bytes (or its location) tell."""
    if executable and _same(path, Path(executable)):
        return "this kimi"
    try:
        resolved = str(path.resolve())
        with path.open("rb") as handle:
            head = handle.read(4096)
    except OSError:
        return "unreadable"
    first_line = head.split(b"\n")[0]
    if "node_modules" in resolved or (first_line.startswith(b"#!") and b"node" in first_line):
        return "a Node/npm package (Kimi Code or another agent)"
    if b"kimi_cli.__main__" in head:
        return "kimi-api (this tool)"
    if b"kimi_cli" in head:
        return "Moonshot's kimi-cli coding agent (Python)"
    return "unknown"


def find_kimis(ctx: DoctorContext) -> list[Path]:
    seen: list[Path] = []
    for entry in ctx.env.get("PATH", "").split(os.pathsep):
        if not entry:
            continue
        for name in _names(ctx):
            candidate = Path(entry) / name
            usable = candidate.is_file() and (ctx.windows or os.access(candidate, os.X_OK))
            if usable and not any(_same(candidate, known) for known in seen):
                seen.append(candidate)
    return seen


def check_path(ctx: DoctorContext, found: Findings) -> Check:
    title = "kimi on PATH"
    path_env = ctx.env.get("PATH", "")
    found_all = find_kimis(ctx)
    winner_text = shutil.which("kimi", path=path_env) if path_env else None
    if not found_all or winner_text is None:
        fix = "run pipx install . in a checkout (it puts kimi on PATH), or add the venv bin dir"
        return warned("path", title, "no kimi executable on PATH", fix)
    winner = Path(winner_text)
    kinds = {p: kind_of(p, ctx.executable) for p in found_all}
    win_kind = next((k for p, k in kinds.items() if _same(p, winner)), kind_of(winner, None))
    ours = win_kind in ("this kimi", "kimi-api (this tool)")
    others = [f"{p} ({k})" for p, k in kinds.items() if not _same(p, winner)]
    detail = f"{winner} wins ({win_kind})"
    if others:
        detail = f"{detail}; also on PATH: " + "; ".join(others)
    if ours:
        return passed("path", title, detail)
    fix = (
        "put kimi-api's directory first in PATH, or install it with pipx so the two never "
        "share an environment (the PyPI name kimi-cli is Moonshot's agent)"
    )
    return warned("path", title, detail, fix)


# -- versions ---------------------------------------------------------------------------------


def read_versions() -> dict[str, str]:
    versions = {
        "kimi": __version__,
        "python": f"{platform.python_version()} ({platform.python_implementation()})",
    }
    for dist in VERSIONED:
        try:
            versions[dist] = metadata.version(dist)
        except metadata.PackageNotFoundError:
            versions[dist] = "not installed"
    versions["platform"] = platform.platform()
    return versions


def format_versions(versions: Mapping[str, str]) -> str:
    return ", ".join(f"{name} {value}" for name, value in versions.items())


def check_versions(ctx: DoctorContext, found: Findings) -> Check:
    versions = ctx.versions if ctx.versions is not None else read_versions()
    return passed("versions", "Versions", format_versions(versions))
