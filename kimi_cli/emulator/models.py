"""The emulator's model list: today's live IDs with the metadata ``GET /v1/models`` gives.

Source: docs/api-notes.md, "Models endpoint" (IDs, context windows, the extra fields) and
"Model rules" (sampling, thinking). The emulator keeps its own copy on
purpose: it must not share a table with the client it tests.

A model is a plain dict, exactly as ``/models`` returns it; the rules in ``rules.py`` are derived
from these fields alone, so a model list set through ``/_emulator/config`` behaves consistently.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from typing import Any

_EFFORTS: dict[str, Any] = {
    "support": True,
    "valid_efforts": ["low", "high", "max"],
    "default_effort": "max",
}


def _model(
    model_id: str,
    display_name: str,
    created: int,
    context_length: int,
    *,
    image: bool,
    video: bool,
    thinking_type: str,
    efforts: bool,
) -> dict[str, Any]:
    model: dict[str, Any] = {
        "id": model_id,
        "object": "model",
        "created": created,
        "owned_by": "moonshot",
        "context_length": context_length,
        "display_name": display_name,
        "supports_reasoning": thinking_type != "no",
        "supports_image_in": image,
        "supports_video_in": video,
        "supports_tool_use": True,
        "supports_thinking_type": thinking_type,
    }
    if efforts:
        model["think_efforts"] = copy.deepcopy(_EFFORTS)
    return model


# Creation times are the announced launch dates (UTC midnight); K2.7 Code's is assumed.
DEFAULT_MODELS: tuple[dict[str, Any], ...] = (
    # K3.1 Pro (2026-10-23): 1M context, always reasoning, efforts low/high/max (default max).
    # ASSUMPTION: image input yes (K3 takes images), video input no; no source says either way.
    _model(
        "kimi-k3.1-pro", "Kimi K3.1 Pro", 1792713600, 1048576,
        image=True, video=False, thinking_type="only", efforts=True,
    ),
    _model(
        "kimi-k3.1-pro-highspeed", "Kimi K3.1 Pro Highspeed", 1792713600, 1048576,
        image=True, video=False, thinking_type="only", efforts=True,
    ),
    # K3 (2026-07-16): 1M context, always reasoning, reasoning_effort instead of thinking.
    _model(
        "kimi-k3", "Kimi K3", 1784160000, 1048576,
        image=True, video=False, thinking_type="only", efforts=True,
    ),
    # K2.7 Code: 256K context, always thinking; thinking.type "disabled" is an error.
    _model(
        "kimi-k2.7-code", "Kimi K2.7 Code", 1780272000, 262144,
        image=False, video=False, thinking_type="only", efforts=False,
    ),
    _model(
        "kimi-k2.7-code-highspeed", "Kimi K2.7 Code Highspeed", 1780272000, 262144,
        image=False, video=False, thinking_type="only", efforts=False,
    ),
    # K2.6 (GA 2026-04-20): multimodal, thinking enabled by default, may be disabled.
    _model(
        "kimi-k2.6", "Kimi K2.6", 1776643200, 262144,
        image=True, video=True, thinking_type="both", efforts=False,
    ),
)  # fmt: skip

_THINKING_TYPES = ("only", "both", "no")


def default_models() -> list[dict[str, Any]]:
    """A fresh, mutable copy of the default model list."""
    return copy.deepcopy(list(DEFAULT_MODELS))


def normalize_model(raw: Mapping[str, Any]) -> dict[str, Any]:
    """Check a model dict given through the config API and fill in what it leaves out.

    Raises ``ValueError`` with a one-line reason when the dict cannot describe a model.
    """
    model_id = raw.get("id")
    if not isinstance(model_id, str) or not model_id:
        raise ValueError("every model needs a non-empty string 'id'")
    model: dict[str, Any] = {
        "id": model_id,
        "object": "model",
        "created": 0,
        "owned_by": "moonshot",
        "context_length": 131072,
    }
    model.update(raw)
    context = model["context_length"]
    if isinstance(context, bool) or not isinstance(context, int) or context <= 0:
        raise ValueError(f"model {model_id}: context_length must be a positive integer")
    thinking = model.setdefault(
        "supports_thinking_type", "only" if model.get("supports_reasoning") else "no"
    )
    if thinking not in _THINKING_TYPES:
        raise ValueError(f"model {model_id}: supports_thinking_type must be only, both or no")
    model.setdefault("supports_reasoning", thinking != "no")
    for flag in ("supports_image_in", "supports_video_in"):
        model.setdefault(flag, False)
    model.setdefault("supports_tool_use", True)
    efforts = model.get("think_efforts")
    if efforts is not None:
        valid = efforts.get("valid_efforts") if isinstance(efforts, Mapping) else None
        if not isinstance(valid, list) or not all(isinstance(v, str) for v in valid):
            raise ValueError(f"model {model_id}: think_efforts.valid_efforts must be strings")
    return model


# --- facts the rules derive from the metadata -------------------------------------------------


def thinking_type(model: Mapping[str, Any]) -> str:
    value = model.get("supports_thinking_type")
    if value in _THINKING_TYPES:
        return str(value)
    return "only" if model.get("supports_reasoning") else "no"


def valid_efforts(model: Mapping[str, Any]) -> list[str]:
    """The efforts ``reasoning_effort`` may name; empty when the model takes none."""
    efforts = model.get("think_efforts")
    if not isinstance(efforts, Mapping) or efforts.get("support") is False:
        return []
    valid = efforts.get("valid_efforts")
    return [str(v) for v in valid] if isinstance(valid, list) else []


def has_fixed_sampling(model: Mapping[str, Any]) -> bool:
    """Reasoning models (K2.5 and later) fix temperature, top_p, n and penalties."""
    return thinking_type(model) != "no"


def default_budget(model: Mapping[str, Any]) -> int:
    """Output budget when the request names none: K3 family 131072, else 1024."""
    return 131072 if valid_efforts(model) else 1024


def context_length(model: Mapping[str, Any]) -> int:
    value = model.get("context_length")
    return value if isinstance(value, int) and not isinstance(value, bool) else 131072
