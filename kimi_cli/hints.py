"""Fixes worded by where a setting came from: a config command does not beat a variable.

Used by the CLI, the catalog and the doctor alike; it costs nothing to import."""

from __future__ import annotations

from kimi_cli.config_store import Source


def region_fix(region: str, base_url_source: Source) -> str:
    """``kimi config set region cn`` when that is enough; else what beats KIMI_REGION or a flag."""
    command = f"kimi config set region {region}"
    if base_url_source == Source.env("KIMI_REGION"):
        overrides = "it overrides the config file"
        return f"export KIMI_REGION={region} ({overrides}), or unset it and run: {command}"
    if base_url_source.is_flag:
        return f"use --region {region}, or save it: {command}"
    return command


def model_fix(source: Source | None, suggestion: str | None, fallback: str | None) -> str | None:
    """The fix for a model ID the live list lacks, fitted to where the ID came from.

    ``fallback`` is the catalog's own hint (``kimi models use …``, close matches), right for a
    saved model; a variable or a flag would still win over a saved one, so they are named.
    """
    if source is None or not (source.is_env or source.is_flag):
        return fallback
    if source.is_flag:
        return f"use {source.name} {suggestion}" if suggestion else fallback
    change = f"export {source.name}={suggestion}" if suggestion else f"fix {source.name}"
    rest = f"; {fallback}" if fallback and not suggestion else ""
    return (
        f"{change} ({source.name} overrides the saved model), "
        f"or {source.unset_fix('model')} to use the saved one{rest}"
    )


def base_url_fix(base_url: str, source: Source | None) -> str:
    """What to check when ``base_url`` did not answer like the Kimi API, named by where the
    URL came from (the HTTP layer cannot know, so it raises without a hint)."""
    if not base_url.rstrip("/").endswith("/v1"):
        return f"the base URL probably lacks /v1: try {base_url.rstrip('/')}/v1"
    if source is None:
        return "check --base-url / KIMI_BASE_URL and any proxy"
    if source.is_flag and source.name == "--base-url":
        return "check --base-url and any proxy"
    if source.is_env and source.name == "KIMI_BASE_URL":
        return "check KIMI_BASE_URL and any proxy"
    if source.is_file and source.name == "base_url":
        return "check base_url in the config file ('kimi config show') and any proxy"
    # the URL of a region: only KIMI_GLOBAL_BASE_URL / KIMI_CN_BASE_URL or a proxy move it
    return "check KIMI_GLOBAL_BASE_URL / KIMI_CN_BASE_URL and any proxy"
