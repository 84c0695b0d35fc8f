"""Settings: what ``kimi`` runs with, and where each value came from.

Every setting resolves the same way: flag > environment > config file > built-in default, and
remembers its ``Source`` so that ``kimi config show`` and ``kimi doctor`` can say why a value is
what it is (``resolve``). The config file itself, the spec of each key and the region table live
in ``kimi_cli.config_store`` and are re-exported here. Standard library, platformdirs and the
errors module only: no rich, typer or httpx; tomlkit only when writing, keyring only when the
key lives in the OS keychain.
"""

from __future__ import annotations

from kimi_cli.config.masking import mask_key
from kimi_cli.config.resolve import resolve_settings
from kimi_cli.config.settings import (
    GlobalOptions,
    Settings,
    coerce_value,
    default_store,
    env_value,
    region_url,
    state_dirs,
)
from kimi_cli.config_store import (
    CONFIG_KEYS,
    DEFAULT_REGION,
    KIMI_CODE_HOST,
    REGIONS,
    REGIONS_BY_NAME,
    SPEC,
    ConfigStore,
    Region,
    Source,
    SourceKind,
    VerifiedModel,
    consoles_phrase,
    other_region,
    parse_bool,
    region_named,
)

DEFAULT_TIMEOUT: float = SPEC["timeout"].default
DEFAULT_MAX_RETRIES: int = SPEC["max_retries"].default

__all__ = [
    "CONFIG_KEYS",
    "DEFAULT_MAX_RETRIES",
    "DEFAULT_REGION",
    "DEFAULT_TIMEOUT",
    "KIMI_CODE_HOST",
    "REGIONS",
    "REGIONS_BY_NAME",
    "ConfigStore",
    "GlobalOptions",
    "Region",
    "Settings",
    "Source",
    "SourceKind",
    "VerifiedModel",
    "coerce_value",
    "consoles_phrase",
    "default_store",
    "env_value",
    "mask_key",
    "other_region",
    "parse_bool",
    "region_named",
    "region_url",
    "resolve_settings",
    "state_dirs",
]
