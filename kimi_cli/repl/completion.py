"""Completion candidates for the prompt: slash commands and their arguments. No terminal."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from kimi_cli.errors import KimiError
from kimi_cli.repl.commands import ALIASES, COMMANDS, EFFORT_WORDS, NO_SYSTEM, THINKING_WORDS


def completions(
    text: str,
    model_ids: Callable[[], Sequence[str]],
    roles: Callable[[], Sequence[str]],
) -> list[tuple[str, str, str]]:
    """Completion candidates for the text before the cursor: (insert, display, meta).

    ``insert`` replaces the current word. Only single-line input starting with ``/`` completes.
    """
    if not text.startswith("/") or "\n" in text:
        return []
    name, space, partial = text[1:].partition(" ")
    if not space:
        return [
            (f"/{spec.name}", spec.usage, spec.summary)
            for spec in COMMANDS.values()
            if spec.name.startswith(name.lower())
        ]
    if " " in partial:
        return []
    name = ALIASES.get(name.lower(), name.lower())
    words: Sequence[str] = ()
    if name == "thinking":
        words = THINKING_WORDS
    elif name == "effort":
        words = EFFORT_WORDS
    elif name == "role":
        words = roles()
    elif name == "model":
        try:
            words = model_ids()
        except KimiError:
            words = ()
    elif name == "system":
        words = (NO_SYSTEM,)
    return [(w, w, "") for w in words if w.startswith(partial)]
