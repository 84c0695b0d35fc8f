"""Model IDs: accept only what the live list contains, and explain everything else.

People paste gateway IDs (``moonshotai/kimi-k2.6``), dash forms (``kimi-k2-6``), product
names ("Kimi K2.6") and retired IDs. None of them is ever substituted silently: the error
names the cause and the exact ID to use, when the live list has one.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Sequence
from dataclasses import dataclass

from kimi_cli.api.types import Model
from kimi_cli.errors import ModelNotFoundError

# Prefixes used by gateways for Moonshot's models (docs/api-notes.md#models-endpoint).
GATEWAY_PREFIXES: tuple[tuple[str, str], ...] = (
    ("openrouter/moonshotai/", "an OpenRouter"),
    ("@cf/moonshotai/", "a Cloudflare Workers AI"),
    ("moonshotai/", "a gateway (OpenRouter, Together, Groq or Vercel)"),
    ("moonshot/", "an AI/ML API or LiteLLM"),
    ("kimi/", "an Alibaba Model Studio"),
)

# IDs the API no longer serves, with when they went (docs/api-notes.md#model-retirement).
# Only used to explain a refusal; whether an ID works is always decided by /models.
RETIRED: dict[str, str] = {
    "moonshot-v1-8k": "2026-08-31",
    "moonshot-v1-32k": "2026-08-31",
    "moonshot-v1-128k": "2026-08-31",
    "moonshot-v1-auto": "2026-08-31",
    "moonshot-v1-8k-vision-preview": "2026-08-31",
    "moonshot-v1-32k-vision-preview": "2026-08-31",
    "moonshot-v1-128k-vision-preview": "2026-08-31",
    "kimi-latest": "2026-01-28",
    "kimi-thinking-preview": "2025-11-11",
    "kimi-k2-0711-preview": "2026-05-25",
    "kimi-k2-0905-preview": "2026-05-25",
    "kimi-k2-turbo-preview": "2026-05-25",
    "kimi-k2-thinking": "2026-05-25",
    "kimi-k2-thinking-turbo": "2026-05-25",
    "kimi-k2.5": "2026-08-31",
}

# IDs that exist only on the Kimi Code endpoint (docs/api-notes.md#models-endpoint).
KIMI_CODE_ONLY = {"kimi-for-coding", "kimi-for-coding-highspeed", "k3", "k3-256k", "k3.1-pro"}


@dataclass(frozen=True)
class Diagnosis:
    """Why an ID is not in the live list, and what to use instead."""

    reason: str
    suggestion: str | None
    close_matches: tuple[str, ...]
    retired: str | None = None  # the retired ID it names, when it names one


def normalize(model_id: str) -> str:
    """The official spelling a pasted ID most likely means (not a verdict)."""
    text = model_id.strip()
    lowered = text.lower()
    for prefix, _ in GATEWAY_PREFIXES:
        if lowered.startswith(prefix):
            text = text[len(prefix) :]
            break
    text = text.strip().lower()
    text = re.sub(r"\s+", "-", text)  # "Kimi K2.6" -> "kimi-k2.6"
    if not text.startswith(("kimi", "moonshot")) and re.match(r"k\d", text):
        text = "kimi-" + text
    # Dash-for-dot: kimi-k2-6 -> kimi-k2.6, kimi-k3-1-pro -> kimi-k3.1-pro
    return re.sub(r"^(kimi-k\d+)-(\d+)(?=$|-)", r"\1.\2", text)


def diagnose(model_id: str, live_ids: Sequence[str]) -> Diagnosis:
    live = set(live_ids)
    lowered = model_id.strip().lower()
    candidate = normalize(model_id)
    suggestion = candidate if candidate in live else None
    close = tuple(
        m
        for m in difflib.get_close_matches(candidate, live_ids, n=3, cutoff=0.6)
        if m != suggestion
    )
    gateway = next((name for prefix, name in GATEWAY_PREFIXES if lowered.startswith(prefix)), None)
    if gateway:
        reason = f"'{model_id}' is {gateway} ID, not a Moonshot API model ID"
    elif lowered in KIMI_CODE_ONLY:
        reason = f"'{model_id}' is a Kimi Code model ID; the Open Platform does not serve it"
    elif lowered in RETIRED or candidate in RETIRED:
        retired = lowered if lowered in RETIRED else candidate
        reason = f"'{model_id}' was retired by Moonshot ({RETIRED[retired]})"
        return Diagnosis(reason, suggestion, close, retired)
    elif suggestion and suggestion != model_id:
        reason = f"'{model_id}' is not a model ID (the API spells it '{suggestion}')"
    else:
        reason = f"'{model_id}' is not in this account's model list (GET /models)"
    return Diagnosis(reason=reason, suggestion=suggestion, close_matches=close)


def not_found_error(model_id: str, models: Sequence[Model]) -> ModelNotFoundError:
    ids = [m.id for m in models]
    from kimi_cli.catalog.retirements import RETIREMENTS, gone_error, moving_error, successor_for

    if model_id in RETIREMENTS and ids:  # reported retiring and now gone: name where to move
        return gone_error(model_id, ids)
    found = diagnose(model_id, ids)
    successor, named = successor_for(found.retired, ids) if found.retired else (None, False)
    if successor:  # where Moonshot (or kimi) says to move, not a look-alike that may retire too
        return moving_error(found.reason, successor, named)
    notes: tuple[str, ...] = ()
    if found.suggestion:
        hint = f"use '{found.suggestion}': kimi models use {found.suggestion}"
    elif found.close_matches:
        hint = "close matches: " + ", ".join(found.close_matches) + " ('kimi models' lists all)"
    elif ids:
        hint = "available: " + ", ".join(ids[:8]) + " ('kimi models use ID' picks one)"
    else:
        hint, notes = "this key sees no models at all", ("check 'kimi doctor'",)
    return ModelNotFoundError(found.reason, hint=hint, notes=notes)


def find_model(model_id: str, models: Sequence[Model]) -> Model | None:
    """Exact match only: case and spelling matter to the API, so they matter here."""
    return next((m for m in models if m.id == model_id), None)


def verify(model_id: str, models: Sequence[Model]) -> Model:
    model = find_model(model_id, models)
    if model is None:
        raise not_found_error(model_id, models)
    return model
