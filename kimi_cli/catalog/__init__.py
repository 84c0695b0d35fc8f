"""Model IDs: the live list, its cache, verification, and the request policy per model.

Names load on first use: the policy (needed to parse chat options) must not pull in the
HTTP stack that the cache and the live list need.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from kimi_cli.catalog.cache import CachedModels, ModelCache, fetch_models
    from kimi_cli.catalog.ids import (
        Diagnosis,
        diagnose,
        find_model,
        normalize,
        not_found_error,
        verify,
    )
    from kimi_cli.catalog.policy import (
        DEFAULT_REASONING_BUDGET,
        ChatOptions,
        ModelPolicy,
        build_body,
        check_options,
        flag_for_message,
        policy_for,
    )

_HOMES = {
    "CachedModels": "cache",
    "ModelCache": "cache",
    "fetch_models": "cache",
    "Diagnosis": "ids",
    "diagnose": "ids",
    "find_model": "ids",
    "normalize": "ids",
    "not_found_error": "ids",
    "verify": "ids",
    "DEFAULT_REASONING_BUDGET": "policy",
    "ChatOptions": "policy",
    "ModelPolicy": "policy",
    "build_body": "policy",
    "check_options": "policy",
    "flag_for_message": "policy",
    "policy_for": "policy",
}

__all__ = [
    "DEFAULT_REASONING_BUDGET",
    "CachedModels",
    "ChatOptions",
    "Diagnosis",
    "ModelCache",
    "ModelPolicy",
    "build_body",
    "check_options",
    "diagnose",
    "fetch_models",
    "find_model",
    "flag_for_message",
    "normalize",
    "not_found_error",
    "policy_for",
    "verify",
]


def __getattr__(name: str) -> Any:
    import importlib

    if name not in _HOMES:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(f"{__name__}.{_HOMES[name]}"), name)
