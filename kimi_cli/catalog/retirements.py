"""Announced (or reported) model retirements, and what to move to.

Data like the price table: each row says when, the successor Moonshot named (None when it
named none), where the date comes from and how sure it is. Where no successor is named,
``kimi`` suggests the newest live model of the same kind and says it is a suggestion;
it never switches models by itself.

Standard library only (``Model`` is used for its ``id``); no network.
"""

from __future__ import annotations

import json
import os
import re
import tempfile
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING

from kimi_cli.errors import ModelNotFoundError

if TYPE_CHECKING:
    from kimi_cli.api.client import KimiClient
    from kimi_cli.catalog.cache import ModelCache

__all__ = [
    "RETIREMENTS",
    "WARN_DAYS",
    "Retirement",
    "gone_error",
    "retirement_for",
    "retirement_line",
    "retirement_notice",
    "successor_for",
    "warn_if_retiring",
]

WARN_DAYS = 14  # a chat on a model retiring this soon warns (once a day)


@dataclass(frozen=True)
class Retirement:
    model: str
    on: date
    successor: str | None  # named by Moonshot; None when it named none
    source: str
    certainty: str  # "announced" (official) | "reported" (third parties only)


_K2_SOURCE = (
    "third-party: AIHubMix K3.1 migration guide (2026-10-24/25): the K2 series retires at the"
    " end of December 2026; new accounts lost access on 2026-10-31. No official date found."
)
_END_2026 = date(2026, 12, 31)

RETIREMENTS: dict[str, Retirement] = {
    model: Retirement(model, _END_2026, None, _K2_SOURCE, "reported")
    for model in ("kimi-k2.6", "kimi-k2.7-code", "kimi-k2.7-code-highspeed")
}


def retirement_for(model_id: str) -> Retirement | None:
    return RETIREMENTS.get(model_id)


def _kind(model_id: str) -> str:
    return "highspeed" if model_id.endswith("-highspeed") else "standard"


def _version(model_id: str) -> tuple[float, int]:
    """(generation, pro) from an ID such as kimi-k3.1-pro; (0, 0) when it has none."""
    found = re.match(r"kimi-k(\d+(?:\.\d+)?)", model_id)
    return (float(found.group(1)) if found else 0.0, int("-pro" in model_id))


def successor_for(model_id: str, live_ids: Iterable[str]) -> tuple[str | None, bool]:
    """(the model to move to, whether Moonshot named it).

    The named successor when there is one and it is live; otherwise the newest live
    model of the same kind (highspeed or not) that is not itself retiring; (None, False)
    when nothing fits.
    """
    live = [m for m in live_ids if m != model_id]
    retirement = RETIREMENTS.get(model_id)
    if retirement and retirement.successor and retirement.successor in live:
        return retirement.successor, True
    candidates = [
        m for m in live if m not in RETIREMENTS and _kind(m) == _kind(model_id) and _version(m)[0]
    ]
    if not candidates:
        return None, False
    return max(candidates, key=_version), False


def _suggestion(model_id: str, live_ids: Iterable[str]) -> str:
    successor, named = successor_for(model_id, live_ids)
    if successor is None:
        return "see 'kimi models' for the live models"
    return f"successor: {successor}" if named else f"suggested: {successor}"


def retirement_line(model_id: str, live_ids: Iterable[str]) -> str | None:
    """The short form for the model table: "reported to retire 2026-12-31; suggested: …"."""
    retirement = RETIREMENTS.get(model_id)
    if retirement is None:
        return None
    verb = "announced" if retirement.certainty == "announced" else "reported"
    return f"{verb} to retire {retirement.on.isoformat()}; {_suggestion(model_id, live_ids)}"


def retirement_notice(model_id: str, live_ids: Iterable[str]) -> str | None:
    """One sentence for ``doctor`` (or None): when, how sure, and where to move (the command
    is the check's fix: it depends on where the model was set)."""
    retirement = RETIREMENTS.get(model_id)
    if retirement is None:
        return None
    ids = list(live_ids)
    successor, named = successor_for(model_id, ids)
    how = (
        "Moonshot announced"
        if retirement.certainty == "announced"
        else "third parties report (not confirmed by Moonshot)"
    )
    text = f"{model_id}: {how} it retires on {retirement.on.isoformat()}"
    if successor is None:
        return f"{text}; pick another model with 'kimi models'"
    which = "its successor" if named else f"suggested (the newest live {_kind(model_id)} model)"
    return f"{text}; {which}: {successor}"


_STAMP = "retirement-warnings.json"


def warn_if_retiring(
    model_id: str, today: date, state_dir: Path, live_ids: Iterable[str] = ()
) -> str | None:
    """The warning for a chat on ``model_id``, at most once a day per model; else None.

    Warns from ``WARN_DAYS`` days before the date on (also after it: a model reported
    retired that still answers is worth a word). The day of the last warning is kept in
    ``state_dir``; when that cannot be written, it warns (a repeat beats silence).
    """
    retirement = RETIREMENTS.get(model_id)
    if retirement is None or (retirement.on - today).days > WARN_DAYS:
        return None
    path = state_dir / _STAMP
    try:
        stamps = json.loads(path.read_text(encoding="utf-8"))
        stamps = stamps if isinstance(stamps, dict) else {}
    except (OSError, ValueError):
        stamps = {}
    if stamps.get(model_id) == today.isoformat():
        return None
    stamps[model_id] = today.isoformat()
    _save(path, stamps)
    days = (retirement.on - today).days
    how = "announced" if retirement.certainty == "announced" else "reported"
    on = retirement.on.isoformat()
    if days > 0:
        line = f"{model_id} is {how} to retire on {on} (in {days} day{'' if days == 1 else 's'})"
    elif days == 0:
        line = f"{model_id} is {how} to retire today ({on})"
    else:
        line = f"{model_id} was {how} to retire on {on}"
    successor, named = successor_for(model_id, live_ids)
    if successor is None and retirement.successor:
        successor, named = retirement.successor, True
    if successor:
        label = "successor" if named else "suggested"
        return f"{line}; {label}: {successor} — kimi models use {successor}"
    return f"{line}; see 'kimi models'"


def _save(path: Path, stamps: dict[str, str]) -> None:
    try:
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".retire-", suffix=".tmp")
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            json.dump(stamps, handle)
        os.replace(tmp, path)
    except OSError:
        return


def gone_error(
    model_id: str, live_ids: Iterable[str], *, said: str | None = None, earlier: bool = False
) -> ModelNotFoundError:
    """The error for a model the API answered 404 for (``said``: its message).

    ``earlier=True`` is the next run, which sends nothing: the model cache remembers the
    404 (``ModelCache.forgotten``). The hint names the successor or suggestion with the
    exact command; the model is never switched silently.
    """
    ids = list(live_ids)
    if model_id in ids and not earlier:
        reason = f"the API answered 404 for {model_id} although GET /models lists it"
        detail = f" ({said})" if said else ""
        return ModelNotFoundError(
            reason + detail,
            hint="this key may lack access to it; retry",
            notes=("'kimi doctor' checks the key",),
        )
    if earlier:
        reason = f"{model_id} was answered 404 (not served) on an earlier run; nothing was sent"
    else:
        reason = f"{model_id} is no longer served by this API (404{': ' + said if said else ''})"
    successor, named = successor_for(model_id, ids)
    if successor is None:
        return ModelNotFoundError(reason, hint="pick a live model: kimi models")
    return moving_error(reason, successor, named)


def moving_error(reason: str, successor: str, named: bool) -> ModelNotFoundError:
    """A model that is gone, with the live one to move to in its hint and its fields."""
    error = ModelNotFoundError(reason, hint=move_hint(successor, named))
    error.move_to, error.successor_named = successor, named
    return error


def move_hint(successor: str, named: bool, command: str | None = None) -> str:
    """``its successor is X — kimi models use X``; ``command`` instead of the last part."""
    label = "its successor is" if named else "suggested:"
    return f"{label} {successor} — {command or 'kimi models use ' + successor}"


def explain_model_404(
    client: KimiClient, cache: ModelCache | None, model_id: str, said: str | None
) -> ModelNotFoundError:
    """What a 404 on chat means, after one look at the live list (``GET /models``).

    Listed: the key lacks access (not a retirement). Not listed: the model cache forgets it
    at once (the next run sends nothing for it and says why) and the error names the
    successor or suggestion with the exact command. The list cannot be read: the 404 as is.
    """
    from kimi_cli.catalog.cache import fetch_models
    from kimi_cli.errors import KimiError

    try:
        ids = [m.id for m in fetch_models(client, cache)]
    except KimiError:
        return ModelNotFoundError(
            f"the API answered 404 for {model_id} ({said or 'not found or no permission'})",
            hint="see the live list with 'kimi models', then 'kimi models use ID'",
        )
    if model_id not in ids and cache is not None:
        cache.forget(client.base_url, model_id, f"404 on {date.today().isoformat()}: {said or ''}")
    return gone_error(model_id, ids, said=said)
