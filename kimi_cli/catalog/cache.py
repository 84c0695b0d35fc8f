"""The /models list, cached per base URL with its fetch time.

``chat`` uses the cache so a verified model costs no round trip; ``models`` and ``doctor``
always ask the API and rewrite the cache. A broken cache file is simply ignored: it is
a cache, and the API can always be asked again.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from kimi_cli.api.client import KimiClient
from kimi_cli.api.types import Model


@dataclass(frozen=True)
class CachedModels:
    base_url: str
    fetched_at: float
    models: tuple[Model, ...]


class ModelCache:
    def __init__(self, cache_dir: Path) -> None:
        self.cache_dir = cache_dir

    def path_for(self, base_url: str) -> Path:
        digest = hashlib.sha256(base_url.rstrip("/").encode()).hexdigest()[:16]
        return self.cache_dir / f"models-{digest}.json"

    def load(self, base_url: str) -> CachedModels | None:
        try:
            data: Any = json.loads(self.path_for(base_url).read_text(encoding="utf-8"))
            return CachedModels(
                base_url=str(data["base_url"]),
                fetched_at=float(data["fetched_at"]),
                models=tuple(Model.from_json(item) for item in data["models"]),
            )
        except (OSError, ValueError, KeyError, TypeError):
            return None

    def save(self, base_url: str, models: list[Model]) -> None:
        """Best effort: a cache that cannot be written only costs a round trip later."""
        payload = {
            "base_url": base_url.rstrip("/"),
            "fetched_at": time.time(),
            "models": [dict(m.raw) or {"id": m.id} for m in models],
        }
        try:
            self.cache_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
            fd, tmp = tempfile.mkstemp(dir=self.cache_dir, prefix=".models-", suffix=".tmp")
            with os.fdopen(fd, "w", encoding="utf-8") as handle:
                json.dump(payload, handle)
            os.replace(tmp, self.path_for(base_url))
        except OSError:
            return


def fetch_models(client: KimiClient, cache: ModelCache | None) -> list[Model]:
    """Ask the API (always) and refresh the cache."""
    models = client.list_models()
    if cache is not None:
        cache.save(client.base_url, models)
    return models
