"""Values for shell completion (``kimi --install-completion``).

A completion runs on every Tab press, inside the user's shell: it must be quick, must not talk
to the network, must not run ``api_key_cmd``, and must never print an error. Model IDs come
from the ``/models`` list cached by ``kimi models``, ``kimi setup`` and ``kimi doctor`` for the
base URL that the environment and the config file resolve to.
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
