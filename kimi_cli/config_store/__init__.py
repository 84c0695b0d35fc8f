"""The config file and the facts about its keys: what may be stored, where, and how.

``keys`` holds one spec per config key, ``regions`` the region table, ``source`` the typed
"where a value came from", ``store`` the file itself. ``kimi_cli.config`` re-exports what the
rest of kimi needs.
"""

from kimi_cli.config_store.keys import (
    CONFIG_KEYS,
    SPEC,
    SPECS,
    ConfigKey,
    check_key,
    expected,
    key_problem,
    markdown_table,
    normalize,
    parse_bool,
    parse_text,
)
from kimi_cli.config_store.regions import (
    DEFAULT_REGION,
    KIMI_CODE_HOST,
    REGIONS,
    REGIONS_BY_NAME,
    Region,
    consoles_phrase,
    other_region,
    region_named,
    region_of_host,
)
from kimi_cli.config_store.source import Source, SourceKind
from kimi_cli.config_store.store import (
    VERIFIED_TABLE,
    ConfigStore,
    VerifiedModel,
    atomic_write,
    ensure_private_dir,
    refuse_api_key,
)

__all__ = [
    "CONFIG_KEYS",
    "DEFAULT_REGION",
    "KIMI_CODE_HOST",
    "REGIONS",
    "REGIONS_BY_NAME",
    "SPEC",
    "SPECS",
    "VERIFIED_TABLE",
    "ConfigKey",
    "ConfigStore",
    "Region",
    "Source",
    "SourceKind",
    "VerifiedModel",
    "atomic_write",
    "check_key",
    "consoles_phrase",
    "ensure_private_dir",
    "expected",
    "key_problem",
    "markdown_table",
    "normalize",
    "other_region",
    "parse_bool",
    "parse_text",
    "refuse_api_key",
    "region_named",
    "region_of_host",
]
