"""Values for shell completion (``kimi --install-completion``).

A completion runs on every Tab press, inside the user's shell: it must be quick, must not talk
to the network, must not run ``api_key_cmd``, and must never print an error. Model IDs come
from the ``/models`` list cached by ``kimi models``, ``kimi setup`` and ``kimi doctor`` for the
base URL that the environment and the config file resolve to; conversation IDs from the
history database, only when it exists (a Tab press never creates it); config keys are the
keys ``kimi config set`` takes.
"""

from __future__ import annotations

import os


def complete_model_ids(incomplete: str) -> list[str]:
    """The cached model IDs that start with ``incomplete``; [] when anything is missing."""
    try:
        from kimi_cli.catalog.cache import ModelCache
        from kimi_cli.config import GlobalOptions, default_store, resolve_settings

        env = dict(os.environ)
        settings = resolve_settings(GlobalOptions(), env, default_store(env), run_key_cmd=False)
        cached = ModelCache(settings.cache_dir).load(settings.base_url)
    except Exception:  # a broken config or cache: no suggestions, never a traceback
        return []
    if cached is None:
        return []
    return [model.id for model in cached.models if model.id.startswith(incomplete)]


def complete_config_keys(incomplete: str) -> list[str]:
    """The settings ``kimi config set`` and ``unset`` take that start with ``incomplete``."""
    from kimi_cli.config import CONFIG_KEYS

    return [key for key in CONFIG_KEYS if key.startswith(incomplete)]


def complete_conversation_ids(incomplete: str) -> list[tuple[str, str]]:
    """Saved conversation IDs that start with ``incomplete``, most recent first, each with
    its title (shells that show help beside a value show it)."""
    try:
        from kimi_cli.config import state_dirs
        from kimi_cli.history import HistoryStore

        _, data_dir, _ = state_dirs(dict(os.environ))
        path = data_dir / "history.db"
        if not path.is_file():
            return []
        with HistoryStore(path) as store:
            rows = store.recent(limit=200)
    except Exception:  # an unreadable or locked database: no suggestions, never a traceback
        return []
    return [(row.id, row.title) for row in rows if row.id.startswith(incomplete)]
