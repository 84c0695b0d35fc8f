"""A model's end of life, as a conversation meets it (``kimi_cli.catalog.retirements`` has
the table and the wording).

Before a turn: a model that an earlier run saw answer 404 is refused with nothing sent
(exit 5, saying why), and one that retires within two weeks is warned about once a day.
After a 404 on chat: one look at the live list decides what it means — listed, the key
lacks access (said as the API said it); not listed, the model cache forgets it at once and
the error names the successor with the exact command. The model is never switched.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from operator import attrgetter
from pathlib import Path
from typing import TYPE_CHECKING

from kimi_cli.catalog.retirements import (
    explain_model_404,
    gone_error,
    retirement_for,
    warn_if_retiring,
)

if TYPE_CHECKING:
    from collections.abc import Callable

    from kimi_cli.api.client import KimiClient
    from kimi_cli.catalog.cache import ModelCache
    from kimi_cli.errors import ModelNotFoundError, NotFoundError

__all__ = ["ModelWatch"]


@dataclass(frozen=True)
class ModelWatch:
    """The model cache (what was listed, what answered 404) and where the once-a-day
    retirement warnings are stamped."""

    cache: ModelCache | None
    state_dir: Path | None = None

    def before_turn(self, base_url: str, model_id: str, warn: Callable[[str], None]) -> None:
        """Raise for a model that answered 404 on an earlier run; warn if it retires soon."""
        cached = self.cache.load(base_url) if self.cache is not None else None
        live = cached.models if cached is not None else ()
        if cached is not None and model_id in cached.forgotten:
            raise gone_error(model_id, map(attrgetter("id"), live), earlier=True)
        if self.state_dir is None or retirement_for(model_id) is None:
            return
        today = datetime.now(UTC).date()
        line = warn_if_retiring(model_id, today, self.state_dir, map(attrgetter("id"), live))
        if line:
            warn(line)

    def explain_404(
        self, client: KimiClient, model_id: str, error: NotFoundError
    ) -> ModelNotFoundError:
        explained = explain_model_404(client, self.cache, model_id, error.message or None)
        explained.request_id = explained.request_id or error.request_id
        return explained
