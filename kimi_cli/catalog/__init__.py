"""Model IDs: the live list, its cache, verification, and the request policy per model."""

from kimi_cli.catalog.cache import CachedModels, ModelCache, fetch_models
from kimi_cli.catalog.ids import Diagnosis, diagnose, find_model, normalise, not_found_error, verify
from kimi_cli.catalog.policy import (
    DEFAULT_REASONING_BUDGET,
    ChatOptions,
    ModelPolicy,
    build_body,
    check_options,
    flag_for_message,
    policy_for,
)

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
    "normalise",
    "not_found_error",
    "policy_for",
    "verify",
]
