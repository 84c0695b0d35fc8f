"""The /models list, cached per base URL with its fetch time.

``chat`` uses the cache so a verified model costs no round trip; ``models`` and ``doctor``
always ask the API and rewrite the cache. A broken cache file is simply ignored: it is
a cache, and the API can always be asked again.

When the API answers 404 for a model, ``forget`` takes it out of the cache at once and
remembers why, so the next run sends nothing for it and can say so (``forgotten``). A
later listing that has the model again clears the note.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from kimi_cli.api.client import KimiClient
from kimi_cli.api.types import Model


@dataclass(frozen=True)
class CachedModels:
    base_url: str
    fetched_at: float
    models: tuple[Model, ...]
    forgotten: dict[str, str] = field(default_factory=dict)  # model id -> why


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
                forgotten={str(k): str(v) for k, v in dict(data.get("forgotten") or {}).items()},
            )
        except (OSError, ValueError, KeyError, TypeError):
            return None

    def save(self, base_url: str, models: list[Model]) -> None:
        """Best effort: a cache that cannot be written only costs a round trip later."""
        previous = self.load(base_url)
        live = {m.id for m in models}
        notes = {} if previous is None else previous.forgotten
        self._write(
            base_url, time.time(), models, {k: v for k, v in notes.items() if k not in live}
        )

    def forget(self, base_url: str, model_id: str, reason: str) -> None:
        """Drop ``model_id`` from the cached list (the API said 404) and keep ``reason``."""
        previous = self.load(base_url)
        models = [] if previous is None else [m for m in previous.models if m.id != model_id]
        fetched_at = time.time() if previous is None else previous.fetched_at
        notes = {} if previous is None else dict(previous.forgotten)
        notes[model_id] = reason
        self._write(base_url, fetched_at, models, notes)

    def forgotten(self, base_url: str, model_id: str) -> str | None:
        """Why ``model_id`` was dropped from the cache (a 404), or None."""
        cached = self.load(base_url)
        return None if cached is None else cached.forgotten.get(model_id)

    def _write(
        self, base_url: str, fetched_at: float, models: list[Model], forgotten: dict[str, str]
    ) -> None:
        payload = {
            "base_url": base_url.rstrip("/"),
            "fetched_at": fetched_at,
            "models": [dict(m.raw) or {"id": m.id} for m in models],
            "forgotten": forgotten,
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
