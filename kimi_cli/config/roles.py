"""Roles: system prompts saved as ``NAME.md`` in the ``roles`` folder of the config dir,
for ``kimi chat --role NAME`` and the REPL's ``/role NAME`` alike."""

from __future__ import annotations

from typing import TYPE_CHECKING

from kimi_cli.errors import UsageError

if TYPE_CHECKING:
    from pathlib import Path


def role_names(roles_dir: Path) -> list[str]:
    try:
        return sorted(p.stem for p in roles_dir.glob("*.md"))
    except OSError:
        return []


def read_role(roles_dir: Path, name: str) -> str:
    """The role's text, stripped; a missing or unreadable role is a usage error (exit 2)."""
    path = roles_dir / f"{name}.md"
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        names = ", ".join(role_names(roles_dir)) or "none yet"
        raise UsageError(
            f"no role named {name!r} (roles: {names})", hint=f"write the system prompt to {path}"
        ) from None
    except OSError as exc:
        raise UsageError(f"cannot read {path} ({exc.strerror or exc})") from None
    try:
        return data.decode("utf-8").strip()
    except UnicodeDecodeError as exc:
        raise UsageError(
            f"{path} is not valid UTF-8 (byte offset {exc.start})",
            hint="save it as UTF-8 text (iconv -t UTF-8)",
        ) from None
