"""Asking the other region whether it knows a key, after a 401 — and only then.

A wrong-region key and a bad key get the same 401; the other region's answer tells them
apart. Nothing here is built (no URL, no client) for a run that never sees a 401: callers
hand ``kimi_cli.catalog.access`` a function that makes the probe when it is needed.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from kimi_cli.errors import KimiError

if TYPE_CHECKING:
    from kimi_cli.catalog.access import ClientFactory
    from kimi_cli.config import Settings


@dataclass(frozen=True)
class OtherRegion:
    name: str  # "cn" or "global"
    base_url: str
    #: The command that switches to it, as the caller knows best (a saved region, or an
    #: environment variable that would beat it, or a setup not saved yet).
    fix: str | None = None

    @property
    def switch_hint(self) -> str:
        return self.fix or f"kimi config set region {self.name}"


@dataclass(frozen=True)
class RegionProbe:
    """How to ask the other region whether it knows a key."""

    settings: Settings
    api_key: str
    make_client: ClientFactory
    #: The switch command with ``{region}`` (setup's own); default: worded by the URL's source.
    fix_template: str | None = None

    def find(self) -> OtherRegion | None:
        """The other region, if the same key works there; None if not or if it cannot tell."""
        facts = self.settings.other_region_facts()
        if facts is None:
            return None
        region, url = facts
        try:
            self.make_client(url, self.api_key).list_models()
        except KimiError:
            return None
        if self.fix_template is not None:
            fix = self.fix_template.format(region=region.name)
        else:
            from kimi_cli.hints import region_fix

            fix = region_fix(region.name, self.settings.base_url_source)
        return OtherRegion(region.name, url, fix)
