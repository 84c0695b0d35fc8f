"""Fixes worded by where a setting came from: a config command does not beat a variable.

Used by the CLI and the doctor alike; standard library only, so it costs nothing to import."""

from __future__ import annotations

SET_REGION = "kimi config set region "


def unset_source(source: str, key: str) -> str:
    """How to stop ``source`` (``env X``, ``flag --x``, ``config file``) from setting ``key``."""
    if source.startswith("env "):
        return f"unset {source[4:]}"
    if source.startswith("flag"):
        return f"drop {source[5:] or 'the flag'}"
    if source == "config file":
        return f"kimi config unset {key}"
    return f"change {source}"


def region_fix(hint: str | None, base_url_source: str) -> str | None:
    """``kimi config set region cn`` when that is enough; else what beats KIMI_REGION or a flag."""
    if not hint or not hint.startswith(SET_REGION):
        return hint
    region = hint[len(SET_REGION) :]
    if base_url_source == "env KIMI_REGION":
        overrides = "it overrides the config file"
        return f"export KIMI_REGION={region} ({overrides}), or unset it and run: {hint}"
    if base_url_source.startswith("flag"):
        return f"use --region {region}, or save it: {hint}"
    return hint
